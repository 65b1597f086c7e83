"""Causal building blocks of the σ-VAE, each able to continue from a streaming cache.

Streaming convention: every stateful module takes `cache: dict | None`. With `None` it pads
with zeros on the left (full decoding); with a dict it reads its left context from
`cache[self]` (zeros the first time) and stores the new one, so decoding chunk by chunk
gives the same numbers as decoding everything at once.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalConv1d(nn.Conv1d):
    """Conv1d that pads only on the left: output t sees inputs <= t. (B, C, T) -> (B, C', T)."""

    def __init__(self, cin: int, cout: int, kernel: int, dilation: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, dilation=dilation, groups=groups)
        self.context = (kernel - 1) * dilation

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        left = None if cache is None else cache.get(self)
        if left is None:
            left = x.new_zeros(x.shape[0], x.shape[1], self.context)
        x = torch.cat([left, x], dim=-1)
        if cache is not None:
            cache[self] = x[..., x.shape[-1] - self.context :]
        return super().forward(x)


class ConvNeXtBlock(nn.Module):
    """Depthwise causal conv -> LayerNorm -> MLP -> layer-scale, with a residual. (B, C, T) -> (B, C, T)."""

    def __init__(self, dim: int, kernel: int = 7, mlp_ratio: int = 4, layer_scale: float = 1e-6):
        super().__init__()
        self.dwconv = CausalConv1d(dim, dim, kernel, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        h = self.dwconv(x, cache).transpose(1, 2)  # (B, T, C)
        h = self.gamma * self.mlp(self.norm(h))
        return x + h.transpose(1, 2)


def overlap_add(frames: torch.Tensor, hop: int) -> torch.Tensor:
    """(B, T, N) frames placed at t * hop -> (B, (T - 1) * hop + N) summed signal."""
    b, t, n = frames.shape
    out = F.fold(frames.transpose(1, 2), output_size=(1, (t - 1) * hop + n), kernel_size=(1, n), stride=(1, hop))
    return out.reshape(b, -1)


def causal_istft(
    spec: torch.Tensor, window: torch.Tensor, hop: int, envelope: float, overlap: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Complex spectra (B, T, n_fft // 2 + 1), frame t placed at [t * hop, t * hop + n_fft) -> the (B, T * hop)
    samples they complete and the (B, n_fft - hop) overlap they leave for later frames. `overlap` is the
    previous chunk's (streaming); `envelope` the flat overlap-added window² it divides by."""
    frames = torch.fft.irfft(spec, n=window.shape[0]) * window  # (B, T, n_fft)
    y = overlap_add(frames, hop) / envelope  # (B, (T - 1) * hop + n_fft)
    if overlap is not None:
        y = torch.cat([y[:, : overlap.shape[1]] + overlap, y[:, overlap.shape[1] :]], dim=1)
    n_out = spec.shape[1] * hop
    return y[:, :n_out], y[:, n_out:]


class ISTFTHead(nn.Module):
    """Vocos-style head: per frame a magnitude and a phase, then a causal inverse STFT.

    (B, C, T) -> (B, T * hop). Frame t's window covers samples [t * hop, t * hop + n_fft), so
    sample n depends only on frames <= n // hop. Written here because torch.istft only offers
    centred framing, which would make every sample wait for later frames.
    """

    def __init__(self, dim: int, n_fft: int, hop: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.proj = nn.Linear(dim, n_fft + 2)
        assert n_fft % hop == 0, "the iSTFT window must be a whole number of hops"
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        # Overlap-added window² is flat (sum(w²) / hop) once n_fft / hop frames overlap; dividing by that
        # constant rather than the exact envelope lets the first 40 ms fade in instead of blowing up.
        self.envelope = float(self.window.square().sum()) / hop

    def spectrum(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, T) -> real and imaginary parts (B, T, F) of each frame's spectrum (also the ONNX path)."""
        log_mag, phase = self.proj(x.transpose(1, 2).float()).chunk(2, dim=-1)  # (B, T, F) each
        mag = torch.exp(log_mag).clamp(max=100.0)
        return mag * torch.cos(phase), mag * torch.sin(phase)

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            prev = None if cache is None else cache.get(self)
            audio, overlap = causal_istft(torch.complex(*self.spectrum(x)), self.window, self.hop, self.envelope, prev)
        if cache is not None:  # the overlap left for the next chunk
            cache[self] = overlap
        return audio


class UpsampleHead(nn.Module):
    """Waveform head: transposed convs (kernel == stride, so no overlap and no state) with causal
    residual convs between them. (B, C, T) -> (B, T * prod(strides))."""

    def __init__(self, dim: int, strides: tuple[int, ...], kernel: int = 7):
        super().__init__()
        self.ups, self.convs = nn.ModuleList(), nn.ModuleList()
        ch = dim
        for s in strides:
            out = max(ch // 2, 16)
            self.ups.append(nn.ConvTranspose1d(ch, out, s, stride=s))
            self.convs.append(CausalConv1d(out, out, kernel))
            ch = out
        self.out = CausalConv1d(ch, 1, kernel)

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        for up, conv in zip(self.ups, self.convs):
            x = up(F.gelu(x))
            x = x + conv(F.gelu(x), cache)
        return self.out(F.gelu(x), cache).squeeze(1)
