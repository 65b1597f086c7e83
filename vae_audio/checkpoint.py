"""σ-VAE checkpoint directories: config.json + model.safetensors (+ training state for resume).

Layout of a directory:
  config.json              the `VAEConfig` (audio constants, sizes, loss weights, format version)
  model.safetensors        generator (encoder + decoder) weights
  discriminators.safetensors, train_state.pt   only while training: discriminator weights and the
                           optimizer/scheduler states and step, for exact resume
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from latentlm_common.errors import InputError
from latentlm_common.files import atomic_write
from vae_audio.config import VAEConfig

FORMAT_VERSION = 1
CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"
DISC_NAME, STATE_NAME = "discriminators.safetensors", "train_state.pt"


def weights_to_save(module: torch.nn.Module, half: bool = False) -> dict[str, torch.Tensor]:
    """The state dict on CPU; `half` stores matrices and kernels (ndim >= 2) as float16, which halves
    a shipped model's size. Loading casts them back to the module's float32."""

    def store(v: torch.Tensor) -> torch.Tensor:
        v = v.detach().cpu().contiguous()
        return v.half() if half and v.is_floating_point() and v.ndim >= 2 else v

    return {k: store(v) for k, v in module.state_dict().items()}


def save_weights(module: torch.nn.Module, path: Path, half: bool = False) -> None:
    state = weights_to_save(module, half)
    atomic_write(path, lambda tmp: save_file(state, tmp))


def save_config(config: VAEConfig, directory: Path) -> None:
    text = json.dumps({**config.to_dict(), "format_version": FORMAT_VERSION}, indent=2)
    atomic_write(directory / CONFIG_NAME, lambda tmp: Path(tmp).write_text(text))


def save_model(model, directory: str | os.PathLike, half: bool = False) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_weights(model, directory / WEIGHTS_NAME, half)
    save_config(model.config, directory)  # last: a directory with a config is complete


def read_config(directory: str | os.PathLike) -> VAEConfig:
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise InputError(f"{directory}: not a σ-VAE checkpoint (no {CONFIG_NAME}).")
    try:
        d = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON ({e.msg}).") from None
    if d.get("format_version", 0) > FORMAT_VERSION:
        raise InputError(
            f"{path}: format version {d['format_version']} is newer than this package reads ({FORMAT_VERSION})."
        )
    return VAEConfig.from_dict(d)


def load_model(cls, directory: str | os.PathLike, map_location="cpu"):
    config = read_config(directory)
    weights = Path(directory) / WEIGHTS_NAME
    if not weights.is_file():
        raise InputError(f"{directory}: σ-VAE checkpoint has no {WEIGHTS_NAME}.")
    model = cls(config)
    try:
        model.load_state_dict(load_file(str(weights), device=str(map_location)))
    except (SafetensorError, RuntimeError, OSError) as e:
        raise InputError(f"{weights}: corrupt σ-VAE weights ({e.__class__.__name__}).") from None
    return model.eval()


def save_training_state(directory: Path, discriminators: torch.nn.Module, state: dict) -> None:
    """Discriminator weights as safetensors; optimizers, schedulers, step and RNG as a torch file."""
    save_weights(discriminators, directory / DISC_NAME)
    atomic_write(directory / STATE_NAME, lambda tmp: torch.save(state, tmp))


def load_training_state(directory: Path, discriminators: torch.nn.Module, map_location="cpu") -> dict | None:
    """Restore the discriminators and return the saved state dict, or None if there is nothing to resume."""
    if not (directory / STATE_NAME).is_file():
        return None
    discriminators.load_state_dict(load_file(str(directory / DISC_NAME), device=str(map_location)))
    return torch.load(directory / STATE_NAME, map_location=map_location, weights_only=False)
