"""Export modules of the LatentLM decoder and its diffusion head: tensor-only signatures.

They call the model's own layers, the head's own `denoise` and `solve` (the sampler loop of
`tts.sampler.solve`, unrolled by tracing); only attention is written out here, explicitly, so
that the KV cache is plain inputs and outputs.

KV-cache layout of the runtime, per layer: keys (B, hkv, hd, C) (already transposed for
q @ k) and values (B, hkv, C, hd), preallocated at a capacity C with a (B, C) validity mask.
A step reads the whole cache and returns only the new key and value, which the runtime writes
in place: nothing of size C is copied per step.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tts.diffusion import DiffusionHead
from tts.lm import Attention, LatentLM, rope


def _heads(attn: Attention) -> tuple[int, int, int]:
    return attn.n_kv, attn.n_heads // attn.n_kv, attn.hd  # kv heads, query heads per kv head, head size


def _prefill_attention(attn: Attention, x, cos, sin, mask):
    """x (B, L, H); cos/sin (B, 1, 1, L, hd/2); mask (B, 1, 1, L, L)
    -> out (B, L, H), k (B, hkv, hd, L), v (B, hkv, L, hd)."""
    b, n, _ = x.shape
    n_kv, group, hd = _heads(attn)
    q = attn.q(x).view(b, n, n_kv, group, hd).permute(0, 2, 3, 1, 4)  # (B, hkv, g, L, hd)
    k, v = attn.kv(x).view(b, n, 2, n_kv, hd).permute(2, 0, 3, 1, 4)  # (B, hkv, L, hd) each
    q, k = rope(q, cos, sin), rope(k, cos[:, 0], sin[:, 0])
    kt = k.transpose(-1, -2)  # (B, hkv, hd, L)
    scores = (q @ kt[:, :, None]) / math.sqrt(hd)  # (B, hkv, g, L, L)
    probs = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    y = (probs @ v[:, :, None]).permute(0, 3, 1, 2, 4).reshape(b, n, -1)
    return attn.o(y), kt, v


def _step_attention(attn: Attention, x, cos, sin, mask, past_k, past_v):
    """x (B, H); cos/sin (B, 1, hd/2); mask (B, 1, 1, C); past_k (B, hkv, hd, C); past_v (B, hkv, C, hd)
    -> out (B, H), k (B, hkv, hd), v (B, hkv, hd). The new token attends to the valid past and itself.
    Reshapes name every size but the batch (-1): constant shapes, no shape arithmetic in the graph."""
    n_kv, group, hd = _heads(attn)
    q = attn.q(x).view(-1, n_kv, group, hd)
    k, v = attn.kv(x).view(-1, 2, n_kv, hd).unbind(1)  # (B, hkv, hd) each
    q, k = rope(q, cos[:, :, None], sin[:, :, None]), rope(k, cos, sin)
    past = (q @ past_k).masked_fill(~mask, float("-inf"))  # (B, hkv, g, C)
    own = (q * k[:, :, None]).sum(-1, keepdim=True)  # (B, hkv, g, 1)
    probs = torch.softmax(torch.cat([past, own], dim=-1) / math.sqrt(hd), dim=-1)
    y = probs[..., :-1] @ past_v + probs[..., -1:] * v[:, :, None]  # (B, hkv, g, hd)
    return attn.o(y.reshape(-1, n_kv * group * hd)), k, v


class PrefillGraph(nn.Module):
    """tokens (B, L) int64, latents (B, L, D) normalised, is_latent (B, L) bool, positions (B, L),
    mask (B, L, L) bool (query, key) -> cond (B, W) = head.cond_proj(h_last), stop (B,) logits at the last
    position, keys (layers, B, hkv, hd, L), values (layers, B, hkv, L, hd), ctc (B, ctc_upsample, V) log
    posteriors at the last position."""

    def __init__(self, lm: LatentLM):
        super().__init__()
        self.lm = lm

    def forward(self, tokens, latents, is_latent, positions, mask):
        lm = self.lm
        x = torch.where(is_latent[..., None], lm.latent_in(latents), lm.embed(tokens))  # (B, L, H)
        angles = positions[:, None, None, :, None] * lm.inv_freq  # (B, 1, 1, L, hd/2)
        cos, sin = angles.cos(), angles.sin()
        keys, values = [], []
        for block in lm.blocks:
            a, k, v = _prefill_attention(block.attn, block.attn_norm(x), cos, sin, mask[:, None, None])
            x = x + a
            x = x + block.ffn(block.ffn_norm(x))
            keys.append(k)
            values.append(v)
        h = lm.norm(x[:, -1])  # (B, H)
        return (
            lm.head.cond_proj(h),
            lm.stop_logits(h),
            torch.stack(keys),
            torch.stack(values),
            lm.ctc_log_probs(h[:, None]),
        )


class StepGraph(nn.Module):
    """z (B, D) normalised latent, position (B,), mask (B, C) bool valid cache slots, then per layer
    past_key (B, hkv, hd, C) and past_value (B, hkv, C, hd) -> cond (B, W), stop (B,),
    key (layers, B, hkv, hd), value (layers, B, hkv, hd) of the new token, ctc (B, ctc_upsample, V)."""

    def __init__(self, lm: LatentLM):
        super().__init__()
        self.lm = lm

    def forward(self, z, position, mask, *past):
        lm = self.lm
        x = lm.latent_in(z)  # (B, H)
        angles = position[:, None, None] * lm.inv_freq  # (B, 1, hd/2)
        cos, sin = angles.cos(), angles.sin()
        keys, values = [], []
        for i, block in enumerate(lm.blocks):
            a, k, v = _step_attention(
                block.attn, block.attn_norm(x), cos, sin, mask[:, None, None], past[2 * i], past[2 * i + 1]
            )
            x = x + a
            x = x + block.ffn(block.ffn_norm(x))
            keys.append(k)
            values.append(v)
        h = lm.norm(x)
        return (
            lm.head.cond_proj(h),
            lm.stop_logits(h),
            torch.stack(keys),
            torch.stack(values),
            lm.ctc_log_probs(h[:, None]),
        )


class HeadStepGraph(nn.Module):
    """One model call of the sampler: x (M, D), cond (M, W) = head.cond_proj(hidden), t (1,) -> v (M, D)."""

    def __init__(self, head: DiffusionHead):
        super().__init__()
        self.head = head

    def forward(self, x, cond, t):
        return self.head.denoise(x, cond + self.head.embed_t(t))


class SamplerGraph(nn.Module):
    """`DiffusionHead.solve`, the whole DPM-Solver++(2M) loop with CFG, unrolled for one step count.

    cond (G*B, W): the conditional rows, then (G = 2) the negative rows; noise (B, D);
    guidance_scale (1,) -> z (B, D). With G = 1 the guidance term is exactly zero.
    """

    def __init__(self, head: DiffusionHead, steps: int):
        super().__init__()
        self.head = head
        self.register_buffer("table", head.solver_table(steps, "cpu"), persistent=False)  # (steps, 6)

    def forward(self, cond, noise, guidance_scale):
        return self.head.solve(cond, noise, self.table, guidance_scale)
