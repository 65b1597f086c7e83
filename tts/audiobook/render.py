"""Synthesise a book chunk by chunk, resumably, and assemble per-chapter audio and a manifest.

Layout of the output directory:

    chunks/<key>.npz     one finished chunk: float32 audio, quality flag, word times (written atomically)
    NN-<title>.wav       one file per chapter (or .flac)
    book.wav             optional: all chapters joined (`joined=True`), chapter offsets in the manifest
    manifest.json        chapters, durations, every chunk's text with its time offset, its words'
                         [text, start, end] times (seconds in the chapter file), flags, summary

A batch with any unfinished chunk is synthesised whole and its missing chunks are written; a
batch whose chunks all exist is skipped. Under torchrun the batches are dealt to the ranks
(`latentlm_common.jobs`); rank 0 assembles the chapters once every rank is done.

Chunks whose audio hit the length guard, is near-silent or whose alignment finds words skipped,
repeated or never reached are sampled again (`retries`, `Synthesizer.synthesize_batch`); the
take with the fewest problems is kept, and if still bad it is flagged in the manifest, never
dropped.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from latentlm_common.audio import save_audio
from latentlm_common.files import atomic_write
from latentlm_common.jobs import ALONE, Group, run_batches
from tts.audiobook.document import Book, read_book
from tts.audiobook.plan import TITLE, Chunk, batches, plan_chunks

PAUSES = {"sentence": 0.3, "paragraph": 0.7, "title": 1.0}  # seconds of silence after a chunk


class Synthesizer(Protocol):
    sample_rate: int

    def synthesize_batch(self, texts: list[str], seeds: list[int], retries: int) -> list: ...


@dataclass
class Rendered:
    audio: np.ndarray  # (samples,) float32
    flag: str  # "" if fine, else "length_guard" and the take's flags ("skipped", "silent", ...), comma-separated
    tries: int  # takes sampled
    words: list = field(default_factory=list)  # [text, start, end] per word, seconds from the chunk's start


def _synthesize(tts: Synthesizer, chunks: list[Chunk], retries: int) -> list[Rendered]:
    """`chunks` as one batch, their flagged takes sampled again up to `retries` times."""
    out = []
    for audio in tts.synthesize_batch([c.text for c in chunks], [c.seed for c in chunks], retries):
        words = [[w.text, round(w.start, 3), round(w.end, 3)] for w in audio.words]
        out.append(Rendered(np.asarray(audio.samples, np.float32), ",".join(audio.problems), audio.takes, words))
    return out


def _save_chunk(path: Path, r: Rendered) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would add ".npz" to a name
            np.savez(
                f, audio=r.audio, flag=np.array(r.flag), tries=np.array(r.tries), words=np.array(json.dumps(r.words))
            )

    atomic_write(path, write)


def _load_chunk(path: Path) -> Rendered:
    with np.load(path) as z:
        words = json.loads(str(z["words"])) if "words" in z else []  # chunks rendered before word times had none
        return Rendered(z["audio"], str(z["flag"]), int(z["tries"]), words)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "chapter"


def _pause_after(chunks: list[Chunk], i: int) -> float:
    if i + 1 == len(chunks):
        return 0.0
    if chunks[i].paragraph == TITLE and chunks[i + 1].paragraph != TITLE:
        return PAUSES["title"]
    return PAUSES["sentence"] if chunks[i].paragraph == chunks[i + 1].paragraph else PAUSES["paragraph"]


def _assemble_chapter(chunks: list[Chunk], rendered: dict[str, Rendered], sr: int):
    """Join one chapter's chunks with pauses; return (audio, manifest entries)."""
    pieces, entries, t = [], [], 0
    for i, c in enumerate(chunks):
        audio = rendered[c.key].audio
        entries.append(
            {
                "text": c.text,
                "paragraph": c.paragraph,
                "start": round(t / sr, 3),
                "duration": round(len(audio) / sr, 3),
                "flag": rendered[c.key].flag,
                "tries": rendered[c.key].tries,
                "words": [[w, round(t / sr + a, 3), round(t / sr + b, 3)] for w, a, b in rendered[c.key].words],
            }
        )
        gap = np.zeros(int(_pause_after(chunks, i) * sr), np.float32)
        pieces += [audio, gap]
        t += len(audio) + len(gap)
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32), entries


def render_book(
    tts: Synthesizer,
    book_path: str | Path,
    out_dir: str | Path,
    *,
    split: Callable[[str], list[str]],
    settings: dict,
    seed: int = 0,
    batch_size: int = 8,
    fmt: str = "wav",
    joined: bool = False,
    retries: int = 2,
    progress: bool = True,
    group: Group = ALONE,
) -> dict | None:
    """Synthesise the book at `book_path` into `out_dir`; return the manifest (also written as
    JSON). Under torchrun (`group`), each rank synthesises its share of the batches, then rank 0
    joins the chapters, writes the manifest and returns it; the other ranks return None."""
    start = time.perf_counter()
    book = read_book(book_path)
    out_dir, sr = Path(out_dir), tts.sample_rate
    chunk_dir = out_dir / "chunks"
    chunk_dir.mkdir(parents=True, exist_ok=True)
    chunks, unspoken = plan_chunks(book, split, settings, seed)
    book.skipped += unspoken
    made = _run_batches(tts, batches(chunks, batch_size), chunk_dir, retries, group, progress)
    group.barrier()
    if not group.main:
        return None
    rendered = {
        key: _load_chunk(chunk_dir / f"{key}.npz") for key in {c.key for c in chunks}
    }  # a repeated sentence is read once
    manifest = _write_outputs(book, chunks, rendered, out_dir, sr, fmt, joined)
    wall = time.perf_counter() - start
    manifest["summary"] = {
        "audio_seconds": round(sum(ch["duration"] for ch in manifest["chapters"]), 2),
        "synthesized_seconds_this_run": round(made, 2),  # by this process (rank 0)
        "wall_seconds": round(wall, 2),
        "real_time_factor": round(wall / made, 3) if made else None,
        "flagged_chunks": sum(1 for ch in manifest["chapters"] for e in ch["chunks"] if e["flag"]),
    }
    _write_json(out_dir / "manifest.json", manifest)
    return manifest


def _run_batches(
    tts: Synthesizer, plan: list[list[Chunk]], chunk_dir: Path, retries: int, group: Group, progress: bool
) -> float:
    """Synthesise this rank's batches with an unfinished chunk; return the seconds of audio made."""
    missing = lambda batch: [c for c in batch if not (chunk_dir / f"{c.key}.npz").exists()]  # noqa: E731

    def render(batch: list[Chunk]) -> float:
        todo, made = missing(batch), 0
        for c, r in zip(batch, _synthesize(tts, batch, retries)):
            if c in todo:
                _save_chunk(chunk_dir / f"{c.key}.npz", r)
                made += len(r.audio)
        return made / tts.sample_rate

    share = group.share(plan, lambda b: sum(len(c.text) for c in b))
    return run_batches(share, lambda b: not missing(b), render, group, "audiobook", "chunk", progress)


def _write_outputs(
    book: Book, chunks: list[Chunk], rendered: dict[str, Rendered], out_dir: Path, sr: int, fmt: str, joined: bool
) -> dict:
    manifest = {"sample_rate": sr, "chapters": [], "not_spoken": book.skipped}
    all_audio, offset = [], 0.0
    for c, chapter in enumerate(book.chapters):
        audio, entries = _assemble_chapter([k for k in chunks if k.chapter == c], rendered, sr)
        name = f"{c + 1:02d}-{_slug(chapter.title)}.{fmt}"
        save_audio(out_dir / name, audio, sr)
        duration = len(audio) / sr
        manifest["chapters"].append(
            {
                "title": chapter.title,
                "file": name,
                "duration": round(duration, 3),
                "start_in_book": round(offset, 3),
                "chunks": entries,
            }
        )
        gap = np.zeros(int(PAUSES["title"] * sr), np.float32)
        all_audio += [audio, gap]
        offset += duration + len(gap) / sr
    if joined:
        save_audio(out_dir / f"book.{fmt}", np.concatenate(all_audio), sr)
        manifest["joined_file"] = f"book.{fmt}"
    return manifest


def _write_json(path: Path, obj) -> None:
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
