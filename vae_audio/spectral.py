"""Spectral transforms shared by the encoder front end, the losses and the metrics."""

from __future__ import annotations

import math

import torch
import torch.nn as nn


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    """Slaney-style mel filters, (n_mels, n_fft // 2 + 1), equal to librosa.filters.mel(fmin=0,
    fmax=sr/2) (a test checks it). Written here because importing librosa.filters pulls in
    scipy.signal: 1.5 s on every model load. Torch ops only, so an ONNX graph that calls it
    computes the filters when it loads instead of storing them (`n_fft` may be a 0-d tensor there)."""
    half = n_fft // 2
    freqs = torch.arange(half + 1, dtype=torch.float64) * (sample_rate / 2) / half
    top = float(_hz_to_mel(torch.tensor(sample_rate / 2, dtype=torch.float64)))
    edges = _mel_to_hz(torch.arange(n_mels + 2, dtype=torch.float64) * top / (n_mels + 1))
    ramps = edges[:, None] - freqs[None, :]
    widths = edges[1:] - edges[:-1]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = torch.clamp(torch.minimum(lower, upper), min=0.0) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.float()


_F_SP, _MIN_LOG_HZ, _LOG_STEP = 200.0 / 3, 1000.0, math.log(6.4) / 27.0  # Slaney: linear below 1 kHz, log above


def _hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    log_part = _MIN_LOG_HZ / _F_SP + torch.log(torch.clamp(f, min=_MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return torch.where(f >= _MIN_LOG_HZ, log_part, f / _F_SP)


def _mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    min_log_mel = _MIN_LOG_HZ / _F_SP
    return torch.where(m >= min_log_mel, _MIN_LOG_HZ * torch.exp(_LOG_STEP * (m - min_log_mel)), _F_SP * m)


def hann_window(n: int | torch.Tensor) -> torch.Tensor:
    """torch.hann_window(n) (periodic) in float64, written as arithmetic so an ONNX graph computes it."""
    return 0.5 - 0.5 * torch.cos(2 * math.pi * torch.arange(n, dtype=torch.float64) / n)


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
            cache[self] = x[:, x.shape[1] - context :]
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
