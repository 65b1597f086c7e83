"""Export modules of the LatentLM decoder and its diffusion head: tensor-only signatures.

They reuse the model's weights and mirror its forward passes with two differences that ONNX
needs: RMSNorm is written out (the TorchScript exporter has no `aten::rms_norm` before
opset 23), and attention is explicit, so the KV cache is plain inputs and outputs.

KV-cache layout of the runtime, per layer: keys (B, hkv, hd, C) (already transposed for
q @ k) and values (B, hkv, C, hd), preallocated at a capacity C with a (B, C) validity mask.
A step reads the whole cache and returns only the new key and value, which the runtime writes
in place: nothing of size C is copied per step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tts.diffusion import DiffusionHead, modulate, timestep_embedding
from tts.lm import Attention, LatentLM, rope


def rms_norm(x: torch.Tensor, norm: nn.RMSNorm) -> torch.Tensor:
    eps = norm.eps if norm.eps is not None else torch.finfo(x.dtype).eps
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y if norm.weight is None else y * norm.weight


def denoise(head: DiffusionHead, x_t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """`DiffusionHead.denoise`: v for x_t (N, D) under the condition c (N, W)."""
    x = head.x_in(x_t)
    for block in head.blocks:
        shift, scale, gate = block.ada(F.silu(c)).chunk(3, dim=-1)
        x = x + gate * block.ffn(modulate(rms_norm(x, block.norm), shift, scale))
    shift, scale = head.final_ada(F.silu(c)).chunk(2, dim=-1)
    return head.out(modulate(rms_norm(x, head.final_norm), shift, scale))


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
    -> out (B, H), k (B, hkv, hd), v (B, hkv, hd). The new token attends to the valid past and itself."""
    b = x.shape[0]
    n_kv, group, hd = _heads(attn)
    q = attn.q(x).view(b, n_kv, group, hd)
    k, v = attn.kv(x).view(b, 2, n_kv, hd).unbind(1)  # (B, hkv, hd) each
    q, k = rope(q, cos[:, :, None], sin[:, :, None]), rope(k, cos, sin)
    past = (q @ past_k).masked_fill(~mask, float("-inf"))  # (B, hkv, g, C)
    own = (q * k[:, :, None]).sum(-1, keepdim=True)  # (B, hkv, g, 1)
    probs = torch.softmax(torch.cat([past, own], dim=-1) / math.sqrt(hd), dim=-1)
    y = probs[..., :-1] @ past_v + probs[..., -1:] * v[:, :, None]  # (B, hkv, g, hd)
    return attn.o(y.reshape(b, -1)), k, v


class PrefillGraph(nn.Module):
    """tokens (B, L) int64, latents (B, L, D) normalised, is_latent (B, L) bool, positions (B, L),
    mask (B, L, L) bool (query, key) -> cond (B, W) = head.cond(h_last), stop (B,) logits at the last
    position, keys (layers, B, hkv, hd, L), values (layers, B, hkv, L, hd)."""

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
            a, k, v = _prefill_attention(block.attn, rms_norm(x, block.attn_norm), cos, sin, mask[:, None, None])
            x = x + a
            x = x + block.ffn(rms_norm(x, block.ffn_norm))
            keys.append(k)
            values.append(v)
        h = rms_norm(x[:, -1], lm.norm)  # (B, H)
        return lm.head.cond(h), lm.stop_logits(h), torch.stack(keys), torch.stack(values)


class StepGraph(nn.Module):
    """z (B, D) normalised latent, position (B,), mask (B, C) bool valid cache slots, then per layer
    past_key (B, hkv, hd, C) and past_value (B, hkv, C, hd) -> cond (B, W), stop (B,),
    key (layers, B, hkv, hd), value (layers, B, hkv, hd) of the new token."""

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
                block.attn, rms_norm(x, block.attn_norm), cos, sin, mask[:, None, None], past[2 * i], past[2 * i + 1]
            )
            x = x + a
            x = x + block.ffn(rms_norm(x, block.ffn_norm))
            keys.append(k)
            values.append(v)
        h = rms_norm(x, lm.norm)
        return lm.head.cond(h), lm.stop_logits(h), torch.stack(keys), torch.stack(values)


class HeadStepGraph(nn.Module):
    """One model call of the sampler: x (M, D), cond (M, W) = head.cond(h), t (1,) -> v (M, D)."""

    def __init__(self, head: DiffusionHead):
        super().__init__()
        self.head = head

    def forward(self, x, cond, t):
        return denoise(self.head, x, cond + self.head.t_mlp(timestep_embedding(t, 256)))


class SamplerGraph(nn.Module):
    """The whole DPM-Solver++(2M) loop of `DiffusionHead.sample`, unrolled for one step count.

    cond (G*B, W): the conditional rows, then (G = 2) the negative rows; noise (B, D);
    cfg_scale (1,) -> z (B, D). With G = 1 the guidance term is exactly zero.
    """

    def __init__(self, head: DiffusionHead, steps: int):
        super().__init__()
        self.head = head
        table = head.solver_table(steps, "cpu")
        self.rows = table.tolist()
        with torch.no_grad():
            self.register_buffer("t_emb", head.embed_t(table[:, 0], torch.float32), persistent=False)  # (S, W)

    def forward(self, cond, noise, cfg_scale):
        b, d = noise.shape
        x, prev_x0 = noise, None
        for k, (_, alpha, sigma, c_x, c_d0, c_d1) in enumerate(self.rows):
            xx = x[None].expand(cond.shape[0] // b, b, d).reshape(-1, d)
            v = denoise(self.head, xx, cond + self.t_emb[k]).reshape(-1, b, d)
            v = v[-1] + cfg_scale * (v[0] - v[-1])  # v_u + w (v_c - v_u)
            x0 = alpha * x - sigma * v
            x = c_x * x + c_d0 * x0
            if prev_x0 is not None:
                x = x + c_d1 * prev_x0
            prev_x0 = x0
        return x
