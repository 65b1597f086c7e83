"""LatentLM checkpoints: a directory with config.json and model.safetensors (no pickle).

config.json = {"format_version", "lm": LMConfig dict, "audio": AudioConfig dict,
               "tokenizer": tokenizer dict or null, plus any extra fields (e.g. training notes)}.
The model is rebuilt from the directory alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from latentlm_common.errors import InputError
from latentlm_common.files import atomic_write
from tts.config import LMConfig
from tts.lm import LatentLM
from vae_audio.checkpoint import weights_to_save
from vae_audio.config import AudioConfig

FORMAT_VERSION = 1
CONFIG, WEIGHTS = "config.json", "model.safetensors"


def save_checkpoint(
    out_dir: str | Path, model: LatentLM, audio: AudioConfig, tokenizer: dict | None = None, half: bool = False, **extra
) -> None:
    """`half`: matrices stored as float16 (see vae_audio.checkpoint.weights_to_save)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights = weights_to_save(model, half)
    atomic_write(out / WEIGHTS, lambda tmp: save_file(weights, tmp))
    config = {
        "format_version": FORMAT_VERSION,
        "lm": model.cfg.to_dict(),
        "audio": audio.to_dict(),
        "tokenizer": tokenizer,
        **extra,
    }
    atomic_write(out / CONFIG, lambda tmp: Path(tmp).write_text(json.dumps(config, indent=1)))


def read_config(ckpt_dir: str | Path) -> dict:
    path = Path(ckpt_dir) / CONFIG
    if not path.is_file():
        raise InputError(f"{ckpt_dir}: not a LatentLM checkpoint (no {CONFIG}).")
    try:
        config = json.loads(path.read_text())
        LMConfig.from_dict(config["lm"])
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: unreadable checkpoint config ({e.__class__.__name__}: {e}).") from None
    if config.get("format_version") != FORMAT_VERSION:
        raise InputError(f"{path}: checkpoint format {config.get('format_version')} is not {FORMAT_VERSION}.")
    return config


RENAMED = {"head.cond.": "head.cond_proj."}  # old key prefix -> new, for checkpoints written before the rename


def load_weights(model: LatentLM, path: str | Path, device: str | torch.device = "cpu") -> None:
    """A model.safetensors into `model`, with the renamed keys of older checkpoints mapped (the
    one place that knows old key names). RuntimeError if the tensors do not fit the model."""
    weights = load_file(str(path), device=str(device))
    for old, new in RENAMED.items():
        weights = {(new + k[len(old) :] if k.startswith(old) else k): v for k, v in weights.items()}
    model.load_state_dict(weights)


def load_checkpoint(ckpt_dir: str | Path, device: str | torch.device = "cpu") -> tuple[LatentLM, dict]:
    """(model in eval mode, config dict) of a checkpoint directory; InputError if it is broken."""
    config = read_config(ckpt_dir)
    model = LatentLM(LMConfig.from_dict(config["lm"]))
    path = Path(ckpt_dir) / WEIGHTS
    try:
        load_weights(model, path, device)
    except (FileNotFoundError, SafetensorError, RuntimeError, OSError) as e:
        raise InputError(f"{path}: missing or corrupt weights ({e.__class__.__name__}).") from None
    return model.to(device).eval(), config
