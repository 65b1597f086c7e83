"""Discriminators for σ-VAE training: multi-period (HiFi-GAN) and multi-resolution STFT (Vocos).

Each sub-discriminator maps (B, S) audio to (logits, [feature maps]); `Discriminators` runs them
all and returns one list entry per sub-discriminator.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import weight_norm

from vae_audio.config import VAEConfig
from vae_audio.spectral import stft_magnitude

DiscOutput = tuple[torch.Tensor, list[torch.Tensor]]  # (logits, feature maps)


def conv_stack(convs: nn.ModuleList, out: nn.Module, x: torch.Tensor) -> DiscOutput:
    """Leaky-ReLU conv stack then the logit conv; every layer's output is a feature map."""
    feats = []
    for conv in convs:
        x = F.leaky_relu(conv(x), 0.1)
        feats.append(x)
    x = out(x)
    feats.append(x)
    return x.flatten(1), feats


class PeriodDiscriminator(nn.Module):
    """Folds (B, S) into (B, 1, S / p, p) and applies 2-D convs along time, one column per phase."""

    def __init__(self, period: int, ch: int):
        super().__init__()
        self.period = period
        widths = [1, ch, 2 * ch, 4 * ch, 8 * ch]
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(cin, cout, (5, 1), (3, 1), padding=(2, 0))) for cin, cout in zip(widths, widths[1:])
        )
        self.convs.append(weight_norm(nn.Conv2d(widths[-1], widths[-1], (5, 1), 1, padding=(2, 0))))
        self.out = weight_norm(nn.Conv2d(widths[-1], 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x: torch.Tensor) -> DiscOutput:
        b, s = x.shape
        x = F.pad(x, (0, (-s) % self.period), mode="reflect").reshape(b, 1, -1, self.period)
        return conv_stack(self.convs, self.out, x)


class ResolutionDiscriminator(nn.Module):
    """2-D convs over the log-magnitude STFT (B, 1, frames, bins) at one resolution."""

    def __init__(self, n_fft: int, ch: int):
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList(
            [
                weight_norm(
                    nn.Conv2d(1, ch, (3, 9), stride=(1, 2), padding=(1, 4))
                ),  # Vocos: stride 1; 4x cheaper on CPU
                *(weight_norm(nn.Conv2d(ch, ch, (3, 9), stride=(1, 2), padding=(1, 4))) for _ in range(3)),
                weight_norm(nn.Conv2d(ch, ch, (3, 3), padding=(1, 1))),
            ]
        )
        self.out = weight_norm(nn.Conv2d(ch, 1, (3, 3), padding=(1, 1)))

    def forward(self, x: torch.Tensor) -> DiscOutput:
        mag = stft_magnitude(x, self.n_fft, self.n_fft // 4, self.window)  # (B, F, T)
        x = torch.log(mag.clamp(min=1e-5)).transpose(1, 2).unsqueeze(1).to(x.dtype)  # (B, 1, T, F)
        return conv_stack(self.convs, self.out, x)


class Discriminators(nn.Module):
    """All sub-discriminators; (B, S) -> list of (logits, features), periods first, then resolutions."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.subs = nn.ModuleList(
            [PeriodDiscriminator(p, cfg.disc_channels) for p in cfg.mpd_periods]
            + [ResolutionDiscriminator(n, cfg.disc_channels) for n in cfg.mrd_ffts]
        )

    def forward(self, x: torch.Tensor) -> list[DiscOutput]:
        return [d(x) for d in self.subs]
