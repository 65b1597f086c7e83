"""Pseudo-speakers: a new voice from a base voice by WORLD analysis/resynthesis (pyworld).

Three knobs: f0 scale (pitch), spectral-envelope frequency warp (formants, i.e. vocal-tract
length) and speaking rate (frame-sequence time scaling).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

FRAME_MS = 5.0


@dataclass(frozen=True)
class Warp:
    f0_scale: float = 1.0  # multiplies the pitch contour
    formant_scale: float = 1.0  # > 1 moves formants up (shorter vocal tract)
    rate: float = 1.0  # > 1 speaks faster

    @property
    def is_identity(self) -> bool:
        return self.f0_scale == 1.0 and self.formant_scale == 1.0 and self.rate == 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def warp_envelope(sp: np.ndarray, scale: float) -> np.ndarray:
    """Stretch each frame's envelope along frequency: out(f) = in(f / scale).  sp: (T, K)"""
    k = sp.shape[1]
    src = np.clip(np.arange(k) / scale, 0, k - 1)  # (K,)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, k - 1)
    frac = src - lo
    return sp[:, lo] * (1.0 - frac) + sp[:, hi] * frac  # (T, K)


def stretch_frames(a: np.ndarray, rate: float) -> np.ndarray:
    """Resample a frame sequence (T, ...) to round(T / rate) frames by nearest-frame lookup."""
    n_out = max(1, int(round(len(a) / rate)))
    idx = np.minimum(np.round(np.arange(n_out) * rate).astype(int), len(a) - 1)
    return np.ascontiguousarray(a[idx])


def apply_warp(x: np.ndarray, sample_rate: int, warp: Warp) -> np.ndarray:
    """Resynthesise mono float audio `x` (N,) with `warp`; identity warps return `x` unchanged."""
    if warp.is_identity:
        return x
    import pyworld

    x64 = x.astype(np.float64)
    f0, t = pyworld.dio(x64, sample_rate, frame_period=FRAME_MS)  # (T,)
    f0 = pyworld.stonemask(x64, f0, t, sample_rate)
    sp = pyworld.cheaptrick(x64, f0, t, sample_rate)  # (T, K)
    ap = pyworld.d4c(x64, f0, t, sample_rate)  # (T, K)
    f0 = stretch_frames(f0 * warp.f0_scale, warp.rate)
    sp = stretch_frames(warp_envelope(sp, warp.formant_scale), warp.rate)
    ap = stretch_frames(ap, warp.rate)
    y = pyworld.synthesize(f0, sp, ap, sample_rate, frame_period=FRAME_MS)
    return y.astype(np.float32)
