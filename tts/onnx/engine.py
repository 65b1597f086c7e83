"""The ONNX Runtime inference engine: `tts.engine.Engine` on numpy arrays, without torch.

Same sequence layouts (`tts.layout`), same CFG negative sequences, same per-sequence stop and
length guard, same DPM-Solver++(2M) table (`tts.sampler`). Randomness comes from one noise
source per request: anything with numpy's `standard_normal(size, dtype)`, usually a
`np.random.Generator`; `NoiseReplay` feeds prepared noise instead (parity tests).

The KV cache is preallocated per layer at the final length (keys (N, hkv, hd, C), values
(N, hkv, C, hd)) with a (N, C) validity mask; each step passes it whole and writes the new
key and value in place, so a step copies nothing of the cache's size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tts.sampler import cosine_alphas_cumprod, dpm_solver_2m_table, solve

log = logging.getLogger(__name__)


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


@dataclass
class SpeechRequest:
    text: np.ndarray | None  # (N,) phoneme ids; None: unconditional (needs max_frames)
    voice: np.ndarray | None = None  # (K, D) raw latents of a voice prompt
    prompt: np.ndarray | None = None  # (P, D) raw latents that start the speech (continuation)
    rate: float | None = None  # frames per phoneme; None: the checkpoint's global rate
    max_frames: int | None = None  # overrides the length guard


@dataclass
class Frame:
    index: int
    latents: np.ndarray  # (B, D) raw latents; rows where `active` is False are meaningless
    active: np.ndarray  # (B,) bool


@dataclass
class Generation:
    latents: list[np.ndarray]  # per request (T_b, D) raw generated latents
    stopped: list[bool]
    hit_length_guard: list[bool]


@dataclass
class Prefix:
    tokens: np.ndarray  # (N, L) int64
    latents: np.ndarray  # (N, L, D) float32 normalised
    is_latent: np.ndarray  # (N, L) bool
    positions: np.ndarray  # (N, L) float32
    valid: np.ndarray  # (N, L) bool


def build_sequence(lm: dict, text, voice, speech, rate=None):
    """`tts.layout.build_sequence` in numpy: (tokens (L,), latents (L, D), is_latent (L,), positions (L,))."""
    d, r = lm["latent_dim"], lm["frames_per_phoneme"] if rate is None else float(rate)
    parts = [([lm["bos_id"]], None)]
    if text is not None and voice is not None:
        parts += [([lm["voice_id"]], None), (None, voice), ([lm["voice_end_id"]], None)]
    if text is not None:
        parts += [([lm["text_id"]], None)]
    base = sum(len(a if a is not None else b) for a, b in parts)
    pos = [np.arange(base, dtype=np.float32)]
    if text is not None:
        parts.append((list(text) + [lm["text_end_id"]], None))
        pos.append(base + r * np.arange(len(text) + 1, dtype=np.float32))
    parts += [([lm["speech_id"]], None), (None, speech)]
    pos.append(base + np.arange(len(speech) + 1, dtype=np.float32))
    tokens = np.concatenate([np.asarray(a if a is not None else np.zeros(len(b)), dtype=np.int64) for a, b in parts])
    latents = np.concatenate(
        [np.zeros((len(a), d), np.float32) if a is not None else b.astype(np.float32).reshape(-1, d) for a, b in parts]
    )
    is_latent = np.concatenate([np.full(len(a) if a is not None else len(b), a is None) for a, b in parts])
    positions = (
        np.concatenate(pos).astype(np.float32) if lm["aligned_positions"] else np.arange(len(tokens), dtype=np.float32)
    )
    return tokens, latents, is_latent, positions


def collate_left(seqs, pad_id: int, d: int) -> Prefix:
    """Left-pad sequences to one length, as `tts.layout.collate(..., pad_left=True)`."""
    n = max(len(s[0]) for s in seqs)
    out = Prefix(
        np.full((len(seqs), n), pad_id, np.int64),
        np.zeros((len(seqs), n, d), np.float32),
        np.zeros((len(seqs), n), bool),
        np.zeros((len(seqs), n), np.float32),
        np.zeros((len(seqs), n), bool),
    )
    for i, (tokens, latents, is_latent, positions) in enumerate(seqs):
        k = len(tokens)
        out.tokens[i, n - k :], out.latents[i, n - k :], out.is_latent[i, n - k :] = tokens, latents, is_latent
        out.positions[i, n - k :], out.valid[i, n - k :] = positions, True
    return out


def prefill_mask(valid: np.ndarray) -> np.ndarray:
    """(N, L, L) bool: causal, padding keys hidden, each query sees itself (as `LatentLM._mask`)."""
    n = valid.shape[1]
    causal = np.tril(np.ones((n, n), bool))
    return (causal[None] & valid[:, None, :]) | np.eye(n, dtype=bool)[None]


class OnnxEngine:
    """Batched KV-cached next-token diffusion on ONNX Runtime sessions (see the module docstring)."""

    def __init__(self, sessions: dict, config: dict):
        self.sessions, self.lm = sessions, config["lm"]
        self.guard, self.sampler = config["length_guard"], config["sampler"]
        self._acp = cosine_alphas_cumprod(self.sampler["ddpm_steps"])
        self._tables: dict[int, np.ndarray] = {}

    def normalize(self, z: np.ndarray) -> np.ndarray:
        return ((z - self.lm["latent_bias"]) * self.lm["latent_scale"]).astype(np.float32)

    def denormalize(self, z: np.ndarray) -> np.ndarray:
        return (z / self.lm["latent_scale"] + self.lm["latent_bias"]).astype(np.float32)

    def max_new_frames(self, req: SpeechRequest) -> int:
        """The length guard of `tts.engine` (its factor and margin are stored in config.json)."""
        if req.max_frames is not None:
            return int(req.max_frames)
        if req.text is None:
            raise ValueError("an unconditional request needs max_frames")
        rate = self.lm["frames_per_phoneme"] if req.rate is None else req.rate
        prompt = 0 if req.prompt is None else len(req.prompt)
        margin = self.guard["margin"]
        return max(math.ceil(self.guard["factor"] * len(req.text) * rate) + margin - prompt, margin)

    def _prefixes(self, requests: list[SpeechRequest], guided: bool) -> list[Prefix]:
        """Left-padded prefixes of the conditional sequences, then (guided) of their negatives
        `BOS SPEECH` + prompt, as a second group: the short negatives are not padded to the
        conditional length, and the cache places both groups right-aligned, as one collated batch."""
        d = self.lm["latent_dim"]
        seqs, speech = [], []
        for r in requests:
            speech.append(self.normalize(r.prompt) if r.prompt is not None else np.zeros((0, d), np.float32))
            voice = self.normalize(r.voice) if r.voice is not None else None
            seqs.append(build_sequence(self.lm, r.text, voice, speech[-1], r.rate))
        groups = [collate_left(seqs, self.lm["pad_id"], d)]
        if guided:
            groups.append(collate_left([build_sequence(self.lm, None, None, s) for s in speech], self.lm["pad_id"], d))
        return groups

    def table(self, steps: int) -> np.ndarray:
        if steps not in self._tables:
            self._tables[steps] = dpm_solver_2m_table(self._acp, steps).astype(np.float32)
        return self._tables[steps]

    def sample(self, cond: np.ndarray, noise: np.ndarray, steps: int, cfg_scale: float) -> np.ndarray:
        """Latents (B, D) from noise (B, D); cond (B or 2B, W) with the negative rows last."""
        if steps == self.sampler["unrolled_steps"]:
            return self.sessions["sampler"].run(
                None, {"cond": cond, "noise": noise, "cfg_scale": np.array([cfg_scale], np.float32)}
            )[0]
        g = len(cond) // len(noise)
        head = self.sessions["head_step"]

        def v_fn(x, t):
            v = head.run(None, {"x": np.concatenate([x] * g), "cond": cond, "t": np.array([t], np.float32)})[0]
            return v if g == 1 else v[len(x) :] + np.float32(cfg_scale) * (v[: len(x)] - v[len(x) :])

        return solve(v_fn, noise, self.table(steps)).astype(np.float32)

    def stream(
        self,
        requests: list[SpeechRequest],
        noise: list[NoiseSource],
        steps: int = 10,
        cfg_scale: float = 1.0,
        state: dict | None = None,
    ) -> Iterator[Frame]:
        """Yield one Frame per decoding step until every request has ended; `state` (a dict), if
        given, gets "stopped" and "guarded" (B,) bool arrays."""
        if len(noise) != len(requests):
            raise ValueError("give one noise source per request")
        b, guided, d = len(requests), cfg_scale != 1.0, self.lm["latent_dim"]
        limits = np.array([self.max_new_frames(r) for r in requests])
        prefixes = self._prefixes(requests, guided)
        cache = KVCache(self.sessions["lm_prefill"], prefixes, int(limits.max()) + 1)
        state = state if state is not None else {}
        state.setdefault("stopped", np.zeros(b, bool))
        state.setdefault("guarded", np.zeros(b, bool))
        active, pos = np.ones(b, bool), np.concatenate([p.positions[:, -1] for p in prefixes])
        for i in range(int(limits.max())):
            stop = (cache.stop[:b] > 0) & (i > 0) & active
            guard = (i >= limits) & active & ~stop
            state["stopped"] |= stop
            state["guarded"] |= guard
            active &= ~(stop | guard)
            if not active.any():
                return
            eps = np.stack([src.standard_normal(d, dtype=np.float32) for src in noise]).astype(np.float32)
            z = self.sample(cache.cond, eps, steps, cfg_scale)  # (B, D)
            yield Frame(i, self.denormalize(z), active.copy())
            pos = pos + np.float32(1)
            cache.step(self.sessions["lm_step"], np.concatenate([z, z]) if guided else z, pos)
        state["guarded"] |= active

    def generate(
        self, requests: list[SpeechRequest], noise: list[NoiseSource], steps: int = 10, cfg_scale: float = 1.0
    ) -> Generation:
        frames = [[] for _ in requests]
        state: dict = {}
        for f in self.stream(requests, noise, steps, cfg_scale, state):
            for b in np.flatnonzero(f.active):
                frames[b].append(f.latents[b])
        d = self.lm["latent_dim"]
        out = Generation(
            [np.stack(fr) if fr else np.zeros((0, d), np.float32) for fr in frames],
            state["stopped"].tolist(),
            state["guarded"].tolist(),
        )
        for b, hit in enumerate(out.hit_length_guard):
            if hit:
                log.warning("request %d hit the length guard after %d frames without a stop", b, len(frames[b]))
        return out


class KVCache:
    """Per-layer preallocated keys/values, the validity mask, and the last cond/stop outputs."""

    def __init__(self, prefill, groups: list[Prefix], extra: int):
        outs = [
            prefill.run(
                None,
                {
                    "tokens": g.tokens,
                    "latents": g.latents,
                    "is_latent": g.is_latent,
                    "positions": g.positions,
                    "mask": prefill_mask(g.valid),
                },
            )
            for g in groups
        ]
        self.cond, self.stop = np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])
        n, length = len(self.cond), max(g.tokens.shape[1] for g in groups)
        layers, _, n_kv, hd, _ = outs[0][2].shape
        cap = length + extra
        self.keys = [np.zeros((n, n_kv, hd, cap), np.float32) for _ in range(layers)]
        self.values = [np.zeros((n, n_kv, cap, hd), np.float32) for _ in range(layers)]
        self.mask = np.zeros((n, cap), bool)
        row = 0
        for g, (_, _, keys, values) in zip(groups, outs):
            rows, start = slice(row, row + len(g.tokens)), length - g.tokens.shape[1]  # right-aligned
            for i in range(layers):
                self.keys[i][rows, ..., start:length] = keys[i]
                self.values[i][rows, :, start:length] = values[i]
            self.mask[rows, start:length] = g.valid
            row += len(g.tokens)
        self.length = length

    def step(self, session, z: np.ndarray, position: np.ndarray) -> None:
        feeds = {"z": z, "position": position.astype(np.float32), "mask": self.mask}
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            feeds[f"past_key_{i}"], feeds[f"past_value_{i}"] = k, v
        self.cond, self.stop, keys, values = session.run(None, feeds)
        for i in range(len(self.keys)):
            self.keys[i][..., self.length] = keys[i]
            self.values[i][:, :, self.length] = values[i]
        self.mask[:, self.length] = True
        self.length += 1
