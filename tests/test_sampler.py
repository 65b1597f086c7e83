"""The precomputed DPM-Solver++(2M) table against diffusers' scheduler as an oracle."""

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler

from tts.sampler import cosine_alphas_cumprod, dpm_solver_2m_table, solve


def toy_model(x, t):
    """A nonlinear stand-in for the head: v depends on both the sample and the timestep."""
    lib = torch if isinstance(x, torch.Tensor) else np
    return lib.tanh(x * (1.0 + t / 1000.0)) + 0.1 * np.cos(t / 100.0)


def diffusers_sample(x, steps):
    sched = DPMSolverMultistepScheduler(
        num_train_timesteps=1000,
        beta_schedule="squaredcos_cap_v2",
        algorithm_type="dpmsolver++",
        solver_order=2,
        prediction_type="v_prediction",
    )
    sched.set_timesteps(steps)
    for t in sched.timesteps:
        x = sched.step(toy_model(x, float(t)), t, x).prev_sample
    return x, sched


def test_cosine_schedule_matches_diffusers():
    sched = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2")
    ours = cosine_alphas_cumprod(1000)
    np.testing.assert_allclose(ours, sched.alphas_cumprod.double().numpy(), rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("steps", [1, 2, 5, 10, 20])
def test_solver_matches_diffusers(steps):
    x_T = torch.randn(3, 32, generator=torch.Generator().manual_seed(steps))
    expected, sched = diffusers_sample(x_T.clone(), steps)
    table = dpm_solver_2m_table(cosine_alphas_cumprod(1000), steps)
    np.testing.assert_array_equal(table[:, 0].astype(np.int64), sched.timesteps.numpy())
    got_torch = solve(toy_model, x_T.clone(), torch.tensor(table, dtype=torch.float32))
    got_numpy = solve(toy_model, x_T.numpy().astype(np.float64), table)
    torch.testing.assert_close(got_torch, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_numpy, expected.numpy(), rtol=1e-4, atol=1e-4)
    assert not torch.allclose(got_torch, x_T)  # the solver moved the sample


def test_solver_order_matters():
    """A first-order (DDIM) update would differ: the d1 column is really used."""
    table = dpm_solver_2m_table(cosine_alphas_cumprod(1000), 10)
    assert np.abs(table[1:-1, 5]).min() > 0
    ddim = table.copy()
    ddim[1:-1, 4] += ddim[1:-1, 5]
    ddim[:, 5] = 0
    x = np.random.default_rng(0).standard_normal((2, 8))
    assert not np.allclose(solve(toy_model, x, table), solve(toy_model, x, ddim), atol=1e-3)
