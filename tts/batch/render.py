"""Render a batch manifest (`tts.batch.manifest`) into DIR/<id>.<format>: sharded over torchrun's
processes, resumable, deterministic.

Batches are formed once from all good items (sorted by text length, `batch_size` items each)
and whole batches are dealt to the ranks, balanced by text length (`latentlm_common.jobs`).
A batch's items are generated together whatever their voices; items with other guidance scales
or step counts go in sub-batches of equal settings, in batch order. An item's audio is decided
by its fields, its seed, its voice file, the model and its batch (fixed by the manifest and the
batch size), never by the number of processes. Each process encodes a voice prompt once, however
many items share it.

Layout of DIR:

    <id>.wav | <id>.flac   one file per item, written atomically
    .batches/<key>.json    one finished batch: each member's file, duration and flags, or the
                           error that refused it; written after the batch's audio, so it marks
                           the batch done. The key hashes the members' fields and voice files,
                           the model, the format and the retries.
    manifest.jsonl         written by rank 0 once every rank is done: one line per manifest
                           line, in order: {"line", "id", "file", "duration", "flags", "seed"}
                           for an item; {"line", "id", "error"} for a bad line, or for an item
                           whose prompt or text was refused when its batch was rendered.

A rerun skips finished batches and renders unfinished ones whole, so resumed files are
byte-identical to those of an uninterrupted run.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from latentlm_common.audio import save_audio
from latentlm_common.errors import InputError
from latentlm_common.files import atomic_write
from latentlm_common.jobs import Group, digest, file_digest, length_batches, run_batches, tree_digest
from tts.batch.manifest import BadLine, Item, read_manifest
from tts.text import split_text

DONE_DIR = ".batches"
OUTPUT_MANIFEST = "manifest.jsonl"


@dataclass(frozen=True)
class Job:
    out_dir: Path
    fmt: str = "wav"  # wav or flac
    batch_size: int = 8  # items per batch
    retries: int = 2  # flagged chunks sampled again (`Synthesizer.synthesize_batch`)
    speed: float = 1.0  # speaking rate of every item
    progress: bool = True


@dataclass
class Summary:
    items: int  # good manifest lines
    bad_lines: int
    refused: int  # items whose prompt or text was refused at rendering
    flagged: int  # items written with flags (length guard, alignment, near silence)
    audio_seconds: float  # of all items' files
    made_seconds: float  # synthesised by this process in this run


class Voices:
    """Each (prompt file, transcript) encoded once per process; a refused prompt is remembered too."""

    def __init__(self, tts):
        self.tts, self.cache = tts, {}

    def get(self, path: str, text: str | None):
        if (path, text) not in self.cache:
            try:
                self.cache[path, text] = self.tts.load_voice(path, text)
            except InputError as e:
                self.cache[path, text] = e
        voice = self.cache[path, text]
        if isinstance(voice, InputError):
            raise InputError(str(voice))
        return voice


def run_job(tts, manifest: str | Path, job: Job, group: Group, guidance_scale: float, steps: int) -> Summary | None:
    """Render this rank's share of the manifest, wait for every rank, and on rank 0 write
    manifest.jsonl and return the summary (None on the other ranks)."""
    items, bad = read_manifest(manifest, guidance_scale, steps)
    if group.main:
        for b in bad:
            tqdm.write(f"{manifest}: line {b.line}: {b.error}; skipped", file=sys.stderr)
    key = _batch_key(f"{type(tts).__name__}:{tree_digest(tts.checkpoint_dir)}", job)  # engines differ
    done = job.out_dir / DONE_DIR
    plan = length_batches(items, job.batch_size, lambda i: (len(i.text), i.id))
    voices = Voices(tts)
    made = run_batches(
        group.share(plan, lambda b: sum(len(i.text) for i in b)),
        finished=lambda b: (done / f"{key(b)}.json").is_file(),
        render=lambda b: _render(tts, b, voices, job, done / f"{key(b)}.json"),
        group=group,
        desc="batch",
        progress=job.progress,
    )
    group.barrier()
    if not group.main:
        return None
    rows = {n: row for b in plan for n, row in _read_record(done / f"{key(b)}.json", b).items()}
    return _write_output(job.out_dir, items, bad, rows, made)


def _batch_key(model: str, job: Job):
    voices: dict[str, str] = {}

    def key(batch: list[Item]) -> str:
        for i in batch:
            voices.setdefault(i.voice, file_digest(i.voice))
        members = [{**i.fields, "voice": voices[i.voice]} for i in batch]
        settings = {"model": model, "format": job.fmt, "retries": job.retries, "speed": job.speed}
        return digest({**settings, "items": members})

    return key


def _render(tts, batch: list[Item], voices: Voices, job: Job, record: Path) -> float:
    """Synthesise one batch, write its files, then its record; returns the seconds of audio made."""
    rows, groups = {}, {}
    for item in batch:
        try:
            voice = voices.get(item.voice, item.voice_text)
            split_text(item.text)  # nothing to pronounce: refuse this item, not the whole batch
        except InputError as e:
            tqdm.write(f"line {item.line}: {item.id}: {e}; skipped", file=sys.stderr)
            rows[item.id] = {"error": str(e)}
            continue
        groups.setdefault((item.guidance_scale, item.steps), []).append((item, voice))
    seconds = 0.0
    for (guidance_scale, steps), members in groups.items():
        audios = tts.synthesize_batch(
            [i.text for i, _ in members],
            voice=[v for _, v in members],
            guidance_scale=guidance_scale,
            steps=steps,
            seeds=[i.seed for i, _ in members],
            retries=job.retries,
            speed=job.speed,
        )
        for (item, _), audio in zip(members, audios):
            name = f"{item.id}.{job.fmt}"
            save_audio(job.out_dir / name, audio.samples, audio.sample_rate)
            duration = len(audio.samples) / audio.sample_rate
            rows[item.id] = {"file": name, "duration": round(duration, 3), "flags": audio.problems}
            seconds += duration
    atomic_write(record, lambda tmp: Path(tmp).write_text(json.dumps(rows)))
    return seconds


def _read_record(path: Path, batch: list[Item]) -> dict[int, dict]:
    """The output rows of a finished batch, by manifest line."""
    rows = json.loads(path.read_text())
    return {i.line: {"line": i.line, "id": i.id, **rows[i.id], "seed": i.seed} for i in batch}


def _write_output(out_dir: Path, items: list[Item], bad: list[BadLine], rows: dict, made: float) -> Summary:
    rows |= {b.line: {"line": b.line, "id": b.id, "error": b.error} for b in bad}
    text = "".join(json.dumps(rows[n], ensure_ascii=False) + "\n" for n in sorted(rows))
    atomic_write(out_dir / OUTPUT_MANIFEST, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    written = [r for r in rows.values() if "file" in r]
    return Summary(
        items=len(items),
        bad_lines=len(bad),
        refused=len(items) - len(written),
        flagged=sum(1 for r in written if r["flags"]),
        audio_seconds=round(sum(r["duration"] for r in written), 3),
        made_seconds=round(made, 3),
    )
