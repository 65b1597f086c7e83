"""Build the synthetic multi-speaker corpus in LibriSpeech layout.

    python -m recipes.synthetic.build --out /data/synthetic --hours 1 --seed 0 [--jobs 1] [--idle-jobs 0]

Writes SPLIT/SPEAKER/CHAPTER/SPEAKER-CHAPTER-UTT.flac (24 kHz) with SPEAKER-CHAPTER.trans.txt
(LibriSpeech style) and SPEAKER-CHAPTER.normalized.txt (the same ids with the cased, punctuated
normalised text), plus speakers.tsv, SPEAKERS.TXT, utterances.tsv and the data card DATA.md.
The output is the same for a given seed and set of usable voices, whatever --jobs and --idle-jobs are.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import csv
import json
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

from latentlm_common.audio import load_audio, rms_normalize, save_audio, trim_silence
from recipes.synthetic.engines import CATALOG, ENGINES, MIXES, BaseVoice, resolve_voices, synthesize
from recipes.synthetic.qc import transcriber, word_error_rate
from recipes.synthetic.resume import STATE_DIR, clear_speaker, load_done, mark_done, open_output
from recipes.synthetic.speakers import Speaker, plan_speakers, write_speakers
from recipes.synthetic.text import SOURCES, librispeech_transcript, load_sentences
from recipes.synthetic.warp import apply_warp
from vae_audio.config import AudioConfig

log = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test", "test-unseen")
IDLE_NICE = 19  # the niceness of --idle-jobs workers: the lowest CPU priority
MAX_TRIES_PER_UTT = 4  # a speaker gives up after this many candidate sentences per utterance it needs
# ... and after this many rejected takes: most takes of the accented mbrola voices fail the ASR check
# (80-90 % for de3-en), and without this cap each of their speakers said every candidate (about 530)
MAX_REJECTED = 150


@dataclass
class BuildConfig:
    out: Path
    hours: float = 1.0
    seed: int = 0
    speakers: int | None = None  # default: max(2 per base voice, 6 per hour)
    engines: tuple[str, ...] = ENGINES
    mix: str = "v1"  # which catalog voices (engines.MIXES); `voices` overrides it
    text_sources: tuple[str, ...] = SOURCES
    jobs: int = 1
    idle_jobs: int = 0  # more workers at the lowest CPU priority (see run_jobs)
    unseen_voices: int = 2  # base voices held out whole for test-unseen
    min_utts: int = 20  # per speaker, in train (seen) or test-unseen (unseen)
    n_dev: int = 2  # per seen speaker
    n_test: int = 2  # per seen speaker
    min_seconds: float = 2.0
    max_seconds: float = 15.0
    qc: bool = True  # ASR every utterance and drop those above max_wer
    max_wer: float = 0.35  # catches garbled audio; below it, misses are mostly the ASR on rare words
    similarity: bool = True  # resemblyzer statistics in the data card
    similarity_utts: int = 4  # per speaker and split
    voices: list[BaseVoice] | None = field(default=None, repr=False)  # None: the voices of `mix`
    reuse: Path | None = None  # an earlier build whose audio is copied where it matches (see earlier_takes)

    def n_speakers(self, n_bases: int) -> int:
        return self.speakers if self.speakers else max(2 * n_bases, round(6 * self.hours))


@dataclass
class SpeakerJob:
    speaker: Speaker
    candidates: list[str]  # normalised sentences, in the order this speaker tries them
    target_seconds: float
    cfg: BuildConfig


def split_slots(job: SpeakerJob) -> Iterator[str]:
    """The split of each next utterance: dev and test slots first (seen speakers), then the main split."""
    cfg = job.cfg
    if not job.speaker.unseen:
        yield from ["dev"] * cfg.n_dev + ["test"] * cfg.n_test
    main = "test-unseen" if job.speaker.unseen else "train"
    while True:
        yield main


def make_utterance(
    speaker: Speaker, text: str, sample_rate: int, target_dbfs: float, min_seconds: float = 0.0
) -> np.ndarray:
    """Speak, resample to the corpus rate, warp into the pseudo-speaker, trim and level."""
    x, sr = synthesize(speaker.base, text)
    x = soxr.resample(x, sr, sample_rate).astype(np.float32) if sr != sample_rate else x
    if len(x) / sample_rate / speaker.warp.rate < min_seconds:
        return x[:0]  # too short even before trimming: not worth a WORLD analysis
    x = apply_warp(x, sample_rate, speaker.warp)
    return rms_normalize(trim_silence(x, sample_rate), target_dbfs)


VERDICT_SETTINGS = ("qc", "max_wer", "min_seconds", "max_seconds")  # what decides whether a take is kept


def earlier_takes(build_dir: Path, speaker: Speaker, cfg: BuildConfig) -> tuple[dict, dict[str, dict]]:
    """The same speaker's takes in an earlier build: {(split, index, text): (audio file, record)} of
    those it kept, and {text: record} of those its check refused (by duration or ASR).

    A build with the same seed and a smaller --hours says each speaker's first sentences in the same
    order, so its audio can be copied instead of synthesised again, and, when it judged takes by the
    same settings, its verdicts (ASR transcripts, refusals) stand too: about 80 % of a checked
    build's time is the ASR. Only a speaker with the same voice and warp counts; utterances
    synthesised after the copied ones may differ from a from-scratch build in espeak's inaudible
    pitch-flutter phase (its state runs on within a process).
    """
    key_file, done = build_dir / STATE_DIR / "build.json", load_done(build_dir, speaker.id)
    if done is None or not key_file.is_file():
        return {}, {}
    key = json.loads(key_file.read_text())
    rows = {row["speaker"]: row for row in key["speakers"]}
    if rows.get(speaker.id) != json.loads(json.dumps(speaker.row())):
        return {}, {}
    same_check = all(key.get(k) == getattr(cfg, k) for k in VERDICT_SETTINGS)  # else only the audio stands
    kept = {
        (r["split"], int(r["id"].rsplit("-", 1)[1]), r["text"]): (
            utterance_folder(build_dir, r) / f"{r['id']}.flac",
            r if same_check else {},
        )
        for r in done[0]
    }
    refused = {r["text"]: r for r in done[1] if "text" in r} if same_check else {}
    return kept, refused


def speak_speaker(job: SpeakerJob) -> tuple[list[dict], list[dict]]:
    """Generate, check and write one speaker's utterances; returns kept and rejected records."""
    audio_cfg, cfg, spk = AudioConfig(), job.cfg, job.speaker
    records, rejected = [], []
    earlier, refused = earlier_takes(cfg.reuse, spk, cfg) if cfg.reuse else ({}, {})
    slots, split = split_slots(job), None
    total, main_count = 0.0, 0
    for text in job.candidates:
        if split is None:
            split = next(slots)
        if split in ("train", "test-unseen") and main_count >= cfg.min_utts and total >= job.target_seconds:
            break
        if len(rejected) >= MAX_REJECTED:
            log.info(f"speaker {spk.id}: {MAX_REJECTED} takes rejected, {len(records)} kept; the speaker stops here")
            break
        if text in refused:  # the earlier build refused this speaker's take of it by the same check
            rejected.append(refused[text])
            continue
        take, verdict = earlier.get((split, sum(r["split"] == split for r in records), text), (None, {}))
        try:
            x = (
                load_audio(take, audio_cfg.sample_rate, normalize_dbfs=None, trim=False)
                if take
                else make_utterance(spk, text, audio_cfg.sample_rate, audio_cfg.target_dbfs, cfg.min_seconds)
            )
        except Exception as e:  # one sentence an engine cannot say must not stop the build
            log.warning(f"speaker {spk.id}: synthesis failed ({e}); sentence skipped")
            rejected.append({"engine": spk.base.engine, "reason": "synthesis"})
            continue
        seconds = len(x) / audio_cfg.sample_rate
        record = {
            "speaker": spk.id,
            "split": split,
            "seconds": round(seconds, 3),
            "engine": spk.base.engine,
            "base_voice": spk.base.key,
            "text": text,
            "transcript": librispeech_transcript(text),
        }
        if not cfg.min_seconds <= seconds <= cfg.max_seconds:
            rejected.append({**record, "reason": "duration"})
            continue
        if cfg.qc:
            record["asr"] = verdict["asr"] if "asr" in verdict else transcriber()(x, audio_cfg.sample_rate)
            record["wer"] = round(word_error_rate(record["transcript"], record["asr"]), 4)
            if record["wer"] > cfg.max_wer:
                rejected.append({**record, "reason": "wer"})
                continue
        write_utterance(record, x, cfg.out, audio_cfg.sample_rate, sum(r["split"] == split for r in records))
        records.append(record)
        total += seconds
        main_count += split in ("train", "test-unseen")
        split = None
    write_transcripts(records, cfg.out)
    return records, rejected


def chapter_of(speaker_id: int, split: str) -> int:
    return speaker_id * 10 + SPLITS.index(split)


def utterance_folder(out: Path, record: dict) -> Path:
    return out / record["split"] / str(record["speaker"]) / str(chapter_of(record["speaker"], record["split"]))


def write_utterance(record: dict, x: np.ndarray, out: Path, sample_rate: int, index: int) -> None:
    record["id"] = f"{record['speaker']}-{chapter_of(record['speaker'], record['split'])}-{index:04d}"
    save_audio(utterance_folder(out, record) / f"{record['id']}.flac", x, sample_rate)


def write_transcripts(records: list[dict], out: Path) -> None:
    """Each chapter's trans.txt and normalized.txt, written whole once its speaker is done (never
    appended to, so a rerun or a stray worker of a killed run cannot leave duplicate lines)."""
    chapters: dict[Path, list[dict]] = {}
    for r in records:
        chapters.setdefault(utterance_folder(out, r), []).append(r)
    for folder, recs in chapters.items():
        for suffix, key in (("trans.txt", "transcript"), ("normalized.txt", "text")):
            lines = "".join(f"{r['id']} {r[key]}\n" for r in recs)
            (folder / f"{folder.parent.name}-{folder.name}.{suffix}").write_text(lines, encoding="utf-8")


def plan_jobs(cfg: BuildConfig, speakers: list[Speaker], sentences: list[str]) -> list[SpeakerJob]:
    """One job per speaker; each speaker tries sentences in its own seeded order."""
    target = cfg.hours * 3600.0 / len(speakers)
    jobs = []
    for spk in speakers:
        rng = np.random.default_rng([cfg.seed, spk.id])
        need = cfg.min_utts + (0 if spk.unseen else cfg.n_dev + cfg.n_test) + int(target / cfg.min_seconds)
        order = rng.permutation(len(sentences))[: need * MAX_TRIES_PER_UTT]
        jobs.append(SpeakerJob(spk, [sentences[i] for i in order], target, cfg))
    return jobs


def worker_pool(niceness: int | None = None):
    """One worker process, a fresh one for every task, at CPU `niceness` (None: this process's)."""
    context = multiprocessing.get_context("spawn")
    if niceness is None:
        return context.Pool(1, maxtasksperchild=1)
    return context.Pool(1, maxtasksperchild=1, initializer=os.setpriority, initargs=(os.PRIO_PROCESS, 0, niceness))


def run_jobs(
    jobs: list[SpeakerJob], n_workers: int, out: Path, idle_workers: int = 0
) -> list[tuple[list[dict], list[dict]]]:
    """Each speaker runs in a fresh process: libespeak-ng carries signal state (pitch flutter phase,
    echo buffer) from one utterance to the next, so a speaker's audio would otherwise depend on which
    speakers the same process spoke before, and the output on --jobs. Finished speakers are skipped.
    `idle_workers` more worker processes run at the lowest CPU priority (nice 19): they take speakers
    from the same queue but get a core only when nothing else wants it."""
    results = {job.speaker.id: load_done(out, job.speaker.id) for job in jobs}
    todo = [job for job in jobs if results[job.speaker.id] is None]
    for job in todo:
        clear_speaker(out, job.speaker.id, SPLITS)
    if len(todo) < len(jobs):
        log.info(f"resuming: {len(jobs) - len(todo)} of {len(jobs)} speakers are already done")
    queue, lock, finished = collections.deque(todo), threading.Lock(), 0

    def worker(niceness: int | None) -> None:  # one worker slot: a fresh process per speaker, until the queue is empty
        nonlocal finished
        with worker_pool(niceness) as pool:
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.popleft()
                try:
                    result = pool.apply(speak_speaker, (job,))
                except BaseException:
                    queue.clear()  # the other slots stop after their current speaker
                    raise
                with lock:
                    mark_done(out, job.speaker.id, result)
                    results[job.speaker.id], finished = result, finished + 1
                    log.info(
                        f"speaker {job.speaker.id} ({job.speaker.base.key}, k={job.speaker.k}): {len(result[0])} "
                        f"utterances, {sum(r['seconds'] for r in result[0]):.0f} s, {len(result[1])} rejected "
                        f"[{finished}/{len(todo)}]"
                    )

    slots = [None] * n_workers + [IDLE_NICE] * idle_workers
    with concurrent.futures.ThreadPoolExecutor(len(slots)) as threads:
        for slot in [threads.submit(worker, niceness) for niceness in slots]:
            slot.result()  # a worker's error, raised here
    return [results[job.speaker.id] for job in jobs]


def build_key(cfg: BuildConfig, speakers: list[Speaker]) -> dict:
    """Everything that decides the output; a resumed build must match it exactly."""
    skip = ("out", "jobs", "idle_jobs", "voices", "mix", "similarity", "reuse")  # the speakers below name the voices
    settings = {k: v for k, v in vars(cfg).items() if k not in skip}
    return {**settings, "speakers": [s.row() for s in speakers]}


def build(cfg: BuildConfig) -> dict:
    """Build the corpus under cfg.out; returns a summary (also written to DATA.md)."""
    started = time.time()
    cfg.out = Path(cfg.out)
    if cfg.mix not in MIXES:
        raise ValueError(f"unknown voice mix {cfg.mix!r} (known: {', '.join(MIXES)})")
    bases, skipped = resolve_voices(list(cfg.engines), MIXES[cfg.mix].voices() if cfg.voices is None else cfg.voices)
    speakers = plan_speakers(bases, cfg.n_speakers(len(bases)), cfg.seed, cfg.unseen_voices)
    open_output(cfg.out, build_key(cfg, speakers))
    sentences, text_counts = load_sentences(tuple(cfg.text_sources))
    results = run_jobs(plan_jobs(cfg, speakers, sentences), cfg.jobs, cfg.out, cfg.idle_jobs)
    records = [r for recs, _ in results for r in recs]
    rejected = [r for _, rej in results for r in rej]
    short = [
        s.id
        for s, (recs, _) in zip(speakers, results)
        if sum(r["split"] in ("train", "test-unseen") for r in recs) < cfg.min_utts
    ]
    for spk_id in short:
        log.warning(f"speaker {spk_id} has fewer than {cfg.min_utts} utterances: its sentences ran out")
    minutes = {s.id: sum(r["seconds"] for r in recs) / 60 for s, (recs, _) in zip(speakers, results)}
    write_speakers(speakers, minutes, cfg.out)
    write_utterance_table(records, cfg.out)
    from recipes.synthetic.card import write_data_card

    summary = {
        "cfg": cfg,
        "speakers": speakers,
        "records": records,
        "rejected": rejected,
        "skipped": skipped,
        "text_counts": text_counts,
        "short_speakers": short,
        "build_seconds": time.time() - started,
    }
    write_data_card(summary, cfg.out)
    return summary


def write_utterance_table(records: list[dict], out: Path) -> None:
    fields = ["id", "split", "speaker", "engine", "base_voice", "seconds", "wer", "transcript", "asr", "text"]
    with open(out / "utterances.tsv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, delimiter="\t", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)


def parse_args(argv: list[str] | None = None) -> BuildConfig:
    p = argparse.ArgumentParser(prog="python -m recipes.synthetic.build", description=__doc__.split("\n")[0])
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output directory: new, empty, or an interrupted build with the same settings (resumed)",
    )
    p.add_argument("--hours", type=float, default=1.0, help="total audio to generate, all splits")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--speakers", type=int, default=None, help="default: max(2 per base voice, 6 per hour)")
    p.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of " + ",".join(ENGINES))
    p.add_argument("--text", default=",".join(SOURCES), help="comma-separated text sources")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (the CPU may be shared)")
    p.add_argument(
        "--idle-jobs",
        type=int,
        default=0,
        help="more worker processes at the lowest CPU priority (nice 19): they use cores that other work "
        "leaves idle and barely slow it down",
    )
    p.add_argument(
        "--mix",
        default="v1",
        choices=list(MIXES),
        help="catalog voices: " + "; ".join(f"{m.name}: {m.description}" for m in MIXES.values()),
    )
    p.add_argument(
        "--voices", default=None, help="comma-separated catalog voices, e.g. mbrola:de2-en (instead of --mix)"
    )
    p.add_argument(
        "--unseen-voices",
        type=int,
        default=None,
        help="base voices held out whole for test-unseen (default: the mix's)",
    )
    p.add_argument("--max-wer", type=float, default=0.35, help="drop utterances whose ASR WER is above this")
    p.add_argument("--no-qc", action="store_true", help="skip ASR checking (faster, unchecked audio)")
    p.add_argument("--no-similarity", action="store_true", help="skip resemblyzer statistics")
    p.add_argument(
        "--reuse",
        type=Path,
        default=None,
        metavar="DIR",
        help="an earlier build with the same --seed (e.g. fewer --hours): its audio is copied "
        "where speaker, position and sentence match, instead of synthesised again",
    )
    a = p.parse_args(argv)
    if a.hours <= 0 or a.jobs < 1 or a.idle_jobs < 0:
        p.error("--hours must be positive, --jobs at least 1 and --idle-jobs at least 0")
    by_key = {v.key: v for v in CATALOG}
    keys = [k.strip() for k in (a.voices or "").split(",") if k.strip()]
    if unknown := [k for k in keys if k not in by_key]:
        p.error(f"--voices: {', '.join(unknown)} not in the catalog (recipes/synthetic/engines.py)")
    return BuildConfig(
        out=a.out,
        hours=a.hours,
        seed=a.seed,
        speakers=a.speakers,
        engines=tuple(e.strip() for e in a.engines.split(",") if e.strip()),
        text_sources=tuple(s.strip() for s in a.text.split(",") if s.strip()),
        jobs=a.jobs,
        idle_jobs=a.idle_jobs,
        mix=a.mix,
        unseen_voices=MIXES[a.mix].unseen_voices if a.unseen_voices is None else a.unseen_voices,
        max_wer=a.max_wer,
        qc=not a.no_qc,
        similarity=not a.no_similarity,
        reuse=a.reuse,
        voices=[by_key[k] for k in keys] if a.voices else None,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    cfg = parse_args(argv)
    try:
        summary = build(cfg)
    except (FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    hours = sum(r["seconds"] for r in summary["records"]) / 3600
    print(
        f"wrote {len(summary['records'])} utterances, {hours:.2f} h, {len(summary['speakers'])} speakers "
        f"to {cfg.out} in {summary['build_seconds'] / 60:.1f} min; see {cfg.out / 'DATA.md'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
