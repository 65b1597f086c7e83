"""The inference core: batched next-token diffusion with CFG and per-sequence stop, written once.

It knows nothing about text, torch or ONNX Runtime. A request holds phoneme ids and σ-VAE
latents (raw, as the VAE writes them; the core normalises them with the checkpoint's scale and
bias and returns raw latents). `EngineCore` runs the frame loop against four backend hooks
(prefill, stop logits, sample a frame, step) and four cache hooks of continuous batching
(`tts.batching`: requests join a running batch and leave it at any frame); `tts.engine.Engine` (PyTorch) and
`tts.onnx.engine.OnnxEngine` (ONNX Runtime) implement them.

- All sequences of a batch are left-padded to one prefix length (`tts.layout`) and stepped in
  lockstep with one KV cache; a finished sequence leaves the cache at once.
- CFG: each request gets a negative sequence `BOS SPEECH` + the same speech latents (no text,
  no voice) in the same batch, after the conditional rows, and the head mixes
  v = v_u + w (v_c - v_u) (`tts.sampler.guide`). At w = 1 the negative sequences are not built.
- Randomness: one noise source per request (a `torch.Generator`, a numpy generator, or a replay
  of prepared noise) draws that request's noise, so a request's output does not depend on what
  else is in the batch.
- Alignment (requests that carry `words`, as every front-end request does): the CTC head's
  posteriors are aligned to the request's phonemes frame by frame (`tts.alignment`), and the
  result carries the alignment and its flags (skipped, repeated, never reached). The stop rule
  below aligns the conditional row's posteriors: with the text in context the head tracks where
  the model is in it. A guided request of a checkpoint whose head listens (`LMConfig.ctc_listens`)
  is aligned a second time, on its negative row, which has no text: that CTC says what the speech
  says, so that alignment (its "listener") is the one reported, for word times and flags.
- Stop: a request ends before frame i (from frame 1 on: at least one frame is generated) when
  its stop logit is positive and, for an aligned request, its speech has reached the last
  phoneme (or i is past PATIENCE_FACTOR times the expected length: the stop head alone decides
  again); an aligned request also ends once it has reached the last phoneme and QUIET_FRAMES
  frames have been silence, and at the latest TAIL_FRAMES frames after it reached it (no
  run-on past the text), and one that has not reached it by OVERRUN_FACTOR times the expected
  length ends there (flagged "never reached"). A stop the alignment refused is granted after all when the speech
  gets no phoneme further within STALL_FRAMES frames (it stalls or babbles; the result is then
  flagged "never reached"). Last resort: the length guard,
      ceil(GUARD_FACTOR * N * r) + GUARD_MARGIN - P   frames (and at least GUARD_MARGIN),
  N = phoneme count, r = frames per phoneme, P = prompt latents that start the speech.
  With r = 1 frame per phoneme that is twice the expected length plus one second. When the
  guard fires, the result says so (`hit_length_guard`) and a warning is logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tts.alignment import Alignment, CTCAligner
from tts.config import LMConfig
from tts.layout import Batch, build_sequence, collate

log = logging.getLogger(__name__)

GUARD_FACTOR = 2.0
GUARD_MARGIN = 15  # frames: one second at 15 Hz
PATIENCE_FACTOR = 1.25  # x expected frames (N * r): after that the stop head no longer waits for the text
OVERRUN_FACTOR = 1.5  # x expected frames: an aligned request that has not reached its text by then ends
QUIET_FRAMES = 8  # frames of CTC blank after the last phoneme that end a request without the stop head
STALL_FRAMES = 6  # frames without progress after a refused stop that grant it after all
# frames after the last phoneme is reached by which a request ends at the latest; the CTC head reads
# ahead of the audio, and 4 cut the last word of 52-62 % of setting A's items (8: 37-48 %, WER -3.1 points)
TAIL_FRAMES = 8
# a continuation's alignment may start this many frames' worth of phonemes in, as the CTC head reads
# ahead of the audio (tts.alignment); 8 cut more of setting B's items short
CTC_LEAD_FRAMES = 5
Array = Any  # a backend's array type: torch.Tensor or np.ndarray


@dataclass
class SpeechRequest:
    text: Array | None  # (N,) phoneme ids; None: unconditional (needs max_frames)
    voice: Array | None = None  # (K, D) raw latents of a voice prompt
    prompt: Array | None = None  # (P, D) raw latents that start the speech (continuation)
    rate: float | None = None  # frames per phoneme; None: the checkpoint's global rate
    max_frames: int | None = None  # overrides the length guard
    words: list[int] | None = None  # per text id: its word index, -1 for non-sounds; aligns the request
    align_from: int = 0  # text ids before this are the continuation prompt's transcript (already spoken)

    def frames_per_phoneme(self, default_rate: float) -> float:
        """Its own rate, or the checkpoint's `default_rate` when it has none."""
        return default_rate if self.rate is None else self.rate


@dataclass
class Frame:
    index: int  # 0-based index of the generated frame
    latents: Array  # (B, D) raw latents; rows where `active` is False are meaningless
    active: np.ndarray  # (B,) bool: this frame belongs to the request's output


@dataclass
class StopState:
    """How each request of a batch ended, filled in while it is generated."""

    stopped: np.ndarray  # (B,) bool: ended by the stop head
    guarded: np.ndarray  # (B,) bool: ended by the length guard

    aligners: list = field(default_factory=list)  # per request: its CTCAligner or None (the stop rule's)
    listeners: list = field(default_factory=list)  # per request: its negative row's CTCAligner (see `alignment`)
    done_at: np.ndarray | None = None  # (B,) frame at which the speech reached the last phoneme, -1 before
    refused: np.ndarray | None = None  # (B,) frame of a stop the alignment refused, -1 for none
    progress_then: np.ndarray | None = None  # (B,) phonemes the speech had reached at that refusal

    @classmethod
    def empty(cls, n: int) -> StopState:
        return cls(np.zeros(n, bool), np.zeros(n, bool))

    def alignment(self, b: int) -> Alignment | None:
        """Request b's reported alignment (word times, flags): its listener's when it has one, else
        its stop rule's aligner's; None when it is not aligned."""
        for aligners in (self.listeners, self.aligners):
            if aligners and aligners[b] is not None:
                return aligners[b].finish()
        return None

    def update(
        self, stop_logits: np.ndarray, index: int, limits: np.ndarray, expected: np.ndarray, active: np.ndarray
    ) -> np.ndarray:
        """Record the requests that end before frame `index`; return the ones still active.
        `expected`: each request's expected frames (N * r). The rule is the module docstring's;
        a request without an aligner counts as having reached its last phoneme."""
        aligners = self.aligners or [None] * len(active)
        done = np.array([a is None or a.done for a in aligners])
        quiet = np.array([a is not None and a.done and a.quiet_frames() >= QUIET_FRAMES for a in aligners])
        progress = np.array([a.consumed if a is not None else 0 for a in aligners])
        if self.refused is None:
            self.refused, self.progress_then = np.full(len(active), -1), np.zeros(len(active), np.int64)
            self.done_at = np.full(len(active), -1)
        aligned = np.array([a is not None for a in aligners])
        self.done_at[done & aligned & (self.done_at < 0)] = index
        tail = (self.done_at >= 0) & (index - self.done_at >= TAIL_FRAMES)  # said the text: no run-on
        overrun = aligned & ~done & (index >= np.ceil(OVERRUN_FACTOR * expected))
        head, ready = stop_logits > 0, done | (index >= np.ceil(PATIENCE_FACTOR * expected))
        self.refused[(self.refused >= 0) & (progress > self.progress_then)] = -1  # it moved on: re-arm
        refuse = head & ~ready & active & (self.refused < 0) & (index > 0)
        self.refused[refuse], self.progress_then[refuse] = index, progress[refuse]
        stalled = (self.refused >= 0) & (index - self.refused >= STALL_FRAMES)
        stop = ((head & ready) | (done & quiet) | stalled | tail | overrun) & (index > 0) & active
        guard = (index >= limits) & active & ~stop
        self.stopped |= stop
        self.guarded |= guard
        return active & ~(stop | guard)


@dataclass
class Generation:
    latents: list[Array]  # per request (T_b, D) raw generated latents (prompt excluded)
    stopped: list[bool]  # ended by the stop head
    hit_length_guard: list[bool]  # ended by the length guard
    alignments: list[Alignment | None]  # per request with `words`: its phonemes' spans and flags


def max_new_frames(req: SpeechRequest, default_rate: float) -> int:
    """The length guard of the module docstring."""
    if req.max_frames is not None:
        return int(req.max_frames)
    if req.text is None:
        raise ValueError("an unconditional request needs max_frames")
    prompt = 0 if req.prompt is None else len(req.prompt)
    rate = req.frames_per_phoneme(default_rate)
    return max(math.ceil(GUARD_FACTOR * len(req.text) * rate) + GUARD_MARGIN - prompt, GUARD_MARGIN)


def expected_frames(req: SpeechRequest, default_rate: float) -> float:
    """N * r for the phonemes the request is to speak (0 for one that is not aligned)."""
    if req.text is None or req.words is None:
        return 0.0
    return (len(req.text) - req.align_from) * req.frames_per_phoneme(default_rate)


class EngineCore:
    """The frame loop of the module docstring; subclasses implement the backend hooks below."""

    cfg: LMConfig

    # ---- backend hooks ---------------------------------------------------------------
    def prefill(self, batch: Batch, capacity: int) -> None:
        """Run the prefixes (numpy `Batch`, conditional rows then negatives) into a new KV cache
        with room for `capacity` tokens; the last position's outputs become current."""
        raise NotImplementedError

    def stop_logits(self) -> np.ndarray:
        """(rows,) float stop logits at the current position."""
        raise NotImplementedError

    def sample(self, noise: list, steps: int, guidance_scale: float) -> Array:
        """Normalised latents (B, D) of the next frame, one row per request, each drawn from its
        own noise source; the rows after the first B of the current outputs are the negatives."""
        raise NotImplementedError

    def step(self, z: Array, positions: np.ndarray) -> None:
        """Feed one normalised latent per row, z (rows, D) at positions (rows,), into the cache."""
        raise NotImplementedError

    def stack(self, rows: list[Array]) -> Array:
        """(T, D) from T rows of (D,); T may be 0."""
        raise NotImplementedError

    def ctc_log_probs(self, rows: np.ndarray) -> np.ndarray | None:
        """(len(rows), ctc_upsample, V) CTC log posteriors of these rows at the current position; None when
        this backend has no CTC head (an ONNX export made before it was exported): no alignment."""
        raise NotImplementedError

    # ---- cache hooks of continuous batching (tts.batching) ---------------------------
    def detach(self) -> Any:
        """The current cache with its outputs, as an object `attach` takes back."""
        raise NotImplementedError

    def attach(self, cache: Any) -> None:
        """Make a detached cache current again."""
        raise NotImplementedError

    def merge(self, other: Any, room: int, order: np.ndarray | None = None) -> None:
        """Append the rows of the detached cache `other` after the current rows: both left-padded
        (padding keys hidden) to their common length, with room for `room` more positions; with
        `order`, row j of the result is row order[j] of that concatenation (one copy, not two)."""
        raise NotImplementedError

    def keep(self, rows: np.ndarray) -> None:
        """Keep only these rows of the current cache and outputs, in this order; leading positions
        that none of them uses are dropped."""
        raise NotImplementedError

    # ---- the loop --------------------------------------------------------------------
    def prefix_batch(self, requests: list[SpeechRequest]) -> Batch:
        """The left-padded conditional prefixes: text, voice and the speech prompt."""
        seqs = []
        for r in requests:
            voice = _normalized(r.voice, self.cfg) if r.voice is not None else None
            seqs.append(build_sequence(self.cfg, r.text, voice, _normalized(r.prompt, self.cfg), r.rate))
        return collate(seqs, pad_left=True, pad_id=self.cfg.pad_id)

    def negative_batch(self, requests: list[SpeechRequest]) -> Batch:
        """The left-padded CFG negatives: `BOS SPEECH` and the speech prompt, no text, no voice. They
        are short, so they are prefilled apart from the conditional rows rather than padded to them."""
        seqs = [build_sequence(self.cfg, None, None, _normalized(r.prompt, self.cfg)) for r in requests]
        return collate(seqs, pad_left=True, pad_id=self.cfg.pad_id)

    def stream(
        self,
        requests: list[SpeechRequest],
        noise: list,
        steps: int = 10,
        guidance_scale: float = 1.0,
        state: StopState | None = None,
    ) -> Iterator[Frame]:
        """Yield one Frame per decoding step until every request has ended; `state`, if given,
        records how each one ended. A `tts.batching.RunningBatch` that every request joins at frame 0."""
        from tts.batching import RunningBatch  # it builds on this module

        if len(noise) != len(requests):
            raise ValueError("give one noise source per request")
        state = state if state is not None else StopState.empty(len(requests))
        batch = RunningBatch(self, steps, guidance_scale)
        batch.join(list(zip(range(len(requests)), requests, noise)))
        state.aligners = [s.state.aligners[0] for s in batch.slots]
        state.listeners = [s.state.listeners[0] for s in batch.slots]
        index = 0
        while len(batch):
            out = batch.step()
            for b, ended in out.ended.items():
                state.stopped[b], state.guarded[b] = ended.stopped, ended.hit_length_guard
            if not out.latents:
                return
            zero = next(iter(out.latents.values())) * 0
            rows = [out.latents.get(b, zero) for b in range(len(requests))]
            active = np.array([b in out.latents for b in range(len(requests))])
            yield Frame(index, self.stack(rows), active)
            index += 1

    def aligners(self, requests: list[SpeechRequest], guided: bool) -> tuple[list, list]:
        """(aligners, listeners), one each per request with `words` (when the backend has a CTC head),
        fed the prefix's last position (the SPEECH token, or the end of a continuation prompt); a
        continuation's may start CTC_LEAD_FRAMES of phonemes in (`tts.alignment`). The rows are laid
        out as n conditional rows, then (guided) their n negatives: aligners read the conditional rows,
        listeners the negatives when the head listens (`LMConfig.ctc_listens`), else they are None."""
        n = len(requests)
        listens = guided and self.cfg.ctc_listens
        log_probs = self.ctc_log_probs(np.arange(2 * n if listens else n))
        aligners, listeners = [None] * n, [None] * n
        for b, r in enumerate(requests):
            if r.words is None or log_probs is None:
                continue
            text = np.asarray(r.text).reshape(-1)[r.align_from :].tolist()
            rate = r.frames_per_phoneme(self.cfg.frames_per_phoneme)
            lead = math.ceil(CTC_LEAD_FRAMES / rate) if r.align_from else 0  # read while the prompt played
            for out, row in [(aligners, b)] + ([(listeners, n + b)] if listens else []):
                out[b] = CTCAligner(text, self.cfg.pad_id, self.cfg.ctc_upsample, r.words[r.align_from :], lead)
                out[b].push(log_probs[row])
        return aligners, listeners

    def generate(
        self, requests: list[SpeechRequest], noise: list, steps: int = 10, guidance_scale: float = 1.0
    ) -> Generation:
        frames = [[] for _ in requests]
        state = StopState.empty(len(requests))
        for f in self.stream(requests, noise, steps, guidance_scale, state):
            for b in np.flatnonzero(f.active):
                frames[b].append(f.latents[b])
        alignments = [state.alignment(b) for b in range(len(requests))]
        out = Generation([self.stack(fr) for fr in frames], state.stopped.tolist(), state.guarded.tolist(), alignments)
        for b, hit in enumerate(out.hit_length_guard):
            if hit:
                log.warning("request %d hit the length guard after %d frames without a stop", b, len(frames[b]))
        return out


def _normalized(z: Array | None, cfg: LMConfig) -> np.ndarray:
    """Raw latents (K, D) as normalised float32 numpy, (0, D) for None."""
    if z is None:
        return np.zeros((0, cfg.latent_dim), np.float32)
    return cfg.normalize(np.asarray(z, dtype=np.float32)).astype(np.float32)
