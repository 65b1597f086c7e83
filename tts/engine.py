"""Inference engine: batched, KV-cached next-token diffusion with CFG and per-sequence stop.

The engine knows nothing about text. A request holds phoneme ids and σ-VAE latents (raw, as
the VAE writes them; the engine normalises them with the checkpoint's scale and bias and
returns raw latents).

- All sequences of a batch are left-padded to one prefix length and stepped in lockstep
  with one KV cache; a finished sequence keeps stepping but its frames are dropped.
- CFG: each request gets a negative sequence `BOS SPEECH` + the same speech latents (no text,
  no voice) in the same batch, and the head mixes v = v_u + w (v_c - v_u). At w = 1 the
  negative sequences are not built at all.
- Randomness: one `torch.Generator` per request draws that request's noise, so a request's
  output does not depend on what else is in the batch.
- Length guard: a request may generate at most
      ceil(GUARD_FACTOR * N * r) + GUARD_MARGIN - P   frames (and at least GUARD_MARGIN),
  N = phoneme count, r = frames per phoneme, P = prompt latents that start the speech.
  With r = 1 frame per phoneme that is twice the expected length plus one second. When it
  fires, the result says so (`hit_length_guard`) and a warning is logged.
- At least one frame is generated per request, even if the stop head fires at once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from tts.layout import build_sequence, collate
from tts.lm import KVCache, LatentLM

log = logging.getLogger(__name__)

GUARD_FACTOR = 2.0
GUARD_MARGIN = 15  # frames: one second at 15 Hz


@dataclass
class SpeechRequest:
    text: torch.Tensor | None  # (N,) phoneme ids; None: unconditional (needs max_frames)
    voice: torch.Tensor | None = None  # (K, D) raw latents of a voice prompt
    prompt: torch.Tensor | None = None  # (P, D) raw latents that start the speech (continuation)
    rate: float | None = None  # frames per phoneme; None: the checkpoint's global rate
    max_frames: int | None = None  # overrides the length guard


@dataclass
class Frame:
    index: int  # 0-based index of the generated frame
    latents: torch.Tensor  # (B, D) raw latents; rows where `active` is False are meaningless
    active: torch.Tensor  # (B,) bool: this frame belongs to the request's output


@dataclass
class StopState:
    stopped: torch.Tensor  # (B,) bool: ended by the stop head
    guarded: torch.Tensor  # (B,) bool: ended by the length guard


@dataclass
class Generation:
    latents: list[torch.Tensor]  # per request (T_b, D) raw generated latents (prompt excluded)
    stopped: list[bool]  # ended by the stop head
    hit_length_guard: list[bool]  # ended by the length guard


def max_new_frames(req: SpeechRequest, default_rate: float) -> int:
    """The length guard of the module docstring."""
    if req.max_frames is not None:
        return int(req.max_frames)
    if req.text is None:
        raise ValueError("an unconditional request needs max_frames")
    rate = default_rate if req.rate is None else req.rate
    prompt = 0 if req.prompt is None else len(req.prompt)
    return max(math.ceil(GUARD_FACTOR * len(req.text) * rate) + GUARD_MARGIN - prompt, GUARD_MARGIN)


class Engine:
    def __init__(self, model: LatentLM):
        self.model = model.eval()
        self.cfg = model.cfg

    @property
    def device(self):
        return next(self.model.parameters()).device

    def _prefix(self, requests: list[SpeechRequest], guided: bool):
        """Left-padded prefixes: the conditional sequences, then (guided) their negatives."""
        norm = self.model.normalize
        d = self.cfg.latent_dim
        seqs = []
        for r in requests:
            speech = norm(r.prompt.float()) if r.prompt is not None else torch.zeros(0, d)
            voice = norm(r.voice.float()) if r.voice is not None else None
            seqs.append(build_sequence(self.cfg, r.text, voice, speech.cpu(), r.rate))
        if guided:
            seqs += [build_sequence(self.cfg, None, None, s.latents[s.speech_start + 1 :]) for s in seqs[:]]
        return collate(seqs, pad_left=True, pad_id=self.cfg.pad_id).to(self.device)

    @torch.no_grad()
    def stream(
        self,
        requests: list[SpeechRequest],
        generators: list[torch.Generator],
        steps: int = 10,
        cfg_scale: float = 1.0,
        state: StopState | None = None,
    ) -> Iterator[Frame]:
        """Yield one Frame per decoding step until every request has ended; `state`, if given,
        records how each one ended."""
        if len(generators) != len(requests):
            raise ValueError("give one torch.Generator per request")
        b, guided = len(requests), cfg_scale != 1.0
        limits = torch.tensor([max_new_frames(r, self.cfg.frames_per_phoneme) for r in requests])
        batch = self._prefix(requests, guided)
        param = next(self.model.parameters())
        cache = KVCache(
            self.cfg, batch.tokens.shape[0], batch.tokens.shape[1] + int(limits.max()) + 1, param.device, param.dtype
        )
        h = self.model.forward_batch(batch, cache)[:, -1]  # (B or 2B, H)
        pos = batch.positions[:, -1]
        active = torch.ones(b, dtype=torch.bool)
        state = state or StopState(torch.zeros(b, dtype=torch.bool), torch.zeros(b, dtype=torch.bool))
        for i in range(int(limits.max())):
            active &= ~self._check_stop(h[:b], i, limits, active, state)
            if not active.any():
                return
            noise = torch.stack(
                [torch.randn(self.cfg.latent_dim, generator=g, device=g.device) for g in generators]
            ).to(param.device)
            z = self.model.head.sample(h[:b], noise, steps, h[b:] if guided else None, cfg_scale)  # (B, D)
            yield Frame(i, self.model.denormalize(z.float()), active.clone())
            pos = pos + 1
            h = self.model.step_latents(torch.cat([z, z]) if guided else z, pos, cache)
        state.guarded |= active  # ran to the guard of the longest request

    def _check_stop(self, h_cond, i, limits, active, state: StopState) -> torch.Tensor:
        """(B,) bool: requests that end before frame i (stop head, from frame 1 on, or guard)."""
        stop = (self.model.stop_logits(h_cond).float().cpu() > 0) & (i > 0) & active
        guard = (i >= limits) & active & ~stop
        state.stopped |= stop
        state.guarded |= guard
        return stop | guard

    def generate(
        self, requests: list[SpeechRequest], generators: list[torch.Generator], steps: int = 10, cfg_scale: float = 1.0
    ) -> Generation:
        frames = [[] for _ in requests]
        state = StopState(torch.zeros(len(requests), dtype=torch.bool), torch.zeros(len(requests), dtype=torch.bool))
        for f in self.stream(requests, generators, steps, cfg_scale, state):
            for b in torch.nonzero(f.active).flatten().tolist():
                frames[b].append(f.latents[b])
        d = self.cfg.latent_dim
        out = Generation(
            [torch.stack(fr) if fr else torch.zeros(0, d) for fr in frames],
            state.stopped.tolist(),
            state.guarded.tolist(),
        )
        for b, hit in enumerate(out.hit_length_guard):
            if hit:
                log.warning("request %d hit the length guard after %d frames without a stop", b, len(frames[b]))
        return out
