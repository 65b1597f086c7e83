"""Loading a model for synthesis: which checkpoint, which engine. Imports neither torch nor onnxruntime
until an engine is chosen.

    tts = load_tts()                          # the bundled model on the default engine
    tts = load_tts("my-ckpt/", engine="torch")

A checkpoint directory holds config.json, model.safetensors and vae/ (the PyTorch engine's files);
after `latentlm-tts export-onnx --ckpt DIR` it also holds onnx.json and the graphs, which read their
weights from the same safetensors files. Engines:

- "onnx" (the default when the graphs are there): ONNX Runtime, a base dependency.
- "torch": PyTorch, the `[torch]` extra; the default for a checkpoint without graphs.
"""

from __future__ import annotations

import json
from pathlib import Path

from latentlm_common.errors import InputError

PRETRAINED = Path(__file__).parent / "pretrained"
ENGINES = ("onnx", "torch")
ONNX_CONFIG = "onnx.json"  # written by tts.onnx.export beside the graphs
ONNX_FORMAT = "latentlm-tts-onnx"  # its `format` field
TORCH_EXTRA = "pip install 'latentlm-tts[torch]'"


def resolve_checkpoint(name_or_dir: str | Path = "default") -> Path:
    """A bundled model by name ("default") or a checkpoint directory -> its directory."""
    path = Path(name_or_dir)
    if not path.exists() and (PRETRAINED / str(name_or_dir)).exists():
        path = PRETRAINED / str(name_or_dir)
    if not path.is_dir() and str(name_or_dir) == "default":
        raise InputError(
            f"the bundled default model is missing from this installation ({PRETRAINED / 'default'}); "
            "reinstall the package or pass --ckpt DIR."
        )
    if not path.is_dir():
        raise InputError(f"{name_or_dir}: no such checkpoint directory or bundled model.")
    return path


def onnx_config_path(directory: Path) -> Path:
    """Where an export's runtime config is: onnx.json, or an older export's config.json."""
    return directory / ONNX_CONFIG if (directory / ONNX_CONFIG).is_file() else directory / "config.json"


def has_graphs(directory: Path) -> bool:
    """Whether `directory` holds an ONNX export: onnx.json (any fault in it is the runtime's to
    report), or an older export's config.json, which names the export format."""
    path = onnx_config_path(directory)
    if path.name == ONNX_CONFIG:
        return True
    try:
        return json.loads(path.read_text()).get("format") == ONNX_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def load_tts(
    ckpt: str | Path = "default",
    engine: str | None = None,
    lexicon=None,
    threads: int | None = None,
    device: str = "cpu",
):
    """A `tts.synthesis.Synthesizer` for the checkpoint: `OnnxTTS` or `TTS`. `engine` None picks ONNX
    Runtime when the checkpoint has graphs, else PyTorch. `lexicon`: a `tts.text.Lexicon` or a
    lexicon file (`tts.text.lexicon`); `threads`: the engine's threads (default: its own choice);
    `device`: the PyTorch engine's."""
    path = resolve_checkpoint(ckpt)
    if engine not in (None, *ENGINES):
        raise InputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    engine = engine or ("onnx" if has_graphs(path) else "torch")
    if engine == "onnx":
        if not has_graphs(path):
            raise InputError(
                f"{ckpt}: no ONNX graphs in this checkpoint; run `latentlm-tts export-onnx --ckpt {ckpt}` "
                "or choose --engine torch."
            )
        return _onnx_tts(path, lexicon, threads)
    require_torch("the PyTorch engine")
    import torch

    from tts.api import TTS

    if threads is not None:
        torch.set_num_threads(threads)
    return TTS.from_pretrained(path, device=device, lexicon=lexicon)


def _onnx_tts(path: Path, lexicon, threads: int | None):
    try:
        from tts.onnx.runtime import OnnxTTS
    except ImportError as e:
        if not (e.name or "").startswith("onnxruntime"):
            raise  # one of ours: a broken installation, not a missing dependency
        raise InputError(f"the ONNX engine needs onnxruntime: pip install onnxruntime ({e.name} is missing).") from None
    return OnnxTTS(path, lexicon=lexicon, threads=threads)


def require_torch(what: str) -> None:
    """One clear error when PyTorch is not installed."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError(f"{what} needs PyTorch: {TORCH_EXTRA}") from None
