"""Recorded human speech that installed packages ship, for evaluation only (never for training):
the human rows of the codec bake-off (`benchmarks/codec_bakeoff.py`) and the human prompts of
`benchmarks/say_wer.py --voices human`. No corpus of recorded speech exists on our machines;
these clips come with gradio (the `demo` extra)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

HUMAN_SPEECH = [  # (package, file inside it)
    ("gradio", "media_assets/audio/cate_blanch.mp3"),
    ("gradio", "media_assets/audio/cate_blanch_2.mp3"),
    ("gradio", "media_assets/audio/heath_ledger.mp3"),
]


def human_speech() -> list[tuple[str, Path]]:
    """(name "package:stem", path) of each file of HUMAN_SPEECH that is installed, in its order."""
    paths = []
    for package, file in HUMAN_SPEECH:
        spec = importlib.util.find_spec(package)
        path = Path(spec.submodule_search_locations[0], file) if spec and spec.submodule_search_locations else None
        if path is not None and path.is_file():
            paths.append((f"{package}:{path.stem}", path))
    return paths
