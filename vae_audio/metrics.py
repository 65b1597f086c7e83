"""Codec quality metrics, the columns of the paper's tokenizer table (Mel distance / PESQ / STOI / ratio).

Mel distance (fixed definition; do not change it, or old numbers stop being comparable):
    both signals at the model rate (24 kHz), trimmed to the shorter length; for each of six
    scales, window w in (64, 128, 256, 512, 1024, 2048) samples with Hann window, hop w / 4 and
    (5, 10, 20, 40, 80, 160) Slaney mel bands over 0..12 kHz, the mean absolute difference of
    log10(max(mel magnitude, 1e-5)); the distance is the mean over the six scales. Lower is better.
PESQ: ITU-T P.862.2 wide-band on both signals resampled to 16 kHz (package `pesq`); -0.5..4.64.
STOI: short-time objective intelligibility (package `pystoi`, classic, not extended); 0..1.
Compression ratio: input samples per latent frame, sample_rate / frame_rate (1600 at 24 kHz, 15 Hz).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import soxr
import torch

from vae_audio.config import AudioConfig
from vae_audio.losses import MultiScaleMelLoss

MEL_DISTANCE_WINDOWS = (64, 128, 256, 512, 1024, 2048)
MEL_DISTANCE_BANDS = (5, 10, 20, 40, 80, 160)
PESQ_RATE = 16000


class MelDistance:
    """Callable (reference, decoded) numpy arrays at `sample_rate` -> mel distance (see module doc)."""

    def __init__(self, sample_rate: int):
        self.loss = MultiScaleMelLoss(sample_rate, MEL_DISTANCE_WINDOWS, MEL_DISTANCE_BANDS)

    def __call__(self, ref: np.ndarray, deg: np.ndarray) -> float:
        ref, deg = _same_length(ref, deg)
        with torch.no_grad():
            return float(self.loss(torch.from_numpy(deg)[None], torch.from_numpy(ref)[None]))


def pesq_wb(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float:
    """Wide-band PESQ at 16 kHz; NaN when PESQ finds no speech in the reference."""
    from pesq import NoUtterancesError, pesq

    ref, deg = (
        soxr.resample(a, sample_rate, PESQ_RATE) if sample_rate != PESQ_RATE else a for a in _same_length(ref, deg)
    )
    try:
        return float(pesq(PESQ_RATE, ref.astype(np.float64), deg.astype(np.float64), "wb"))
    except NoUtterancesError:
        return math.nan


def stoi(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float:
    from pystoi import stoi as _stoi

    ref, deg = _same_length(ref, deg)
    return float(_stoi(ref.astype(np.float64), deg.astype(np.float64), sample_rate, extended=False))


def compression_ratio(audio: AudioConfig) -> float:
    return audio.sample_rate / audio.frame_rate


def _same_length(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(len(a), len(b))
    return np.asarray(a[:n], dtype=np.float32), np.asarray(b[:n], dtype=np.float32)


@dataclass
class CodecScores:
    mel_distance: float
    pesq: float
    stoi: float


class CodecMetrics:
    """All per-utterance metrics at once; `table` averages them (NaN PESQ values are skipped)."""

    def __init__(self, audio: AudioConfig):
        self.audio = audio
        self.mel = MelDistance(audio.sample_rate)

    def __call__(self, ref: np.ndarray, deg: np.ndarray) -> CodecScores:
        sr = self.audio.sample_rate
        return CodecScores(self.mel(ref, deg), pesq_wb(ref, deg, sr), stoi(ref, deg, sr))

    def table(self, scores: list[CodecScores]) -> str:
        mean = lambda name: float(np.nanmean([getattr(s, name) for s in scores]))  # noqa: E731
        header = f"{'Utterances':>10} | {'Mel dist':>8} | {'PESQ':>6} | {'STOI':>6} | {'Compression':>11}"
        row = (
            f"{len(scores):>10} | {mean('mel_distance'):>8.3f} | {mean('pesq'):>6.3f} | {mean('stoi'):>6.3f} | "
            f"{compression_ratio(self.audio):>10.0f}x"
        )
        return "\n".join([header, "-" * len(header), row])


def spaced(n: int, limit: int | None) -> list[int]:
    """`limit` indices spread evenly over range(n) (all of them without a limit): a limited run
    of a manifest sorted by speaker still covers every speaker."""
    if limit is None or limit >= n:
        return list(range(n))
    return sorted({int(i) for i in np.linspace(0, n - 1, limit).round()})


def evaluate(vae, source, limit: int | None = None, progress: bool = False) -> list[CodecScores]:
    """Encode and decode each utterance of an `AudioSource` with `vae`; one `CodecScores` per utterance."""
    from tqdm import tqdm

    metrics, scores = CodecMetrics(vae.config.audio), []
    for i in tqdm(spaced(len(source), limit), desc="vae eval", unit="utt", disable=not progress):
        x = source.load(i)
        scores.append(metrics(x, vae.reconstruct(x)))
    return scores
