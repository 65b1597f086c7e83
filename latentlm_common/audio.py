"""Audio I/O: load any common format as mono float32 at the model rate, loudness-normalise, trim, save.

Every problem with an input file is raised as `InputError` with one sentence naming the file
and what is wrong, so the CLI can print it as one line.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from latentlm_common.errors import InputError
from latentlm_common.files import atomic_write

SILENCE_DBFS = -60.0  # a signal whose RMS is below this is treated as silence


def rms_dbfs(x: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    return 20.0 * np.log10(max(rms, 1e-12))


def rms_normalize(x: np.ndarray, target_dbfs: float = -25.0) -> np.ndarray:
    """Scale `x` so its RMS is `target_dbfs`; peaks are then limited to ±1 by a gentle gain cut."""
    gain = 10.0 ** ((target_dbfs - rms_dbfs(x)) / 20.0)
    y = x * gain
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 1.0:
        y = y / peak
    return y.astype(np.float32)


def trim_silence(
    x: np.ndarray, sample_rate: int, threshold_db: float = -40.0, frame_ms: float = 20.0, keep_ms: float = 50.0
) -> np.ndarray:
    """Cut leading and trailing frames quieter than `threshold_db` below the loudest frame.

    Written here rather than taken from librosa.effects.trim so the synthesis path does not
    import librosa/numba (a second of start-up on a 2-core CPU).
    """
    frame = max(1, int(sample_rate * frame_ms / 1000))
    n_frames = len(x) // frame
    if n_frames == 0:
        return x
    frames = x[: n_frames * frame].reshape(n_frames, frame)
    db = 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)
    loud = np.flatnonzero(db > db.max() + threshold_db)
    keep = int(sample_rate * keep_ms / 1000)
    start = max(0, loud[0] * frame - keep)
    end = min(len(x), (loud[-1] + 1) * frame + keep)
    return x[start:end]


def check_samples(x: np.ndarray, name: str) -> None:
    """Raise `InputError` for empty, non-finite or all-silent audio."""
    if x.size == 0:
        raise InputError(f"{name}: the audio is empty (0 samples).")
    if not np.all(np.isfinite(x)):
        raise InputError(f"{name}: the audio contains NaN or infinite samples.")
    if rms_dbfs(x) < SILENCE_DBFS:
        raise InputError(f"{name}: the audio is silent (RMS below {SILENCE_DBFS:.0f} dBFS).")


def load_audio(
    path: str | os.PathLike, sample_rate: int, *, normalize_dbfs: float | None = -25.0, trim: bool = True
) -> np.ndarray:
    """Read wav/flac/ogg/mp3 (anything libsndfile reads) as mono float32 at `sample_rate`.

    Downmixes to mono, resamples with soxr, optionally trims leading/trailing silence and
    RMS-normalises to `normalize_dbfs` (None keeps the level).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such audio file.")
    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile reports corrupt and unknown formats alike
        raise InputError(f"{path}: cannot read this file as audio ({_first_line(e)}).") from None
    x = x.mean(axis=1)
    check_samples(x, str(path))
    if sr != sample_rate:
        x = soxr.resample(x, sr, sample_rate).astype(np.float32)
    if trim:
        x = trim_silence(x, sample_rate)
    if normalize_dbfs is not None:
        x = rms_normalize(x, normalize_dbfs)
    return x


FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}  # output suffix -> soundfile format


def output_format(path: str | os.PathLike) -> str:
    """The soundfile format of an output path, or a clear error (check it before the work, not after)."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unsupported output format; use .wav, .flac, .ogg or .mp3.")
    return fmt


def save_audio(path: str | os.PathLike, x: np.ndarray, sample_rate: int) -> Path:
    """Write mono audio atomically (temp file + rename); the format follows the suffix."""
    path = Path(path)
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    fmt = output_format(path)
    return atomic_write(path, lambda tmp: sf.write(tmp, np.clip(x, -1.0, 1.0), sample_rate, format=fmt))


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
