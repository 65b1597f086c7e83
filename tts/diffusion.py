"""The per-frame diffusion head: predicts the next latent from the backbone's hidden state.

An MLP of adaLN-zero blocks conditioned on cond_proj(hidden) + a timestep embedding, trained as a
1000-step cosine DDPM with v-prediction (`loss`), sampled with DPM-Solver++(2M) and optional
classifier-free guidance (`sample`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tts.config import LMConfig
from tts.layers import RMSNorm, SwiGLU
from tts.sampler import cosine_alphas_cumprod, dpm_solver_2m_table, guide, solve


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (N,) timesteps -> (N, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


class HeadBlock(nn.Module):
    """x + gate * SwiGLU(modulate(norm(x))), with (shift, scale, gate) from the condition; zero-init."""

    def __init__(self, width: int, hidden: int, eps: float):
        super().__init__()
        self.width = width
        self.norm = RMSNorm(width, eps, affine=False)
        self.ffn = SwiGLU(width, hidden)
        self.ada = nn.Linear(width, 3 * width)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, c):  # x, c: (N, W)
        shift, scale, gate = self.ada(F.silu(c)).split(self.width, dim=-1)
        return x + gate * self.ffn(modulate(self.norm(x), shift, scale))


class DiffusionHead(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.width = w = cfg.head_dim
        self.latent_dim, self.num_steps, self.batch_mul = cfg.latent_dim, cfg.ddpm_steps, cfg.ddpm_batch_mul
        self.x_in = nn.Linear(cfg.latent_dim, w, bias=False)
        self.cond_proj = nn.Linear(cfg.dim, w, bias=False)
        self.t_mlp = nn.Sequential(nn.Linear(256, w), nn.SiLU(), nn.Linear(w, w))
        self.blocks = nn.ModuleList(
            HeadBlock(w, int(cfg.head_ffn_mult * w), cfg.norm_eps) for _ in range(cfg.head_layers)
        )
        self.final_norm = RMSNorm(w, cfg.norm_eps, affine=False)
        self.final_ada = nn.Linear(w, 2 * w)
        self.out = nn.Linear(w, cfg.latent_dim)
        for layer in (self.final_ada, self.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        acp = torch.tensor(cosine_alphas_cumprod(cfg.ddpm_steps), dtype=torch.float32)
        self.register_buffer("alphas_cumprod", acp, persistent=False)  # (ddpm_steps,)
        self._tables: dict[int, torch.Tensor] = {}

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """Predicted v for noisy latents x_t (N, D) at timesteps t (N,) given hidden states (N, H)."""
        return self.denoise(x_t, self.cond_proj(hidden) + self.embed_t(t, hidden.dtype))

    def embed_t(self, t: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
        return self.t_mlp(timestep_embedding(t, 256).to(dtype))  # (N, W)

    def denoise(self, x_t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """v for x_t (N, D) under the summed condition c = cond_proj(hidden) + timestep embedding (N, W)."""
        x = self.x_in(x_t)
        for block in self.blocks:
            x = block(x, c)
        shift, scale = self.final_ada(F.silu(c)).split(self.width, dim=-1)
        return self.out(modulate(self.final_norm(x), shift, scale))  # (N, D)

    def loss(self, target: torch.Tensor, hidden: torch.Tensor, generator: torch.Generator | None = None):
        """v-prediction MSE for clean latents target (N, D) given hidden states (N, H)."""
        target = target.repeat(self.batch_mul, 1)
        hidden = hidden.repeat(self.batch_mul, 1)
        n, dev = target.shape[0], target.device
        t = torch.randint(0, self.num_steps, (n,), device=dev, generator=generator)
        noise = torch.randn(target.shape, device=dev, generator=generator, dtype=target.dtype)
        a = self.alphas_cumprod[t].sqrt()[:, None]
        s = (1 - self.alphas_cumprod[t]).sqrt()[:, None]
        v_target = a * noise - s * target
        v_pred = self(a * target + s * noise, t, hidden)
        return F.mse_loss(v_pred.float(), v_target.float())

    def solver_table(self, steps: int, device) -> torch.Tensor:
        if steps not in self._tables:
            table = dpm_solver_2m_table(cosine_alphas_cumprod(self.num_steps), steps)
            self._tables[steps] = torch.tensor(table, dtype=torch.float32)
        return self._tables[steps].to(device)

    @torch.no_grad()
    def sample(
        self,
        hidden: torch.Tensor,
        noise: torch.Tensor,
        steps: int = 10,
        neg_hidden: torch.Tensor | None = None,
        guidance_scale: float = 1.0,
    ) -> torch.Tensor:
        """Latents (N, D) from initial noise (N, D) given hidden states (N, H); with neg_hidden (N, H)
        and guidance_scale != 1, classifier-free guidance with both branches in one batch."""
        guided = neg_hidden is not None and guidance_scale != 1.0
        cond = self.cond_proj(torch.cat([hidden, neg_hidden]) if guided else hidden)
        return self.solve(cond, noise, self.solver_table(steps, noise.device), guidance_scale)

    def solve(self, cond: torch.Tensor, noise: torch.Tensor, table: torch.Tensor, guidance_scale) -> torch.Tensor:
        """The sampler loop on projected conditions cond (G*N, W): the N conditional rows, then
        (G = 2) the N unconditional rows. Without branches on G, so the ONNX sampler graph is this
        very function: with G = 1 both branches are the same rows and the guidance term is zero."""
        n, d = noise.shape
        groups = cond.shape[0] // n
        t_emb = self.embed_t(table[:, 0], cond.dtype)  # (S, W), one row per solver step
        row = {t: k for k, t in enumerate(table[:, 0].tolist())}

        def v_fn(x, t):
            xx = x[None].expand(groups, n, d).reshape(-1, d)
            v = self.denoise(xx, cond + t_emb[row[t]]).reshape(-1, n, d)
            return guide(v[0], v[-1], guidance_scale)

        return solve(v_fn, noise, table)
