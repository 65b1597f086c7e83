"""The ONNX Runtime backend of the inference core (`tts.inference`), on numpy arrays, without torch.

Randomness comes from one noise source per request: anything with numpy's
`standard_normal(size, dtype)`, usually a `np.random.Generator`; `NoiseReplay` feeds prepared
noise instead (parity tests).

The KV cache is preallocated per layer (keys (N, hkv, hd, C), values (N, hkv, C, hd)) with a
(N, C) validity mask; each step passes it whole and writes the new key and value in place, so a
step copies nothing of the cache's size. Its rows stay in place when requests leave and join a
running batch (`GraphKVCache`): copying the whole cache on every join and leave took 13 % of a
16-slot server's time. Every step attends over all C positions, so C follows
the length: at most GROW positions of room are allocated ahead, and a full cache grows by GROW
(one copy every GROW frames) rather than being sized for the longest request's length guard.
With 16 guided slots a step over 600 positions took 4x one over 150.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from tts.config import LMConfig
from tts.inference import EngineCore, Generation, SpeechRequest
from tts.layout import Batch
from tts.sampler import cosine_alphas_cumprod, dpm_solver_2m_table, guide, solve

__all__ = ["OnnxEngine", "NoiseReplay", "NoiseSource", "Generation", "SpeechRequest"]

GROW = 32  # cache positions allocated ahead of the length (about 2 s of frames)


class NoiseSource(Protocol):
    def standard_normal(self, size, dtype=np.float64) -> np.ndarray: ...


class NoiseReplay:
    """A noise source that hands out the rows of a prepared (T, D) array, one per frame."""

    def __init__(self, noise: np.ndarray):
        self.noise, self.index = np.asarray(noise, dtype=np.float32), 0

    def standard_normal(self, size, dtype=np.float32) -> np.ndarray:
        row = self.noise[self.index].reshape(size).astype(dtype)
        self.index += 1
        return row


def prefill_mask(valid: np.ndarray) -> np.ndarray:
    """(N, L, L) bool: causal, padding keys hidden, each query sees itself (as `tts.lm.attention_mask`)."""
    n = valid.shape[1]
    causal = np.tril(np.ones((n, n), bool))
    return (causal[None] & valid[:, None, :]) | np.eye(n, dtype=bool)[None]


class OnnxEngine(EngineCore):
    """The backend hooks on the exported graphs (`tts.onnx.export`)."""

    def __init__(self, sessions: dict, config: dict, unrolled: bool = False):
        """`unrolled`: draw a frame with the unrolled sampler graph (one call per frame, for GPUs, where
        each call costs a round trip) at its step count; otherwise, and on the CPU, with the per-step
        head and the numpy solver (as fast there, and its graph loads in a quarter of the time)."""
        self.sessions = sessions
        self.cfg = LMConfig.from_dict(config["lm"])
        self.unrolled_steps = config["sampler"]["unrolled_steps"] if unrolled else None
        self._acp = cosine_alphas_cumprod(config["sampler"]["ddpm_steps"])
        self._tables: dict[int, np.ndarray] = {}
        self.cache: GraphKVCache | None = None

    def prefill(self, batch: Batch, capacity: int) -> None:
        self.cache = GraphKVCache(self.sessions["lm_prefill"], batch, capacity)

    def stop_logits(self) -> np.ndarray:
        return self.cache.stop

    def sample(self, noise: list[NoiseSource], steps: int, guidance_scale: float) -> np.ndarray:
        """Latents (B, D); the cache's cond (B or 2B, W) has the negative rows last."""
        eps = np.stack([src.standard_normal(self.cfg.latent_dim, dtype=np.float32) for src in noise])
        cond = self.cache.cond  # the negative rows exist only when guided
        scale = np.array([guidance_scale], np.float32)
        if steps == self.unrolled_steps:
            sampler = self.sessions["sampler"]
            names = {i.name for i in sampler.get_inputs()}
            scale_input = "guidance_scale" if "guidance_scale" in names else "cfg_scale"  # exports before the rename
            return sampler.run(None, {"cond": cond, "noise": eps, scale_input: scale})[0]
        groups, head = len(cond) // len(eps), self.sessions["head_step"]

        def v_fn(x, t):
            v = head.run(None, {"x": np.concatenate([x] * groups), "cond": cond, "t": np.array([t], np.float32)})[0]
            return guide(v[: len(x)], v[-len(x) :], scale[0])

        return solve(v_fn, eps, self.table(steps)).astype(np.float32)

    def step(self, z: np.ndarray, positions: np.ndarray) -> None:
        self.cache.step(self.sessions["lm_step"], z.astype(np.float32), positions.astype(np.float32))

    def ctc_log_probs(self, rows: np.ndarray) -> np.ndarray | None:
        return None if self.cache.ctc is None else self.cache.ctc[rows]

    def detach(self) -> GraphKVCache:
        return self.cache

    def attach(self, cache: GraphKVCache) -> None:
        self.cache = cache

    def merge(self, other: GraphKVCache, room: int, order: np.ndarray | None = None) -> None:
        self.cache = self.cache.concat(other, room, order)

    def keep(self, rows: np.ndarray) -> None:
        self.cache.select(np.asarray(rows))

    def stack(self, rows: list[np.ndarray]) -> np.ndarray:
        return np.stack(rows) if rows else np.zeros((0, self.cfg.latent_dim), np.float32)

    def table(self, steps: int) -> np.ndarray:
        if steps not in self._tables:
            self._tables[steps] = dpm_solver_2m_table(self._acp, steps).astype(np.float32)
        return self._tables[steps]


def _widen(a: np.ndarray, axis: int) -> np.ndarray:
    """`a` with GROW zero positions appended along `axis`."""
    return np.pad(a, [(0, GROW if i == axis else 0) for i in range(a.ndim)])


def _runs(source: np.ndarray, dest: np.ndarray) -> list[tuple[slice, slice]]:
    """(source, destination) slices of the runs of rows that are consecutive in both `source` and `dest`."""
    breaks = np.flatnonzero((np.diff(source) != 1) | (np.diff(dest) != 1)) + 1
    starts, ends = np.r_[0, breaks], np.r_[breaks, len(dest)]
    return [(slice(int(source[s]), int(source[s]) + e - s), slice(int(dest[s]), int(dest[s]) + e - s))
            for s, e in zip(starts, ends)]  # fmt: skip


class GraphKVCache:
    """The explicit KV cache of the step graph: per-layer preallocated keys/values, the validity
    mask, and the last cond/stop outputs.

    Its rows stay where they are: `rows` lists where each of the engine's rows (in the engine's
    order) lies in the arrays. A row that leaves only drops out of `rows`, and a newcomer is written
    into a free place when one is there and its prompt is no longer than the cache, so a leave
    copies nothing and a join copies only the newcomers. The free places are still stepped (their
    outputs unread) until the cache is compacted: when they outnumber the rows in use, or when
    GROW leading positions are unused by every row. Otherwise a join rebuilds the cache (one copy)."""

    def __init__(self, prefill, batch: Batch, capacity: int):
        cond, stop, keys, values, *ctc = prefill.run(
            None,
            {
                "tokens": batch.tokens,
                "latents": batch.latents,
                "is_latent": batch.is_latent,
                "positions": batch.positions,
                "mask": prefill_mask(batch.valid),
            },
        )
        self.cond, self.stop = cond, stop
        self.ctc = ctc[0] if ctc else None  # (N, ctc_upsample, V); exports before the CTC head have none
        layers, n, n_kv, hd, length = keys.shape
        capacity = min(capacity, length + GROW)
        self.keys = [np.zeros((n, n_kv, hd, capacity), np.float32) for _ in range(layers)]
        self.values = [np.zeros((n, n_kv, capacity, hd), np.float32) for _ in range(layers)]
        for i in range(layers):
            self.keys[i][..., :length] = keys[i]
            self.values[i][:, :, :length] = values[i]
        self.mask = np.zeros((n, capacity), bool)
        self.mask[:, :length] = batch.valid
        self.length = length
        self.rows = np.arange(n)

    def select(self, rows: np.ndarray) -> None:
        """Keep only `rows` (in this order)."""
        self.rows = self.rows[rows]
        self.cond, self.stop = self.cond[rows], self.stop[rows]
        self.ctc = None if self.ctc is None else self.ctc[rows]
        if len(self.mask) > 2 * len(self.rows) or self._unused() >= GROW:
            self._compact()

    def _unused(self) -> int:
        """Leading positions no row in use reads."""
        used = np.flatnonzero(self.mask[self.rows, : self.length].any(0))
        return int(used[0]) if len(used) else self.length

    def _compact(self) -> None:
        """The rows in use only, in order, without the leading positions none of them reads (one copy)."""
        start = self._unused()
        # one contiguous copy each (np.take): a strided view would be copied by every step's session call
        self.keys = [np.take(k[..., start:], self.rows, axis=0) for k in self.keys]
        self.values = [np.take(v[:, :, start:], self.rows, axis=0) for v in self.values]
        self.mask, self.length = self.mask[self.rows, start:], self.length - start
        self.rows = np.arange(len(self.rows))

    def concat(self, other: GraphKVCache, room: int, order: np.ndarray | None = None) -> GraphKVCache:
        """These rows then `other`'s (row j is row order[j] of that concatenation), `other`'s
        left-padded (hidden keys) to the longer length: written into this cache's free places when
        they fit (this cache, changed), else a new cache with room for `room` more positions (at
        most GROW allocated now)."""
        n, m = len(self.rows), len(other.rows)
        order = np.arange(n + m) if order is None else np.asarray(order)
        taken = np.zeros(len(self.mask), bool)
        taken[self.rows] = True
        free = np.flatnonzero(~taken)  # not np.setdiff1d: it imports numpy.ma, 23 ms of `say`
        if len(free) >= m and other.length <= self.length:
            self._write(other, free[:m])
            self.rows = np.concatenate([self.rows, free[:m]])[order]
            out = self
        else:
            out = self._rebuilt(other, room, order)
        out.cond = np.concatenate([self.cond, other.cond])[order]
        out.stop = np.concatenate([self.stop, other.stop])[order]
        out.ctc = None if self.ctc is None else np.concatenate([self.ctc, other.ctc])[order]
        return out

    def _write(self, other: GraphKVCache, places: np.ndarray) -> None:
        """`other`'s rows into `places`, ending at this cache's length."""
        cols, have = slice(self.length - other.length, self.length), other.length
        self.mask[places] = False
        self.mask[places, cols] = other.mask[other.rows, :have]
        for i in range(len(self.keys)):
            self.keys[i][places, ..., cols] = other.keys[i][other.rows, ..., :have]
            self.values[i][places, :, cols] = other.values[i][other.rows, :, :have]

    def _rebuilt(self, other: GraphKVCache, room: int, order: np.ndarray) -> GraphKVCache:
        length, n, m = max(self.length, other.length), len(self.rows), len(other.rows)
        room = min(room, GROW)
        dest = np.empty(n + m, np.int64)
        dest[order] = np.arange(n + m)  # where each concatenated row goes
        out = GraphKVCache.__new__(GraphKVCache)
        out.keys = [np.zeros((n + m, *k.shape[1:3], length + room), np.float32) for k in self.keys]
        out.values = [np.zeros((n + m, v.shape[1], length + room, v.shape[3]), np.float32) for v in self.values]
        out.mask, out.length, out.rows = np.zeros((n + m, length + room), bool), length, np.arange(n + m)
        for cache, at in ((self, dest[:n]), (other, dest[n:])):
            cols, have = slice(length - cache.length, length), cache.length
            for src, dst in _runs(cache.rows, at):  # slices, not fancy indices
                for i in range(len(self.keys)):
                    out.keys[i][dst, ..., cols] = cache.keys[i][src, ..., :have]
                    out.values[i][dst, :, cols] = cache.values[i][src, :, :have]
                out.mask[dst, cols] = cache.mask[src, :have]
        return out

    def grow(self) -> None:
        """GROW more positions of room (a copy of the cache)."""
        self.keys = [_widen(k, 3) for k in self.keys]
        self.values = [_widen(v, 2) for v in self.values]
        self.mask = _widen(self.mask, 1)

    def step(self, session, z: np.ndarray, position: np.ndarray) -> None:
        """Feed each row in use its latent z and position; free places get zeros (outputs unread)."""
        if self.length == self.mask.shape[1]:
            self.grow()
        if len(self.rows) < len(self.mask) or np.any(self.rows != np.arange(len(self.rows))):
            z, position = self._placed(z), self._placed(position)
        feeds = {"z": z, "position": position, "mask": self.mask}
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            feeds[f"past_key_{i}"], feeds[f"past_value_{i}"] = k, v
        cond, stop, keys, values, *ctc = session.run(None, feeds)
        self.cond, self.stop = cond[self.rows], stop[self.rows]
        self.ctc = ctc[0][self.rows] if ctc else None
        for i in range(len(self.keys)):
            self.keys[i][..., self.length] = keys[i]
            self.values[i][:, :, self.length] = values[i]
        self.mask[:, self.length] = True
        self.length += 1

    def _placed(self, a: np.ndarray) -> np.ndarray:
        """Rows of `a` (one per row in use) at their places; zeros at the free ones."""
        out = np.zeros((len(self.mask), *a.shape[1:]), a.dtype)
        out[self.rows] = a
        return out
