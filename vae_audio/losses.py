"""σ-VAE training losses: multi-scale mel L1, multi-resolution STFT, LSGAN and feature matching, plus
the terms on a spectral head's predicted spectra (`vae_audio.head_apnet.spectral_losses`).

All spectral terms are computed in float32 whatever the autocast dtype.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_audio.config import LossConfig
from vae_audio.discriminators import DiscOutput
from vae_audio.head_apnet import Spectra, spectral_losses
from vae_audio.head_hnm import F0Loss, F0Prediction
from vae_audio.spectral import MelSpectrogram, stft_magnitude

MEL_WINDOWS = (64, 128, 256, 512, 1024, 2048)  # hop = window / 4
MEL_BANDS = (5, 10, 20, 40, 80, 160)
STFT_RESOLUTIONS = (512, 1024, 2048)  # hop = n_fft / 4


class MultiScaleMelLoss(nn.Module):
    """Mean over scales of L1 between log10 mel magnitudes (clamped at 1e-5). (B, S), (B, S) -> scalar."""

    def __init__(self, sample_rate: int, windows=MEL_WINDOWS, bands=MEL_BANDS):
        super().__init__()
        with warnings.catch_warnings():  # the narrowest windows leave a few mel bands empty: harmless
            warnings.simplefilter("ignore")
            self.mels = nn.ModuleList(MelSpectrogram(sample_rate, w, w // 4, n) for w, n in zip(windows, bands))

    def forward(self, x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        total = 0.0
        for mel in self.mels:
            total = total + F.l1_loss(torch.log10(mel(x_hat).clamp(min=1e-5)), torch.log10(mel(x).clamp(min=1e-5)))
        return total / len(self.mels)


class MultiResolutionSTFTLoss(nn.Module):
    """Spectral convergence + log-magnitude L1, averaged over resolutions. (B, S), (B, S) -> scalar."""

    def __init__(self, ffts=STFT_RESOLUTIONS):
        super().__init__()
        self.ffts = ffts
        for n in ffts:
            self.register_buffer(f"window_{n}", torch.hann_window(n), persistent=False)

    def forward(self, x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        total = 0.0
        for n in self.ffts:
            window = getattr(self, f"window_{n}")
            a, b = stft_magnitude(x_hat, n, n // 4, window), stft_magnitude(x, n, n // 4, window)
            sc = torch.linalg.norm(b - a) / torch.linalg.norm(b).clamp(min=1e-7)
            total = total + sc + F.l1_loss(torch.log(a.clamp(min=1e-5)), torch.log(b.clamp(min=1e-5)))
        return total / len(self.ffts)


def discriminator_loss(real: list[DiscOutput], fake: list[DiscOutput]) -> torch.Tensor:
    """LSGAN: real logits towards 1, decoded logits towards 0, summed over sub-discriminators."""
    return sum(torch.mean((1 - r.float()) ** 2) + torch.mean(f.float() ** 2) for (r, _), (f, _) in zip(real, fake))


def adversarial_loss(fake: list[DiscOutput]) -> torch.Tensor:
    return sum(torch.mean((1 - f.float()) ** 2) for f, _ in fake)


def feature_matching_loss(real: list[DiscOutput], fake: list[DiscOutput]) -> torch.Tensor:
    """Mean L1 between each feature map of real and decoded audio (real side detached)."""
    terms = [F.l1_loss(f.float(), r.detach().float()) for (_, rf), (_, ff) in zip(real, fake) for r, f in zip(rf, ff)]
    return sum(terms) / len(terms)


class GeneratorLoss(nn.Module):
    """Weighted sum of the generator's terms; returns (total, {name: value}) for logging."""

    def __init__(self, sample_rate: int, weights: LossConfig, f0_loss: F0Loss | None = None):
        super().__init__()
        self.w = weights
        self.mel = MultiScaleMelLoss(sample_rate)
        self.stft = MultiResolutionSTFTLoss()
        self.f0_loss = f0_loss  # head="hnm": F0 and voicing against pyworld (`head_hnm.f0_loss_for`)

    def forward(
        self,
        x_hat,
        x,
        mu,
        real: list[DiscOutput] | None = None,
        fake: list[DiscOutput] | None = None,
        spectra: Spectra | None = None,
        f0: F0Prediction | None = None,
    ):
        """`spectra`: a spectral head's prediction (`VAEOutput.spectra`); its terms are computed when given
        and one of their weights is non-zero."""
        terms = {"mel": self.mel(x_hat, x), "stft": self.stft(x_hat, x), "mu_l2": mu.float().square().mean()}
        w = self.w
        if spectra is not None and (w.amplitude or w.phase or w.real_imag or w.consistency):
            terms.update(spectral_losses(spectra, x_hat, x))
        if f0 is not None and self.f0_loss is not None:  # `f0`: head="hnm"'s prediction (`VAEOutput.f0`)
            terms.update(self.f0_loss(f0, x))
        if fake is not None:
            terms["adv"] = adversarial_loss(fake)
            terms["fm"] = feature_matching_loss(real, fake)
        weights = {
            "mel": self.w.mel,
            "stft": self.w.stft,
            "mu_l2": self.w.mu_l2,
            "adv": self.w.adversarial,
            "fm": self.w.feature_matching,
            "amplitude": self.w.amplitude,
            "phase": self.w.phase,
            "real_imag": self.w.real_imag,
            "consistency": self.w.consistency,
            "f0": self.w.f0,
            "voicing": self.w.voicing,
        }
        total = sum(weights[k] * v for k, v in terms.items())
        return total, {k: float(v.detach()) for k, v in terms.items()}
