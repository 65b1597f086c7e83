"""The tiny corpus every recipe's tests read: espeak-ng only (pip), bundled text, no ASR; seconds to build.

6 speakers: two base voices with two speakers each (the base voice and one warped pseudo-speaker),
in train/dev/test, and two held-out base voices in test-unseen. 26 utterances in LibriSpeech layout.
"""

from __future__ import annotations

from pathlib import Path

from recipes.synthetic.build import BuildConfig, build
from recipes.synthetic.engines import CATALOG

TINY_VOICES = ("en-us", "en-us+f2", "en-029+f5", "en-gb-x-gbcwmd+f4")  # the last two are held out
TINY_SPLITS = ("train", "dev", "test", "test-unseen")


def tiny_config(out_dir: str | Path, seed: int = 0) -> BuildConfig:
    voices = [v for v in CATALOG if v.engine == "espeak" and v.name in TINY_VOICES]
    return BuildConfig(
        out=Path(out_dir),
        hours=0.01,
        seed=seed,
        speakers=6,
        engines=("espeak",),
        text_sources=("bundled",),
        min_utts=3,
        n_dev=1,
        n_test=1,
        qc=False,
        similarity=False,
        voices=voices,
    )


def build_tiny_corpus(out_dir: str | Path, seed: int = 0) -> Path:
    """Build the tiny corpus under `out_dir` (new or empty) and return that directory."""
    cfg = tiny_config(out_dir, seed)
    build(cfg)
    return cfg.out
