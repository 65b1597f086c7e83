"""The speech server's scheduler: one worker thread that batches every request continuously.

A `Job` (one HTTP request) is queued (bounded: a full queue refuses it at once). The worker
admits queued jobs while fewer than `max_batch` are running: it loads the job's voice (latents
cached per voice file), plans its chunks (`Synthesizer.plan`: one engine request and one noise
source per chunk, seeded seed, seed + 1, ...) and joins the first chunk to the running batch of
the job's (steps, guidance scale), so it generates from the next frame. Each frame, every
running batch steps once (`tts.batching.RunningBatch`). A job's frames are decoded by the σ-VAE
as soon as its first one exists (the first audio leaves at once), then every DECODE_FRAMES
frames all jobs' pending frames together (one decoder call per few frames and many slots costs
less than one per frame or per few slots: 0.84 ms a slot-frame for 16 slots × 8 frames, 0.89 for
16 × 4, 0.92 for 4 × 8, 2.72 for 1 × 1), grouped by their number of frames, each slot with its
own streaming-decoder state, and handed to the jobs. A chunk that ends leaves at once; the job's next
chunk joins after a pause of silence, the last one ends the job. A cancelled job (client gone) or
one past its deadline leaves the batch at the next frame. What goes wrong inside a step ends the
jobs of that batch with an error and the worker goes on, so no slot is ever stuck.

A job's audio is what `Synthesizer.stream` gives for the same text, voice and seed (to float
rounding): batching does not change it. Deliveries to the job's `deliver` callback, in order:
`Started`, float32 sample arrays, then `Done` or `Failed`; `Failed` may also come first.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentlm_common.errors import InputError
from tts.batching import RunningBatch
from tts.synthesis import Synthesizer

log = logging.getLogger(__name__)
DECODE_FRAMES = 8  # frames between decoder calls after a job's first: 533 ms of audio per delivery
# (16 jobs in flight, in-process: 13.05-13.37 audio-s/s against 12.09-12.79 with 4)


@dataclass
class Started:
    pass


@dataclass
class Done:
    pass


@dataclass
class Failed:
    status: int  # HTTP status
    message: str
    code: str | None = None


@dataclass
class Job:
    text: str
    voice: tuple[Path, str | None] | None  # the voice file and its transcript
    guidance_scale: float
    steps: int
    seed: int
    speed: float
    deliver: Callable[[Any], None]
    timeout: float = 300.0
    cancelled: bool = False
    # filled in by the worker
    id: int = 0
    deadline: float = 0.0
    plan: list = field(default_factory=list)  # (request, noise) per chunk still to generate
    voice_latents: Any = None
    decoder: list | None = None  # the current chunk's streaming-decoder state
    pending: list = field(default_factory=list)  # generated latents not decoded yet
    frames: int = 0  # frames decoded, all chunks

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Stats:
    """What /metrics reports; the worker updates it, the server reads it."""

    on_audio: Callable[[float], None] = lambda seconds: None
    on_batch: Callable[[int], None] = lambda size: None


class Scheduler:
    def __init__(self, tts: Synthesizer, max_batch: int = 16, max_queue: int = 64):
        self.tts, self.max_batch = tts, max_batch
        self.queue: queue.Queue[Job] = queue.Queue(max_queue)
        self.stats = Stats()
        self.batches: dict[tuple[int, float], RunningBatch] = {}
        self.jobs: dict[int, Job] = {}  # admitted, not finished
        self.rejoin: list[Job] = []  # jobs whose next chunk joins at the next frame
        self._voices: dict[tuple, Any] = {}
        self._ids = 0
        self.ticks = 0  # frames stepped
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the server's side -----------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tts-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def submit(self, job: Job) -> None:
        """Queue a job; raises `queue.Full` when the queue is full."""
        self._ids += 1
        job.id, job.deadline = self._ids, time.monotonic() + job.timeout
        self.queue.put_nowait(job)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- the worker ------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._admit()
                if not self.jobs:
                    self._wait()
                    continue
                self._tick()
            except Exception:  # a bug must not stop the server: fail the running jobs, go on
                log.error("scheduler step failed:\n%s", traceback.format_exc())
                self._fail_all(Failed(500, "internal error while generating speech", "server_error"))

    def _wait(self) -> None:
        try:
            job = self.queue.get(timeout=0.2)
        except queue.Empty:
            return
        if self._start(job):
            self._join([job])

    def _admit(self) -> None:
        """Start queued jobs while there are free slots; they and the jobs' next chunks join in one prefill."""
        started = []
        while len(self.jobs) < self.max_batch:
            try:
                job = self.queue.get_nowait()
            except queue.Empty:
                break
            started += [job] if self._start(job) else []
        rejoin, self.rejoin = self.rejoin, []
        self._join([j for j in rejoin if j.id in self.jobs] + started)

    def _start(self, job: Job) -> bool:
        """Prepare a job (voice, chunks) to join; refuse it (False) on bad input."""
        if job.cancelled or time.monotonic() > job.deadline:
            job.deliver(Failed(504, "the request timed out in the queue", "timeout"))
            return False
        try:
            voice = self._voice(job.voice)
            job.plan = self.tts.plan(job.text, voice, job.seed, job.speed)
        except InputError as e:
            job.deliver(Failed(400, _public(str(e), job.voice)))
            return False
        except OSError:  # the voice file went away (deleted) or cannot be read
            job.deliver(Failed(400, "the voice could not be read", "voice_not_found"))
            return False
        except Exception:  # a bug in preparing this one request: refuse it, keep the others
            log.error("preparing a request failed:\n%s", traceback.format_exc())
            job.deliver(Failed(500, "internal error while preparing the request", "server_error"))
            return False
        if not job.plan:
            job.deliver(Failed(400, "the input has nothing to speak"))
            return False
        job.voice_latents = voice.latents if voice is not None and voice.ids is not None else None
        self.jobs[job.id] = job
        job.deliver(Started())
        return True

    def _voice(self, voice: tuple[Path, str | None] | None):
        if voice is None:
            return None
        path, text = voice
        key = (str(path), path.stat().st_mtime_ns, text)
        if key not in self._voices:
            if len(self._voices) > 256:
                self._voices.clear()
            self._voices[key] = self.tts.load_voice(path, text)
        return self._voices[key]

    def _join(self, jobs: list[Job]) -> None:
        """The next chunk of each job joins its batch, with a fresh decoder (primed by a continuation prompt)."""
        groups: dict[tuple, list] = {}
        for job in jobs:
            request, noise = job.plan.pop(0)
            job.decoder = self.tts.decoder_state()
            if job.voice_latents is not None:
                _, (job.decoder,) = self.tts.decode_slots([job.decoder], job.voice_latents[None])
            groups.setdefault((job.steps, job.guidance_scale), []).append((job.id, request, noise))
        for (steps, scale), items in groups.items():
            batch = self.batches.setdefault((steps, scale), RunningBatch(self.tts.engine, steps, scale))
            batch.join(items)

    def _tick(self) -> None:
        """One frame of every running batch; then the due frames are decoded (a chunk that ended
        first flushes its own) and the ended chunks move on."""
        self._drop_cancelled()
        ended, fresh = [], []
        for key, batch in list(self.batches.items()):
            out = batch.step()
            ended += [self.jobs[k] for k in out.ended]
            for k, z in out.latents.items():
                self.jobs[k].pending.append(z)
                fresh.append(self.jobs[k])
            if not len(batch):
                del self.batches[key]
        self.stats.on_batch(len(fresh))
        self.ticks += 1
        cadence = self.ticks % DECODE_FRAMES == 0  # every job's pending frames together: bigger decoder calls
        due = [j for j in fresh if j.frames == 0 or cadence] + [j for j in ended if j.pending]
        self._decode(due)
        for job in ended:
            self._chunk_done(job)

    def _decode(self, jobs: list[Job]) -> None:
        """Each job's pending latents to audio: one batched decoder call per pending length."""
        by_length: dict[int, list[Job]] = {}
        for job in jobs:
            by_length.setdefault(len(job.pending), []).append(job)
        for group in by_length.values():
            latents = np.stack([self.tts._numpy(self.tts.engine.stack(j.pending)) for j in group])  # (n, k, D)
            audio, states = self.tts.decode_slots([j.decoder for j in group], latents)
            for job, samples, state in zip(group, audio, states):
                job.decoder, job.frames, job.pending = state, job.frames + len(job.pending), []
                self._send(job, samples)

    def _send(self, job: Job, samples: np.ndarray) -> None:
        self.stats.on_audio(len(samples) / self.tts.sample_rate)
        job.deliver(samples)

    def _chunk_done(self, job: Job) -> None:
        if job.plan:
            self._send(job, np.zeros(int(self.tts.settings.pause_seconds * self.tts.sample_rate), np.float32))
            self.rejoin.append(job)
        else:
            del self.jobs[job.id]
            job.deliver(Done())

    def _drop_cancelled(self) -> None:
        now = time.monotonic()
        gone = [j for j in self.jobs.values() if j.cancelled or now > j.deadline]
        for job in gone:
            for batch in self.batches.values():
                batch.leave([job.id])
            del self.jobs[job.id]
            if not job.cancelled:
                job.deliver(Failed(504, "the request timed out", "timeout"))
        for key in [k for k, b in self.batches.items() if not len(b)]:
            del self.batches[key]

    def _fail_all(self, failure: Failed) -> None:
        for job in self.jobs.values():
            job.deliver(failure)
        self.jobs, self.batches, self.rejoin = {}, {}, []


def _public(message: str, voice: tuple[Path, str | None] | None) -> str:
    """An error message without the server's file paths (a voice file is named by its voice)."""
    if voice is not None:
        message = message.replace(str(voice[0]), f"voice {voice[0].stem!r}")
    return message
