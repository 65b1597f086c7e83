"""Noise schedule and the DPM-Solver++(2M) sampler as one precomputed coefficient table.

The diffusion head is trained as a 1000-step DDPM with a cosine schedule and v-prediction.
Sampling uses DPM-Solver++ of order 2 (multistep, midpoint form, first order on the first
and last step, final sigma zero), which is what `diffusers.DPMSolverMultistepScheduler`
does with `algorithm_type="dpmsolver++", solver_order=2, prediction_type="v_prediction"`
and its default `timestep_spacing="linspace"`.

Every per-step scalar is computed once, in numpy float64, into a `(steps, 6)` table. The
update is then only multiply-adds, so `solve` runs unchanged on numpy arrays (the ONNX
runtime) and on torch tensors (the torch engine) and both read the same table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np

Array = TypeVar("Array")  # np.ndarray or torch.Tensor

# Columns of the coefficient table, one row per solver step.
T_COL, ALPHA_COL, SIGMA_COL, X_COL, D0_COL, D1_COL = range(6)


def cosine_alphas_cumprod(num_steps: int = 1000, max_beta: float = 0.999) -> np.ndarray:
    """ᾱ_t for t = 0..num_steps-1 of the cosine schedule (Nichol & Dhariwal), betas capped at max_beta."""

    def alpha_bar(t: float) -> float:
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = np.array(
        [min(1.0 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), max_beta) for i in range(num_steps)],
        dtype=np.float64,
    )
    return np.cumprod(1.0 - betas)  # (num_steps,)


def solver_timesteps(num_train_steps: int, steps: int) -> np.ndarray:
    """Integer timesteps visited, high noise first: `linspace(0, N-1, steps+1)` rounded, reversed, last dropped."""
    return np.linspace(0, num_train_steps - 1, steps + 1).round()[::-1][:-1].astype(np.int64)


def dpm_solver_2m_table(alphas_cumprod: np.ndarray, steps: int) -> np.ndarray:
    """The `(steps, 6)` table of DPM-Solver++(2M) for a v-prediction model.

    Row k holds the timestep t_k fed to the model, (α_k, σ_k) that turn the model's v into
    x̂0 = α_k x − σ_k v, and the update x_{k+1} = c_x x_k + c_d0 x̂0_k + c_d1 x̂0_{k−1}.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    ts = solver_timesteps(len(alphas_cumprod), steps)
    alpha = np.sqrt(alphas_cumprod[ts])
    sigma = np.sqrt(1.0 - alphas_cumprod[ts])
    lam = np.log(alpha) - np.log(sigma)
    table = np.zeros((steps, 6), dtype=np.float64)
    table[:, T_COL], table[:, ALPHA_COL], table[:, SIGMA_COL] = ts, alpha, sigma
    for k in range(steps):
        table[k, X_COL:] = _update_coefficients(k, steps, alpha, sigma, lam)
    return table


def _update_coefficients(k, steps, alpha, sigma, lam) -> tuple[float, float, float]:
    if k == steps - 1:  # last step lands on sigma = 0: x_{k+1} = x̂0 exactly
        return 0.0, 1.0, 0.0
    h = lam[k + 1] - lam[k]
    c_x = sigma[k + 1] / sigma[k]
    c_d = -alpha[k + 1] * math.expm1(-h)  # α_t (1 − e^{−h})
    if k == 0:  # first order (DDIM) until a previous x̂0 exists
        return c_x, c_d, 0.0
    r = (lam[k] - lam[k - 1]) / h
    # midpoint form: D = x̂0_k + (x̂0_k − x̂0_{k−1}) / (2r)
    return c_x, c_d * (1.0 + 0.5 / r), -c_d * 0.5 / r


def guide(v_cond: Array, v_uncond: Array, scale) -> Array:
    """Classifier-free guidance, the one place it is written: v = v_u + w (v_c - v_u)."""
    return v_uncond + scale * (v_cond - v_uncond)


def solve(model_fn: Callable[[Array, float], Array], x: Array, table) -> Array:
    """Run the solver from pure noise `x` (any shape); `model_fn(x, t)` returns v at integer timestep t.

    `table` is the numpy table or the same values as a torch tensor on x's device.
    """
    prev_x0 = None
    for row in table.tolist():  # Python floats: cheap scalar reads for numpy and torch alike
        v = model_fn(x, row[T_COL])
        x0 = row[ALPHA_COL] * x - row[SIGMA_COL] * v
        x = row[X_COL] * x + row[D0_COL] * x0
        if prev_x0 is not None:
            x = x + row[D1_COL] * prev_x0
        prev_x0 = x0
    return x
