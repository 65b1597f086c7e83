"""Speakers of the corpus: base voices times deterministic warps, and which ones are held out.

A speaker id is `base.code * 100 + k` (k = 0 is the unwarped base voice), and speaker k's warp
depends only on (seed, base code, k), so ids and voices do not move when other engines are
installed or removed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recipes.synthetic.engines import BaseVoice
from recipes.synthetic.warp import Warp

# Base voices held out whole for test-unseen, first available first. Only voices outside the v1 mix
# may be inserted (fr4-en: corpus v2's third, a real-timbre female voice), so v1 builds never change.
HOLDOUT_PREFERENCE = (
    "flite:rms",
    "mbrola:us3",
    "mbrola:fr4-en",
    "festival:ked_diphone",
    "espeak:en-029+f5",
    "espeak:en-gb-x-gbcwmd+f4",
    "espeak:en-gb-scotland+f1",
)
LOG_F0_RANGE = np.log(2**0.5)  # f0 scale in [0.71, 1.41]
LOG_FORMANT_RANGE = np.log(1.16)  # formant scale in [0.86, 1.16]
LOG_RATE_RANGE = (np.log(0.85), np.log(1.2))
MIN_WARP_DISTANCE = 0.8  # in (log f0, log formant) units normalised by the ranges above
MAX_SPEAKERS_PER_BASE = 100


@dataclass(frozen=True)
class Speaker:
    id: int
    base: BaseVoice
    k: int  # index among the speakers derived from `base`; 0 is the base voice itself
    warp: Warp
    unseen: bool  # True: only in test-unseen

    def row(self) -> dict:
        return {
            "speaker": self.id,
            "split_group": "unseen" if self.unseen else "seen",
            "engine": self.base.engine,
            "base_voice": self.base.name,
            "sex": self.base.sex,
            **self.warp.to_dict(),
        }


def sample_warps(seed: int, code: int, n: int) -> list[Warp]:
    """n warps for one base voice: the identity, then random warps kept apart from each other."""
    rng = np.random.default_rng([seed, code])
    points, warps = [np.zeros(2)], [Warp()]
    while len(warps) < n:
        for _ in range(1000):
            p = rng.uniform(-1.0, 1.0, size=2)
            if min(np.linalg.norm(p - q) for q in points) >= MIN_WARP_DISTANCE:
                break  # else the last draw is kept: more than ~12 speakers per base crowd the plane
        log_rate = rng.uniform(*LOG_RATE_RANGE)
        points.append(p)
        warps.append(
            Warp(
                f0_scale=round(float(np.exp(p[0] * LOG_F0_RANGE)), 4),
                formant_scale=round(float(np.exp(p[1] * LOG_FORMANT_RANGE)), 4),
                rate=round(float(np.exp(log_rate)), 4),
            )
        )
    return warps


def holdout_bases(bases: list[BaseVoice], n_unseen: int) -> set[str]:
    """Keys of the base voices held out whole: the first `n_unseen` available by preference."""
    keys = {b.key for b in bases}
    preferred = [k for k in HOLDOUT_PREFERENCE if k in keys]
    rest = [b.key for b in sorted(bases, key=lambda b: -b.code) if b.key not in preferred]
    return set((preferred + rest)[:n_unseen])


def plan_speakers(bases: list[BaseVoice], n_speakers: int, seed: int, n_unseen_bases: int = 2) -> list[Speaker]:
    """Deal `n_speakers` round-robin over the base voices (k = 0 for every base first, then k = 1...)."""
    if len(bases) < n_unseen_bases + 1:
        raise ValueError(f"need at least {n_unseen_bases + 1} usable base voices, have {len(bases)}")
    if n_speakers < len(bases):
        raise ValueError(
            f"{n_speakers} speakers are fewer than the {len(bases)} usable base voices; "
            "ask for more speakers or fewer engines"
        )
    bases = sorted(bases, key=lambda b: b.code)
    per_base = [n_speakers // len(bases) + (i < n_speakers % len(bases)) for i in range(len(bases))]
    if max(per_base) > MAX_SPEAKERS_PER_BASE:
        raise ValueError(f"{n_speakers} speakers need more than {MAX_SPEAKERS_PER_BASE} per base voice")
    held = holdout_bases(bases, n_unseen_bases)
    speakers = []
    for base, n in zip(bases, per_base):
        for k, warp in enumerate(sample_warps(seed, base.code, n)):
            # Besides whole held-out voices, every fifth pseudo-speaker (k = 2, 7, ...) is unseen too.
            unseen = base.key in held or k % 5 == 2
            speakers.append(Speaker(base.code * 100 + k, base, k, warp, unseen))
    return speakers


def write_speakers(speakers: list[Speaker], minutes: dict[int, float], out_dir: Path) -> None:
    """speakers.tsv (full metadata) and a LibriSpeech-style SPEAKERS.TXT."""
    rows = [{**s.row(), "minutes": round(minutes.get(s.id, 0.0), 2)} for s in speakers]
    with open(out_dir / "speakers.tsv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    lines = [";ID  |SEX| SUBSET           |MINUTES| NAME"]
    for s, r in zip(speakers, rows):
        subset = "test-unseen" if s.unseen else "train"
        lines.append(f"{s.id:<5}| {s.base.sex} | {subset:<17}| {r['minutes']:5.2f} | {s.base.key} k={s.k}")
    (out_dir / "SPEAKERS.TXT").write_text("\n".join(lines) + "\n")
