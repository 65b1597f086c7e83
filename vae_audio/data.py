"""Training and evaluation audio: Lhotse manifests or any directory of audio files.

Batches are a pure function of (seed, step, rank): `StepBatchSampler` numbers the crops and
`CropDataset` derives each crop from its number, so a resumed run reads exactly the batches
the uninterrupted run would have read, with no loader state to save.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import soxr
import torch

from latentlm_common.audio import load_audio, rms_normalize
from latentlm_common.errors import InputError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".opus")
MANIFEST_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")


def is_manifest(path: Path) -> bool:
    return path.is_file() and any(path.name.endswith(s) for s in MANIFEST_SUFFIXES)


class AudioSource:
    """Indexable list of utterances; `load(i)` gives mono float32 at `sample_rate`, RMS-normalised."""

    def __init__(self, location: str | Path, sample_rate: int, target_dbfs: float):
        location = Path(location)
        self.sample_rate, self.target_dbfs = sample_rate, target_dbfs
        if location.is_dir():
            self.paths = sorted(p for p in location.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
            self.cuts = None
        elif is_manifest(location):
            self.paths, self.cuts = None, _read_cuts(location)
        else:
            raise InputError(f"{location}: neither a directory of audio files nor a Lhotse manifest (.jsonl.gz).")
        if len(self) == 0:
            raise InputError(f"{location}: contains no audio ({', '.join(AUDIO_SUFFIXES)}).")

    def __len__(self) -> int:
        return len(self.paths) if self.paths is not None else len(self.cuts)

    def name(self, i: int) -> str:
        return self.paths[i].stem if self.paths is not None else self.cuts[i].id

    @functools.lru_cache(maxsize=64)  # noqa: B019 (small corpora are read once per worker)
    def load(self, i: int) -> np.ndarray:
        if self.paths is not None:
            return load_audio(self.paths[i], self.sample_rate, normalize_dbfs=self.target_dbfs, trim=False)
        cut = self.cuts[i]
        x = cut.load_audio().mean(axis=0).astype(np.float32)  # (channels, S) -> (S,)
        if cut.sampling_rate != self.sample_rate:
            x = soxr.resample(x, cut.sampling_rate, self.sample_rate).astype(np.float32)
        return rms_normalize(x, self.target_dbfs)


def _read_cuts(path: Path):
    """A CutSet from a cuts or recordings manifest, kept in memory as a list."""
    from lhotse import CutSet, RecordingSet, load_manifest

    manifest = load_manifest(path)
    if isinstance(manifest, RecordingSet):
        manifest = CutSet.from_manifests(recordings=manifest)
    if not isinstance(manifest, CutSet):
        raise InputError(f"{path}: a Lhotse {type(manifest).__name__}; expected cuts or recordings.")
    return list(manifest)


class CropDataset(torch.utils.data.Dataset):
    """Item `index` is a `crop`-sample excerpt of a random utterance, both drawn from rng(seed, index)."""

    def __init__(self, source: AudioSource, crop: int, seed: int):
        self.source, self.crop, self.seed = source, crop, seed

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, index])
        x = self.source.load(int(rng.integers(len(self.source))))
        if len(x) < self.crop:
            x = np.pad(x, (0, self.crop - len(x)))
        start = int(rng.integers(len(x) - self.crop + 1))
        return torch.from_numpy(x[start : start + self.crop].copy())  # (crop,)


class StepBatchSampler(torch.utils.data.Sampler):
    """Index lists for steps start_step..max_steps-1: rank r of W at step s gets (s·W + r)·B + [0, B)."""

    def __init__(self, batch_size: int, rank: int, world_size: int, start_step: int, max_steps: int):
        self.b, self.rank, self.world = batch_size, rank, world_size
        self.start, self.stop = start_step, max_steps

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self):
        for step in range(self.start, self.stop):
            first = (step * self.world + self.rank) * self.b
            yield list(range(first, first + self.b))
