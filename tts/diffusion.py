"""The per-frame diffusion head: predicts the next latent from the backbone's hidden state.

An MLP of adaLN-zero blocks conditioned on Linear(h) + a timestep embedding, trained as a
1000-step cosine DDPM with v-prediction (`loss`), sampled with DPM-Solver++(2M) and optional
classifier-free guidance (`sample`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tts.config import LMConfig
from tts.sampler import cosine_alphas_cumprod, dpm_solver_2m_table, solve


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (N,) timesteps -> (N, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


class HeadBlock(nn.Module):
    """x + gate * SwiGLU(modulate(norm(x))), with (shift, scale, gate) from the condition; zero-init."""

    def __init__(self, width: int, hidden: int, eps: float):
        super().__init__()
        self.norm = nn.RMSNorm(width, eps=eps, elementwise_affine=False)
        self.ffn = SwiGLU(width, hidden)
        self.ada = nn.Linear(width, 3 * width)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, c):  # x, c: (N, W)
        shift, scale, gate = self.ada(F.silu(c)).chunk(3, dim=-1)
        return x + gate * self.ffn(modulate(self.norm(x), shift, scale))


class DiffusionHead(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        w = cfg.head_dim
        self.latent_dim, self.num_steps, self.batch_mul = cfg.latent_dim, cfg.ddpm_steps, cfg.ddpm_batch_mul
        self.x_in = nn.Linear(cfg.latent_dim, w, bias=False)
        self.cond = nn.Linear(cfg.dim, w, bias=False)
        self.t_mlp = nn.Sequential(nn.Linear(256, w), nn.SiLU(), nn.Linear(w, w))
        self.blocks = nn.ModuleList(
            HeadBlock(w, int(cfg.head_ffn_mult * w), cfg.norm_eps) for _ in range(cfg.head_layers)
        )
        self.final_norm = nn.RMSNorm(w, eps=cfg.norm_eps, elementwise_affine=False)
        self.final_ada = nn.Linear(w, 2 * w)
        self.out = nn.Linear(w, cfg.latent_dim)
        for layer in (self.final_ada, self.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        acp = torch.tensor(cosine_alphas_cumprod(cfg.ddpm_steps), dtype=torch.float32)
        self.register_buffer("alphas_cumprod", acp, persistent=False)  # (ddpm_steps,)
        self._tables: dict[int, torch.Tensor] = {}

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Predicted v for noisy latents x_t (N, D) at timesteps t (N,) given hidden states h (N, H)."""
        return self.denoise(x_t, self.cond(h) + self.embed_t(t, h.dtype))

    def embed_t(self, t: torch.Tensor, dtype) -> torch.Tensor:
        return self.t_mlp(timestep_embedding(t, 256).to(dtype))  # (N, W)

    def denoise(self, x_t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """v for x_t (N, D) under the summed condition c = Linear(h) + timestep embedding (N, W)."""
        x = self.x_in(x_t)
        for block in self.blocks:
            x = block(x, c)
        shift, scale = self.final_ada(F.silu(c)).chunk(2, dim=-1)
        return self.out(modulate(self.final_norm(x), shift, scale))  # (N, D)

    def loss(self, target: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None = None):
        """v-prediction MSE for clean latents target (N, D) given hidden states cond (N, H)."""
        target = target.repeat(self.batch_mul, 1)
        cond = cond.repeat(self.batch_mul, 1)
        n, dev = target.shape[0], target.device
        t = torch.randint(0, self.num_steps, (n,), device=dev, generator=generator)
        noise = torch.randn(target.shape, device=dev, generator=generator, dtype=target.dtype)
        a = self.alphas_cumprod[t].sqrt()[:, None]
        s = (1 - self.alphas_cumprod[t]).sqrt()[:, None]
        v_target = a * noise - s * target
        v_pred = self(a * target + s * noise, t, cond)
        return F.mse_loss(v_pred.float(), v_target.float())

    def solver_table(self, steps: int, device) -> torch.Tensor:
        if steps not in self._tables:
            table = dpm_solver_2m_table(cosine_alphas_cumprod(self.num_steps), steps)
            self._tables[steps] = torch.tensor(table, dtype=torch.float32)
        return self._tables[steps].to(device)

    @torch.no_grad()
    def sample(
        self,
        cond: torch.Tensor,
        noise: torch.Tensor,
        steps: int = 10,
        neg_cond: torch.Tensor | None = None,
        cfg_scale: float = 1.0,
    ) -> torch.Tensor:
        """Latents (N, D) from initial noise (N, D); with neg_cond (N, H) and cfg_scale != 1,
        v = v_u + cfg_scale * (v_c - v_u) with both branches in one batch."""
        guided = neg_cond is not None and cfg_scale != 1.0
        both = torch.cat([cond, neg_cond]) if guided else cond
        table = self.solver_table(steps, noise.device)
        c_h = self.cond(both)  # (N or 2N, W), shared by every solver step
        t_emb = dict(zip(table[:, 0].tolist(), self.embed_t(table[:, 0], c_h.dtype)))  # t -> (W,)

        def v_fn(x, t):
            xx = torch.cat([x, x]) if guided else x
            v = self.denoise(xx, c_h + t_emb[t])
            if not guided:
                return v
            v_c, v_u = v.chunk(2)
            return v_u + cfg_scale * (v_c - v_u)

        return solve(v_fn, noise, table)
