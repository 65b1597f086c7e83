"""The LatentLM decoder: a LLaMA-style causal Transformer over phoneme ids and continuous latents.

RMSNorm, RoPE at explicit (aligned) positions, SwiGLU, optional grouped-query attention and
`scaled_dot_product_attention`. Ids enter through an embedding, latents through
Linear(latent_dim -> dim, no bias). On top: the diffusion head (next latent), a stop head
(one logit per speech position) and a CTC head (phonemes from speech hidden states).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tts.config import LMConfig
from tts.diffusion import DiffusionHead
from tts.layers import RMSNorm, SwiGLU
from tts.layout import Batch


def rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate-half RoPE. x (B, h, L, hd); cos/sin (B, 1, L, hd/2)."""
    x1, x2 = x.float().split(x.shape[-1] // 2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)


class KVCache:
    """Preallocated keys/values of every layer for a batch stepped in lockstep.

    It owns its state: a forward with a cache calls `extend` once (the new tokens' key validity),
    `update` once per layer (their keys and values), then `advance` (they become the past)."""

    def __init__(self, cfg: LMConfig, batch: int, capacity: int, device, dtype=torch.float32):
        hd = cfg.dim // cfg.n_heads
        shape = (cfg.n_layers, batch, cfg.n_kv_heads, capacity, hd)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.valid = torch.zeros(batch, capacity, dtype=torch.bool, device=device)  # (B, C)
        self.length = 0

    def extend(self, valid: torch.Tensor | None, n_new: int) -> torch.Tensor:
        """Record which of n_new tokens are real keys (None: all); return the (B, past + n_new) key mask."""
        end = self.length + n_new
        self.valid[:, self.length : end] = True if valid is None else valid
        return self.valid[:, :end]

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write new k/v (B, hkv, Lq, hd) after the past ones; return all keys and values so far."""
        end = self.length + k.shape[2]
        self.k[layer, :, :, self.length : end] = k
        self.v[layer, :, :, self.length : end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]

    def advance(self, n_new: int) -> None:
        self.length += n_new

    def select(self, rows: torch.Tensor) -> None:
        """Keep only `rows` (in this order); leading positions none of them uses are dropped."""
        used = self.valid[rows, : self.length].any(0).nonzero()
        start = int(used[0]) if len(used) else self.length
        self.k, self.v = self.k[:, rows, :, start:].contiguous(), self.v[:, rows, :, start:].contiguous()
        self.valid, self.length = self.valid[rows, start:].contiguous(), self.length - start

    def concat(self, other: KVCache, room: int, order: torch.Tensor | None = None) -> KVCache:
        """A new cache: this cache's rows then `other`'s (row j is row order[j] of that
        concatenation), each left-padded (hidden keys) to the longer length, with room for `room`
        more positions."""
        length = max(self.length, other.length)
        n, m = self.k.shape[1], other.k.shape[1]
        dest = torch.arange(n + m, device=self.k.device)
        if order is not None:
            dest = torch.empty_like(dest)
            dest[order] = torch.arange(n + m, device=self.k.device)  # where each concatenated row goes
        out = KVCache.__new__(KVCache)
        shape = (*self.k.shape[:3], length + room, self.k.shape[4])
        out.k, out.v = (
            self.k.new_zeros(shape[:1] + (n + m,) + shape[2:]),
            self.v.new_zeros(shape[:1] + (n + m,) + shape[2:]),
        )
        out.valid, out.length = self.valid.new_zeros(n + m, length + room), length
        for cache, at in ((self, dest[:n]), (other, dest[n:])):
            cols = slice(length - cache.length, length)
            out.k[:, at, :, cols], out.v[:, at, :, cols] = (
                cache.k[:, :, :, : cache.length],
                cache.v[:, :, :, : cache.length],
            )
            out.valid[at, cols] = cache.valid[:, : cache.length]
        return out


def attention_mask(valid: torch.Tensor | None, past: int, n_new: int) -> torch.Tensor | None:
    """Boolean (B, 1, Lq, Lk) mask for n_new queries after `past` cached keys: causal, keys where
    `valid` (B, past + n_new) is False hidden, each query sees itself. None: plain causal."""
    if valid is None:
        return None
    q = torch.arange(n_new, device=valid.device)[:, None] + past
    k = torch.arange(past + n_new, device=valid.device)[None]
    return ((k <= q) & valid[:, None, :] | (k == q))[:, None]


class Attention(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.n_heads, self.n_kv, self.hd = cfg.n_heads, cfg.n_kv_heads, cfg.dim // cfg.n_heads
        self.q = nn.Linear(cfg.dim, cfg.n_heads * self.hd, bias=False)
        self.kv = nn.Linear(cfg.dim, 2 * cfg.n_kv_heads * self.hd, bias=False)
        self.o = nn.Linear(cfg.dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin, mask, cache: KVCache | None, layer: int):
        b, n, _ = x.shape
        q = self.q(x).view(b, n, self.n_heads, self.hd).transpose(1, 2)  # (B, h, L, hd)
        k, v = self.kv(x).view(b, n, 2, self.n_kv, self.hd).permute(2, 0, 3, 1, 4)  # (B, hkv, L, hd) each
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        if self.n_kv != self.n_heads:  # grouped-query attention: share each kv head across a group
            k = k.repeat_interleave(self.n_heads // self.n_kv, dim=1)
            v = v.repeat_interleave(self.n_heads // self.n_kv, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
        return self.o(y.transpose(1, 2).reshape(b, n, -1))


class Block(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn = SwiGLU(cfg.dim, cfg.ffn_dim)

    def forward(self, x, cos, sin, mask, cache, layer):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask, cache, layer)
        return x + self.ffn(self.ffn_norm(x))


@dataclass
class LMLosses:
    total: torch.Tensor
    diffusion: torch.Tensor
    stop: torch.Tensor
    ctc: torch.Tensor


class LatentLM(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.latent_in = nn.Linear(cfg.latent_dim, cfg.dim, bias=False)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.stop_head = nn.Linear(cfg.dim, 1)
        self.ctc_head = nn.Linear(cfg.dim, cfg.vocab_size * cfg.ctc_upsample)
        self.head = DiffusionHead(cfg)
        hd = cfg.dim // cfg.n_heads
        inv_freq = cfg.rope_theta ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
        self.register_buffer("inv_freq", inv_freq, persistent=False)  # (hd/2,)

    def normalize(self, z: torch.Tensor) -> torch.Tensor:
        return self.cfg.normalize(z)

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        return self.cfg.denormalize(z)

    def forward(self, tokens, latents, is_latent, positions, valid=None, cache: KVCache | None = None):
        """Final-norm hidden states (B, L, H). tokens (B, L); latents (B, L, D); is_latent (B, L);
        positions (B, L) float; valid (B, L) bool key mask (None: no padding). With a cache, the
        new tokens follow the cached ones and the cache grows by L."""
        n_new = tokens.shape[1]
        x = torch.where(
            is_latent[..., None], self.latent_in(latents.to(self.latent_in.weight.dtype)), self.embed(tokens)
        )
        angles = positions.float()[:, None, :, None] * self.inv_freq  # (B, 1, L, hd/2)
        cos, sin = angles.cos(), angles.sin()
        past = cache.length if cache is not None else 0
        mask = attention_mask(cache.extend(valid, n_new) if cache is not None else valid, past, n_new)
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, mask, cache, i)
        if cache is not None:
            cache.advance(n_new)
        return self.norm(x)

    def forward_batch(self, batch: Batch, cache: KVCache | None = None) -> torch.Tensor:
        """`forward` over a `tts.layout.Batch` (numpy, or already tensors)."""
        b = batch.to(self.inv_freq.device)
        return self(b.tokens, b.latents, b.is_latent, b.positions, b.valid, cache)

    def step_latents(self, z: torch.Tensor, positions: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Feed one normalised latent per sequence, z (B, D) at positions (B,); hidden states (B, H)."""
        b = z.shape[0]
        tokens = torch.full((b, 1), self.cfg.pad_id, dtype=torch.long, device=z.device)
        is_latent = torch.ones(b, 1, dtype=torch.bool, device=z.device)
        return self(tokens, z[:, None], is_latent, positions[:, None], cache=cache)[:, 0]

    def stop_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.stop_head(h).squeeze(-1)

    def loss(
        self, batch: Batch, n_frames: torch.Tensor, text: torch.Tensor, text_lens: torch.Tensor, has_text: torch.Tensor
    ) -> LMLosses:
        """Training losses. n_frames (B,) speech latents per example; text (B, N) phoneme targets
        padded with pad_id, text_lens (B,); has_text (B,) False for unconditional examples."""
        cfg = self.cfg
        h = self(batch.tokens, batch.latents, batch.is_latent, batch.positions)  # right-padded: causal suffices
        steps = torch.arange(int(n_frames.max()) + 1, device=h.device)
        idx = (batch.speech_start[:, None] + steps).clamp(max=h.shape[1] - 1)  # (B, Tmax+1)
        hs = h.gather(1, idx[..., None].expand(-1, -1, h.shape[-1]))  # (B, Tmax+1, H)
        in_speech = steps[None] <= n_frames[:, None]  # (B, Tmax+1): SPEECH, z_1..z_T
        predicts = steps[None] < n_frames[:, None]  # hidden i predicts z_{i+1}
        nxt = (idx + 1).clamp(max=h.shape[1] - 1)
        targets = batch.latents.gather(1, nxt[..., None].expand(-1, -1, cfg.latent_dim))
        diffusion = self.head.loss(targets[predicts], hs[predicts])
        stop_target = (steps[None] == n_frames[:, None]).float()
        stop = F.binary_cross_entropy_with_logits(self.stop_logits(hs)[in_speech].float(), stop_target[in_speech])
        ctc = self._ctc_loss(hs, n_frames + 1, text, text_lens, has_text)
        total = diffusion + cfg.stop_weight * stop + cfg.ctc_weight * ctc
        return LMLosses(total, diffusion, stop, ctc)

    def ctc_log_probs(self, hs: torch.Tensor) -> torch.Tensor:
        """(B, T, H) speech hidden states -> (B, T * ctc_upsample, vocab) log-probabilities."""
        b, t, _ = hs.shape
        logits = self.ctc_head(hs).float().view(b, t * self.cfg.ctc_upsample, self.cfg.vocab_size)
        return logits.log_softmax(-1)

    def _ctc_loss(self, hs, frames, text, text_lens, has_text):
        rows = has_text | self.cfg.ctc_listens  # a listening head learns from unconditional rows too
        if not rows.any():  # still touch the head so every parameter gets a gradient (DDP)
            return self.ctc_log_probs(hs[:1, :1]).sum() * 0.0
        log_probs = self.ctc_log_probs(hs[rows]).transpose(0, 1)  # (T', B', V)
        return F.ctc_loss(
            log_probs,
            text[rows],
            frames[rows] * self.cfg.ctc_upsample,
            text_lens[rows],
            blank=self.cfg.pad_id,
            zero_infinity=True,
        )


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
