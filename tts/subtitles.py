"""Subtitles from timed words: SubRip (.srt) or WebVTT (.vtt), chosen by the file's suffix.

Words are grouped into cues of at most MAX_WORDS words and MAX_SECONDS, and a cue also ends
where the speech pauses for PAUSE_SECONDS or more (a sentence or chunk boundary).
"""

from __future__ import annotations

from pathlib import Path

from latentlm_common.errors import InputError
from latentlm_common.files import atomic_write

MAX_WORDS = 7
MAX_SECONDS = 3.5
PAUSE_SECONDS = 0.2
FORMATS = (".srt", ".vtt")


def cues(words) -> list[tuple[float, float, str]]:
    """(start, end, text) cues from words with `text`, `start`, `end` (seconds)."""
    out, group = [], []
    for w in words:
        if group and (
            len(group) == MAX_WORDS or w.end - group[0].start > MAX_SECONDS or w.start - group[-1].end >= PAUSE_SECONDS
        ):
            out.append((group[0].start, group[-1].end, " ".join(g.text for g in group)))
            group = []
        group.append(w)
    if group:
        out.append((group[0].start, group[-1].end, " ".join(g.text for g in group)))
    return out


def _stamp(seconds: float, comma: bool) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{',' if comma else '.'}{ms:03d}"


def format_subtitles(words, suffix: str) -> str:
    srt = suffix == ".srt"
    blocks = [] if srt else ["WEBVTT\n"]
    for i, (start, end, text) in enumerate(cues(words), 1):
        timing = f"{_stamp(start, srt)} --> {_stamp(end, srt)}"
        blocks.append(f"{i}\n{timing}\n{text}\n" if srt else f"{timing}\n{text}\n")
    return "\n".join(blocks)


def write_subtitles(path: str | Path, words) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"{path}: subtitles are .srt or .vtt, not {path.suffix or 'no suffix'!r}.")
    text = format_subtitles(words, path.suffix.lower())
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path
