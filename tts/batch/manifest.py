"""The batch job's input manifest: JSON Lines, one item per line, read into checked `Item`s.

Each line is an object with "id", "text" and "voice" (a prompt audio file; a relative path
resolves against the manifest's folder), and optionally "voice_text" (the prompt's transcript:
continuation), "seed", "guidance_scale" and "steps" (defaults: the job's). Other keys are
ignored, so a manifest may carry its own metadata. Blank lines are ignored.

A line is bad when it is not a JSON object, lacks a field or has one of the wrong type, has
empty text, an id that is not a safe file name (letters, digits, "_", "-", "." and not first a
"." or "-", at most 128 characters), an id used by an earlier line (also one differing only in
case: they would share a file on some file systems), a voice that is not a readable audio file,
or settings out of range. Bad lines come back as `BadLine`s with their line number; they are
never dropped without a word.

An item's seed defaults to a stable hash of its id (`item_seed`), so its audio never depends on
its place in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from latentlm_common.errors import InputError
from tts.synthesis import check_settings

SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
REQUIRED = ("id", "text", "voice")


@dataclass(frozen=True)
class Item:
    line: int  # 1-based line of the manifest
    id: str
    text: str
    voice: str  # the prompt file, resolved
    voice_text: str | None
    seed: int
    guidance_scale: float
    steps: int

    @property
    def fields(self) -> dict:
        """What decides the item's audio, besides the model and the voice file's content."""
        return {k: getattr(self, k) for k in ("id", "text", "voice_text", "seed", "guidance_scale", "steps")}


@dataclass(frozen=True)
class BadLine:
    line: int
    id: str | None  # None when the line has no usable id
    error: str


def item_seed(item_id: str) -> int:
    """The default seed of an item: a stable hash of its id (the same in every process and run)."""
    return int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:4], "big") % 2**31


def read_manifest(path: str | Path, guidance_scale: float, steps: int) -> tuple[list[Item], list[BadLine]]:
    """The good items and the bad lines of the manifest at `path`, each in line order."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such manifest file.")
    items, bad, seen, readable = [], [], set(), {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = _parse(n, line, path.parent, guidance_scale, steps, readable)
            if item.id.lower() in seen:
                raise InputError(f"duplicate id {item.id!r} (ids must differ in more than letter case)")
        except InputError as e:
            bad.append(BadLine(n, _id_of(line), str(e)))
            continue
        seen.add(item.id.lower())
        items.append(item)
    return items, bad


def _parse(n: int, line: str, root: Path, guidance_scale: float, steps: int, readable: dict) -> Item:
    try:
        d = json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"not JSON ({e.msg})") from None
    if not isinstance(d, dict):
        raise InputError("not a JSON object")
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise InputError(f"missing field {', '.join(repr(k) for k in missing)}")
    for key in ("id", "text", "voice", "voice_text"):
        if key in d and d[key] is not None and not isinstance(d[key], str):
            raise InputError(f"{key!r} must be a string")
    if not SAFE_ID.fullmatch(d["id"]):
        raise InputError(f"id {d['id']!r} is not a safe file name (letters, digits, '_', '-', '.'; at most 128)")
    if not d["text"].strip():
        raise InputError("empty text")
    voice = _voice_file(root / d["voice"], readable)
    seed = d.get("seed", item_seed(d["id"]))
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise InputError(f"seed must be a whole number from 0 to 2**31 - 1, got {seed!r}")
    g, s = d.get("guidance_scale", guidance_scale), d.get("steps", steps)
    if not isinstance(g, int | float) or isinstance(g, bool):
        raise InputError(f"guidance_scale must be a number, got {g!r}")
    if not isinstance(s, int) or isinstance(s, bool):
        raise InputError(f"steps must be a whole number, got {s!r}")
    g, s = check_settings(g, s)
    return Item(n, d["id"], d["text"], voice, d.get("voice_text"), seed, g, s)


def _voice_file(path: Path, readable: dict) -> str:
    """The prompt file, if libsndfile can open it (checked once per file; the full checks of a
    prompt, sound and length, come when the voice is encoded)."""
    key = str(path)
    if key not in readable and not path.is_file():
        readable[key] = f"voice {key}: no such file"
    if key not in readable:
        try:
            sf.info(key)
            readable[key] = None
        except Exception as e:  # libsndfile reports a missing, corrupt or unknown file alike
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            readable[key] = f"voice {key}: not a readable audio file ({first})"
    if readable[key]:
        raise InputError(readable[key])
    return key


def _id_of(line: str) -> str | None:
    try:
        d = json.loads(line)
    except json.JSONDecodeError:
        return None
    return d.get("id") if isinstance(d, dict) and isinstance(d.get("id"), str) else None
