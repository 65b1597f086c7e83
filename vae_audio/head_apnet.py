"""APNet-style decoder head (`VAEConfig.head = "apnet"`) and the losses that need its spectra.

The head predicts each frame's log-amplitude A and, through two parallel outputs R and I, its phase
φ = atan2(I, R) (the "parallel phase estimation" of APNet / APNet2: Ai & Ling 2023, Du et al. 2023;
FreeV, Lv et al. 2024, keeps that phase branch and its losses; its mel pseudo-inverse amplitude prior
has no counterpart for latents). The spectrum exp(A) · e^{iφ} then goes through the same causal
inverse STFT as `ISTFTHead`: frame t covers samples [t * hop, t * hop + n_fft), so sample n depends
only on frames <= n // hop, and streaming carries the overlap in the cache.

Synthesis never forms the angle: cos φ = R / |R + iI| and sin φ = I / |R + iI| are real-only
operations, which the ONNX export (no atan2 at opset 17, no complex tensors) shares. The angle itself
is only needed by the phase losses.

Losses (`spectral_losses`, weights in `LossConfig`, all 0 by default), on the frames whose window lies
inside the training crop, against the target's STFT with the same causal framing and window:
amplitude (log-amplitude MSE), phase (anti-wrapping instantaneous phase + group delay +
instantaneous angular frequency), real/imaginary L1, and STFT consistency (the predicted spectrum
against the STFT of the head's own output, on frames clear of the first frames' fade-in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_audio.modules import causal_istft

# The loss weights recommended with this head, beside the default mel 15, STFT 1 and μ L2 0.01. Light on
# purpose: without a GAN, at equal CPU time, APNet's own ratios (45 A + 100 P + 20 (C + 2.25 (R + I)) against
# 45 ln-mel; here amplitude 6, phase 12, real_imag 3, consistency 0.5) held the mel distance far behind
# (README). Frame t's window reaches up to 40 ms past what its latents encode, so its absolute phase is mostly
# unpredictable and the phase term hardly falls.
RECOMMENDED_LOSS = {"amplitude": 0.5, "phase": 0.5, "real_imag": 2.0, "consistency": 1.0}


@dataclass
class Spectra:
    """A head's per-frame prediction (B, T, F = n_fft // 2 + 1); frame t is meant to be the spectrum of
    `window · audio[t * hop : t * hop + n_fft]`, the framing of `causal_stft`."""

    log_amp: torch.Tensor  # (B, T, F) A, natural log
    real: torch.Tensor  # (B, T, F) R
    imag: torch.Tensor  # (B, T, F) I: the phase is atan2(I, R)
    window: torch.Tensor  # (n_fft,) the analysis/synthesis window of that framing
    hop: int

    def phase(self) -> torch.Tensor:
        return torch.atan2(self.imag, self.real)

    def complex_parts(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Real and imaginary parts (B, T, F) of exp(A) · e^{iφ}, with real-valued operations only."""
        mag = torch.exp(self.log_amp).clamp(max=100.0)
        inv = torch.rsqrt((self.real * self.real + self.imag * self.imag).clamp(min=1e-24))  # 1 / |R + iI|
        return mag * self.real * inv, mag * self.imag * inv


class APNetHead(nn.Module):
    """(B, C, T) frames -> (B, T * hop) audio, through a log-amplitude and a parallel (R, I) phase output."""

    def __init__(self, dim: int, n_fft: int, hop: int):
        super().__init__()
        assert n_fft % hop == 0, "the iSTFT window must be a whole number of hops"
        self.n_fft, self.hop = n_fft, hop
        self.amp = nn.Linear(dim, n_fft // 2 + 1)
        self.real = nn.Linear(dim, n_fft // 2 + 1)
        self.imag = nn.Linear(dim, n_fft // 2 + 1)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.envelope = float(self.window.square().sum()) / hop  # as ISTFTHead: the flat overlap-added window²

    def spectra(self, x: torch.Tensor) -> Spectra:
        h = x.transpose(1, 2).float()  # (B, T, C)
        return Spectra(self.amp(h), self.real(h), self.imag(h), self.window, self.hop)

    def spectrum(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, T) -> real and imaginary parts (B, T, F) of each frame's spectrum (also the ONNX path)."""
        return self.spectra(x).complex_parts()

    def synthesize(self, spectra: Spectra, cache: dict | None = None) -> torch.Tensor:
        """Spectra of T frames -> (B, T * hop) samples; the overlap beyond goes to the cache when streaming."""
        re, im = spectra.complex_parts()
        prev = None if cache is None else cache.get(self)
        audio, overlap = causal_istft(torch.complex(re, im), self.window, self.hop, self.envelope, prev)
        if cache is not None:
            cache[self] = overlap
        return audio

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        return self.forward_with_spectra(x, cache)[0]

    def forward_with_spectra(self, x: torch.Tensor, cache: dict | None = None) -> tuple[torch.Tensor, Spectra]:
        """(B, C, T) -> audio (B, T * hop) and the spectra it was made from (for `spectral_losses`)."""
        with torch.autocast(x.device.type, enabled=False):  # spectra and iSTFT in float32
            spectra = self.spectra(x)
            return self.synthesize(spectra, cache), spectra


def causal_stft(x: torch.Tensor, window: torch.Tensor, hop: int) -> torch.Tensor:
    """(B, S) -> complex (B, frames, F): frame t = rfft(window · x[t * hop : t * hop + n_fft]), for every frame
    whose window lies inside x (the framing the causal iSTFT inverts)."""
    spec = torch.stft(x.float(), window.shape[0], hop, window=window, center=False, return_complex=True)
    return spec.transpose(1, 2)


def anti_wrap(x: torch.Tensor) -> torch.Tensor:
    """|x - 2π · round(x / 2π)|: the distance of a phase difference to the nearest multiple of 2π, in [0, π]."""
    return torch.abs(x - 2 * math.pi * torch.round(x / (2 * math.pi)))


def _mean(x: torch.Tensor) -> torch.Tensor:
    return x.mean() if x.numel() else x.new_zeros(())


def phase_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Anti-wrapping instantaneous phase + group delay (difference along frequency) + instantaneous angular
    frequency (difference along time) losses. (B, T, F), (B, T, F) -> scalar."""
    ip = _mean(anti_wrap(pred - target))
    gd = _mean(anti_wrap(torch.diff(pred, dim=2) - torch.diff(target, dim=2)))
    iaf = _mean(anti_wrap(torch.diff(pred, dim=1) - torch.diff(target, dim=1)))
    return ip + gd + iaf


def spectral_losses(spectra: Spectra, x_hat: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """APNet's losses on predicted spectra (B, T, F) of decoded audio x_hat against the target x, both (B, T * hop).

    The target side covers the frames whose window lies inside x (T - n_fft / hop + 1); the consistency
    term also skips the first n_fft / hop - 1 frames, whose samples miss the overlap of frames before the crop.
    """
    target = causal_stft(x, spectra.window, spectra.hop)  # (B, n, F)
    n = target.shape[1]
    re, im = (p[:, :n] for p in spectra.complex_parts())
    skip = spectra.window.shape[0] // spectra.hop - 1
    resynth = causal_stft(x_hat, spectra.window, spectra.hop)[:, skip:]  # the head's own output, re-analysed
    return {
        "amplitude": F.mse_loss(spectra.log_amp[:, :n], torch.log(target.abs().clamp(min=1e-5))),
        "phase": phase_loss(spectra.phase()[:, :n], target.angle()),
        "real_imag": F.l1_loss(re, target.real) + F.l1_loss(im, target.imag),
        "consistency": _mean((re[:, skip:] - resynth.real).square() + (im[:, skip:] - resynth.imag).square()),
    }
