"""The PyTorch backend of the inference core (`tts.inference`): a `LatentLM` with its KV cache.

    engine = Engine(model)
    out = engine.generate([SpeechRequest(ids, voice=latents)], [torch.Generator().manual_seed(0)])

Requests may hold torch tensors or numpy arrays; frames and results are torch tensors on the
model's device. Noise comes from one `torch.Generator` per request.
"""

from __future__ import annotations

import numpy as np
import torch

from tts.inference import GUARD_FACTOR, GUARD_MARGIN, EngineCore, Generation, SpeechRequest, max_new_frames
from tts.layout import Batch
from tts.lm import KVCache, LatentLM

__all__ = ["Engine", "Generation", "SpeechRequest", "max_new_frames", "GUARD_FACTOR", "GUARD_MARGIN"]


class Engine(EngineCore):
    def __init__(self, model: LatentLM):
        self.model = model.eval()
        self.cfg = model.cfg
        self.cache: KVCache | None = None
        self.hidden: torch.Tensor | None = None  # (rows, H) at the current position

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def prefill(self, batch: Batch, capacity: int) -> None:
        param = next(self.model.parameters())
        self.cache = KVCache(self.cfg, batch.tokens.shape[0], capacity, param.device, param.dtype)
        self.hidden = self.model.forward_batch(batch, self.cache)[:, -1]

    @torch.no_grad()
    def stop_logits(self) -> np.ndarray:
        return self.model.stop_logits(self.hidden).float().cpu().numpy()

    @torch.no_grad()
    def sample(self, noise: list[torch.Generator], steps: int, guidance_scale: float) -> torch.Tensor:
        b, d = len(noise), self.cfg.latent_dim
        eps = torch.stack([torch.randn(d, generator=g, device=g.device) for g in noise]).to(self.device)
        neg = self.hidden[b:] if guidance_scale != 1.0 else None
        return self.model.head.sample(self.hidden[:b], eps, steps, neg, guidance_scale).float()

    @torch.no_grad()
    def step(self, z: torch.Tensor, positions: np.ndarray) -> None:
        self.hidden = self.model.step_latents(z, torch.from_numpy(positions).to(self.device), self.cache)

    @torch.no_grad()
    def ctc_log_probs(self, rows: np.ndarray) -> np.ndarray:
        index = torch.as_tensor(rows, dtype=torch.long, device=self.hidden.device)
        return self.model.ctc_log_probs(self.hidden[index, None]).cpu().numpy()  # (rows, ctc_upsample, V)

    def detach(self) -> tuple[KVCache, torch.Tensor]:
        return self.cache, self.hidden

    def attach(self, cache: tuple[KVCache, torch.Tensor]) -> None:
        self.cache, self.hidden = cache

    def merge(self, other: tuple[KVCache, torch.Tensor], room: int, order: np.ndarray | None = None) -> None:
        index = None if order is None else torch.as_tensor(order, dtype=torch.long, device=self.hidden.device)
        self.cache = self.cache.concat(other[0], room, index)
        hidden = torch.cat([self.hidden, other[1]])
        self.hidden = hidden if index is None else hidden[index]

    def keep(self, rows: np.ndarray) -> None:
        index = torch.as_tensor(rows, dtype=torch.long, device=self.hidden.device)
        self.cache.select(index)
        self.hidden = self.hidden[index]

    def stack(self, rows: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(rows) if rows else torch.zeros(0, self.cfg.latent_dim, device=self.device)
