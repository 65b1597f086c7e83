"""Spectral transforms shared by the encoder front end, the losses and the metrics."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    """Slaney-style mel filters, (n_mels, n_fft // 2 + 1), equal to librosa.filters.mel(fmin=0,
    fmax=sr/2) (a test checks it). Written here because importing librosa.filters pulls in
    scipy.signal: 1.5 s on every model load."""
    freqs = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(0.0, _hz_to_mel(sample_rate / 2), n_mels + 2))
    ramps = edges[:, None] - freqs[None, :]
    widths = np.diff(edges)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return torch.from_numpy(weights.astype(np.float32))


_F_SP, _MIN_LOG_HZ, _LOG_STEP = 200.0 / 3, 1000.0, np.log(6.4) / 27.0  # Slaney: linear below 1 kHz, log above


def _hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    log_part = _MIN_LOG_HZ / _F_SP + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(f >= _MIN_LOG_HZ, log_part, f / _F_SP)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    min_log_mel = _MIN_LOG_HZ / _F_SP
    return np.where(m >= min_log_mel, _MIN_LOG_HZ * np.exp(_LOG_STEP * (m - min_log_mel)), _F_SP * m)


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
