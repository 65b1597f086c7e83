"""Continuous batching on the inference core: requests join a running batch and leave it at any frame.

    batch = RunningBatch(engine, steps=10, guidance_scale=2.0)
    batch.join([("a", request, noise)])          # prefilled now, generates from the next frame
    out = batch.step()                           # one frame: out.latents {key: (D,)}, out.ended {key: Ended}
    batch.leave(["a"])                           # a cancelled request frees its rows at once

It is torch- and ONNX-free: it drives the backend hooks of `tts.inference.EngineCore`, the
cache hooks included (`detach`, `attach`, `merge`, `keep`). The rows of the running cache are
the conditional rows of the slots in slot order, then (guided) their negatives in the same
order. A newcomer's conditional rows and its negatives are prefilled apart (the negatives are
short: no text, no voice, so they are not padded to the prompts' length) and their caches
joined; then the newcomer's rows and the running ones are left-padded to one length and
concatenated. The row positions are per row, so the padding only hides keys. A slot that ends
is removed from the cache before the next sample. Each slot keeps its own noise source, stop
state and aligner, so what it generates does not depend on its neighbours (to float rounding of
the batched matrix products).

Frame by frame a slot follows exactly the rule of `EngineCore.stream` (the module docstring of
`tts.inference`): at frame i its stop state is updated first, then a latent is sampled, fed back
and aligned. `EngineCore.stream` is this loop with every request joining at frame 0.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tts.alignment import Alignment
from tts.inference import EngineCore, SpeechRequest, StopState, expected_frames, max_new_frames


@dataclass
class Ended:
    """How a slot's request ended."""

    frames: int  # frames it generated
    stopped: bool  # by the stop rule
    hit_length_guard: bool
    state: StopState  # its stop state (size 1), aligner included

    @property
    def alignment(self) -> Alignment | None:
        return self.state.alignment(0)


@dataclass
class StepResult:
    latents: dict[Hashable, Any] = field(default_factory=dict)  # key -> raw latent (D,) of this frame
    ended: dict[Hashable, Ended] = field(default_factory=dict)  # key -> how it ended (before this frame)


@dataclass
class Slot:
    key: Hashable
    noise: Any
    limit: int  # the length guard, in frames
    expected: float  # expected frames (N * r), 0 when not aligned
    state: StopState
    index: int = 0  # the next frame's index


class RunningBatch:
    """The running batch of one (steps, guidance scale) setting; see the module docstring."""

    def __init__(self, engine: EngineCore, steps: int, guidance_scale: float):
        self.engine, self.steps, self.guidance_scale = engine, steps, guidance_scale
        self.guided = guidance_scale != 1.0
        self.slots: list[Slot] = []
        self.positions = np.zeros(0, np.float32)  # per cache row: the position of the last fed token
        self.cache: Any = None  # the engine's detached cache of this batch
        self.pending: Any = None  # the last frame's normalised latents (slots, D), fed back by the next step

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def keys(self) -> list[Hashable]:
        return [s.key for s in self.slots]

    def join(self, items: list[tuple[Hashable, SpeechRequest, Any]]) -> None:
        """Prefill (key, request, noise source) items together and add them to the batch."""
        if not items:
            return
        self._flush()
        keys = {s.key for s in self.slots}
        if len(keys | {k for k, _, _ in items}) != len(keys) + len(items):
            raise ValueError("every slot needs a key of its own")
        requests = [r for _, r, _ in items]
        rate = self.engine.cfg.frames_per_phoneme
        new = [
            Slot(k, noise, max_new_frames(r, rate), expected_frames(r, rate), StopState.empty(1))
            for k, r, noise in items
        ]
        room = max(s.limit for s in new) + 1
        prefix = self.engine.prefix_batch(requests)
        self.engine.prefill(prefix, prefix.tokens.shape[1] + room)
        positions = prefix.positions[:, -1].astype(np.float32)
        if self.guided:  # the negatives' own prefill, appended after the conditional rows
            rows, negatives = self.engine.detach(), self.engine.negative_batch(requests)
            self.engine.prefill(negatives, negatives.tokens.shape[1] + room)
            fresh = self.engine.detach()
            self.engine.attach(rows)
            self.engine.merge(fresh, room)
            positions = np.concatenate([positions, negatives.positions[:, -1].astype(np.float32)])
        for slot, aligner, listener in zip(new, *self.engine.aligners(requests, self.guided)):
            slot.state.aligners, slot.state.listeners = [aligner], [listener]
        self._merge(new, positions)

    def _merge(self, new: list[Slot], positions: np.ndarray) -> None:
        """The engine holds the newcomers' cache: append it to the running one, rows reordered."""
        if not self.slots:
            self.slots, self.positions, self.cache = new, positions, self.engine.detach()
            return
        fresh = self.engine.detach()
        n, m = len(self.slots), len(new)
        order = (
            np.arange(n + m) if not self.guided else np.r_[0:n, 2 * n : 2 * n + m, n : 2 * n, 2 * n + m : 2 * (n + m)]
        )
        self.engine.attach(self.cache)
        self.engine.merge(fresh, self._room(self.slots + new), order)
        self.positions = np.concatenate([self.positions, positions])[order]
        self.slots += new
        self.cache = self.engine.detach()

    @staticmethod
    def _room(slots: list[Slot]) -> int:
        """Cache positions still needed: the longest remaining guard, plus one."""
        return max(s.limit - s.index for s in slots) + 1

    def leave(self, keys) -> None:
        """Remove these slots (unknown keys are ignored)."""
        keys = set(keys)
        self._flush()
        self._keep([i for i, s in enumerate(self.slots) if s.key not in keys])

    def _keep(self, kept: list[int]) -> None:
        if len(kept) == len(self.slots):
            return
        if not kept:
            self.slots, self.positions, self.cache = [], np.zeros(0, np.float32), None
            return
        n, idx = len(self.slots), np.asarray(kept)
        rows = np.concatenate([idx, idx + n]) if self.guided else idx
        self.engine.attach(self.cache)
        self.engine.keep(rows)
        self.cache = self.engine.detach()
        self.slots, self.positions = [self.slots[i] for i in kept], self.positions[rows]

    def step(self) -> StepResult:
        """One frame: feed back and align the last frame, end the slots whose stop rule fires, then
        sample the rest. The feed-back waits for the next step, so a frame is out as soon as it is
        sampled (the first streamed chunk does not wait for a Transformer step)."""
        out = StepResult()
        if not self.slots:
            return out
        self.engine.attach(self.cache)
        self._feed()
        logits = self.engine.stop_logits()[: len(self.slots)]
        kept = []
        for j, (slot, logit) in enumerate(zip(self.slots, logits)):
            active = slot.state.update(np.array([logit]), slot.index, np.array([slot.limit]),
                                       np.array([slot.expected]), np.ones(1, bool))  # fmt: skip
            if active[0]:
                kept.append(j)
            else:
                out.ended[slot.key] = Ended(slot.index, bool(slot.state.stopped[0]), bool(slot.state.guarded[0]),
                                            slot.state)  # fmt: skip
        self.cache = self.engine.detach()
        self._keep(kept)
        if self.slots:
            self.engine.attach(self.cache)
            self._frame(out)
            self.cache = self.engine.detach()
        return out

    def _frame(self, out: StepResult) -> None:
        z = self.engine.sample([s.noise for s in self.slots], self.steps, self.guidance_scale)  # (n, D)
        raw = self.engine.cfg.denormalize(z)
        for slot, row in zip(self.slots, raw):
            out.latents[slot.key] = row
            slot.index += 1
        self.pending = z

    def _flush(self) -> None:
        """Feed back a pending frame now (before the batch's rows change)."""
        if self.pending is not None:
            self.engine.attach(self.cache)
            self._feed()
            self.cache = self.engine.detach()

    def _feed(self) -> None:
        """The attached cache takes the pending frame; the aligners take its CTC posteriors."""
        if self.pending is None:
            return
        z, self.pending = self.pending, None
        self.positions = self.positions + 1
        self.engine.step(self.engine.stack([*z, *z]) if self.guided else z, self.positions)
        aligners = [s.state.aligners[0] for s in self.slots]
        listeners = [s.state.listeners[0] for s in self.slots]  # None unless guided and listening
        rows = [(row, a) for row, a in enumerate(aligners + listeners) if a is not None]
        if rows:
            log_probs = self.engine.ctc_log_probs(np.array([row for row, _ in rows]))
            for (_, a), lp in zip(rows, log_probs):
                a.push(lp)
