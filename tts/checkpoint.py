"""LatentLM checkpoints: a directory with config.json and model.safetensors (no pickle).

config.json = {"format_version", "lm": LMConfig dict, "audio": AudioConfig dict,
               "tokenizer": tokenizer dict or null, plus any extra fields (e.g. training notes)}.
The model is rebuilt from the directory alone. A packaged model stores its matrices as float16 and
may store its linear layers as int8 ("NAME.int8" and "NAME.scale", see int8_linears); loading
gives float32 either way.
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
INT8, SCALE = ".int8", ".scale"  # a matrix stored as int8: "NAME.int8" and "NAME.scale" replace "NAME"


def save_checkpoint(
    out_dir: str | Path,
    model: LatentLM,
    audio: AudioConfig,
    tokenizer: dict | None = None,
    half: bool = False,
    int8: bool = False,
    **extra,
) -> None:
    """`half`: matrices stored as float16 (see vae_audio.checkpoint.weights_to_save). `int8`: besides,
    the matrices of the linear layers stored as int8 (see int8_linears)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights = weights_to_save(model, half or int8)
    if int8:
        weights.update(int8_linears(model))
        weights = {k: v for k, v in weights.items() if k + INT8 not in weights}
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


def int8_linears(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Each nn.Linear weight as "NAME.int8" (int8, laid out (in, out)) and "NAME.scale" (float32, one
    per output column): the per-channel symmetric quantisation that `export-onnx --int8` applies to
    the same matrix products, computed by ONNX Runtime's own quantiser. Those graphs then find these
    very bytes in model.safetensors and point at them (tts.onnx.storage), so the package holds one
    copy of the matrices, a quarter of their float32 size; PyTorch loads them back as scale * int8.
    (Checkpoints from before per-channel scales hold one scale per matrix; they load the same way.)"""
    import numpy as np
    from onnx import TensorProto
    from onnxruntime.quantization.quant_utils import quantize_data

    out = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            w = module.weight.detach().cpu().float().T.contiguous().numpy()  # the graphs' MatMul layout
            columns = [quantize_data(w[:, j], TensorProto.INT8, symmetric=True)[-2:] for j in range(w.shape[1])]
            out[f"{name}.weight{INT8}"] = torch.from_numpy(np.stack([q for _, q in columns], 1).astype("int8"))
            out[f"{name}.weight{SCALE}"] = torch.tensor(
                np.array([s for s, _ in columns]).reshape(-1), dtype=torch.float32
            )
    return out


def _dequantize(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Stored int8 matrices (see int8_linears) back to float32 "NAME" entries."""
    for key in [k for k in weights if k.endswith(INT8)]:
        name = key[: -len(INT8)]
        weights[name] = (weights.pop(key).float() * weights.pop(name + SCALE)).T.contiguous()
    return weights


RENAMED = {"head.cond.": "head.cond_proj."}  # old key prefix -> new, for checkpoints written before the rename


def load_weights(model: LatentLM, path: str | Path, device: str | torch.device = "cpu") -> None:
    """A model.safetensors into `model`, int8 matrices dequantised and the renamed keys of older
    checkpoints mapped (the one place that knows stored forms and old key names). RuntimeError if
    the tensors do not fit the model."""
    weights = _dequantize(load_file(str(path), device=str(device)))
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
