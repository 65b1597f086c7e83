"""Resuming a build: each finished speaker leaves a marker with its records, and a rerun with the
same settings and voices skips finished speakers and redoes the others from scratch.

A 20-hour build takes longer than one sitting on a shared CPU; this is what lets it be stopped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from latentlm_common.files import atomic_write

STATE_DIR = ".build"


def open_output(out: Path, key: dict) -> bool:
    """Create `out` for a build described by `key`; True when it resumes an earlier run of the same build.

    A non-empty `out` from another build (or from no build) is refused.
    """
    state = out / STATE_DIR / "build.json"
    key = json.loads(json.dumps(key))  # compare as it reads back from disk
    if out.exists() and any(out.iterdir()):
        if not state.is_file() or json.loads(state.read_text()) != key:
            raise FileExistsError(
                f"{out} is not empty and holds no unfinished build with these settings; choose a new --out directory"
            )
        return True
    state.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(key, indent=1)
    atomic_write(state, lambda tmp: Path(tmp).write_text(text))
    return False


def marker(out: Path, speaker_id: int) -> Path:
    return out / STATE_DIR / f"speaker-{speaker_id}.json"


def load_done(out: Path, speaker_id: int) -> tuple[list[dict], list[dict]] | None:
    path = marker(out, speaker_id)
    if not path.is_file():
        return None
    done = json.loads(path.read_text())
    return done["records"], done["rejected"]


def mark_done(out: Path, speaker_id: int, result: tuple[list[dict], list[dict]]) -> None:
    text = json.dumps({"records": result[0], "rejected": result[1]})
    atomic_write(marker(out, speaker_id), lambda tmp: Path(tmp).write_text(text))


def clear_speaker(out: Path, speaker_id: int, splits: tuple[str, ...]) -> None:
    """Remove what an interrupted run left of one speaker (its chapter text files are appended to)."""
    for split in splits:
        shutil.rmtree(out / split / str(speaker_id), ignore_errors=True)
