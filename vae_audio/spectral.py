"""Spectral transforms shared by the encoder front end, the losses and the metrics."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    """Slaney mel filters from librosa, (n_mels, n_fft // 2 + 1); imported lazily (numba start-up)."""
    from librosa.filters import mel

    return torch.from_numpy(mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=sample_rate / 2)).float()


def stft_magnitude(x: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor, center: bool = True) -> torch.Tensor:
    """|STFT| of (B, S) audio -> (B, n_fft // 2 + 1, frames), always computed in float32."""
    spec = torch.stft(x.float(), n_fft, hop, window=window, center=center, pad_mode="reflect", return_complex=True)
    return spec.abs()


class CausalLogMel(nn.Module):
    """Log-mel frames where frame t sees only samples before (t + 1) * hop.

    (B, S) with S a multiple of hop -> (B, n_mels, S // hop). The signal is left-padded by
    n_fft - hop zeros, so the first frames see silence before the start, as a stream would; with a
    cache dict (see vae_audio.modules) the left context is the end of the previous chunk instead.
    """

    def __init__(self, sample_rate: int, n_fft: int, hop: int, n_mels: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("fb", mel_filterbank(sample_rate, n_fft, n_mels), persistent=False)

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        context = self.n_fft - self.hop
        left = None if cache is None else cache.get(self)
        if left is None:
            left = x.new_zeros(x.shape[0], context, dtype=torch.float32)
        x = torch.cat([left, x.float()], dim=1)
        if cache is not None:
            cache[self] = x[:, x.shape[1] - context:]
        with torch.autocast(x.device.type, enabled=False):  # features stay float32 under bf16 autocast
            mag = stft_magnitude(x, self.n_fft, self.hop, self.window, center=False)  # (B, F, T)
            return torch.log(torch.clamp(self.fb @ mag, min=1e-5))


class MelSpectrogram(nn.Module):
    """Centred mel magnitude (B, S) -> (B, n_mels, frames), for losses and metrics."""

    def __init__(self, sample_rate: int, n_fft: int, hop: int, n_mels: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("fb", mel_filterbank(sample_rate, n_fft, n_mels), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.fb @ stft_magnitude(x, self.n_fft, self.hop, self.window)
