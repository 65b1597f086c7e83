"""Options shared by the commands that load a model and synthesise: one definition, one default each."""

from __future__ import annotations

import argparse


def add_model_options(p: argparse.ArgumentParser) -> None:
    """--ckpt, --engine and --onnx: which model, on which engine (`tts.load`)."""
    from tts.load import ENGINES

    p.add_argument("--ckpt", default="default", help="checkpoint directory or bundled model name (default: default)")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="onnx (ONNX Runtime) or torch (PyTorch, the [torch] extra); default: onnx when the checkpoint "
        "has ONNX graphs (see export-onnx), else torch",
    )
    p.add_argument("--onnx", metavar="DIR", help="an ONNX export directory: the same as --ckpt DIR --engine onnx")


def load_model(args: argparse.Namespace, threads: int | None = None, device: str = "cpu"):
    """The `Synthesizer` that --ckpt / --engine / --onnx name, with the --lexicon file; `threads`
    pins the engine's threads (default: the engine's own choice), `device` is the torch engine's."""
    from tts.load import load_tts

    ckpt, engine = (args.onnx, "onnx") if args.onnx else (args.ckpt, args.engine)
    return load_tts(ckpt, engine, getattr(args, "lexicon", None), threads, device)


def add_threads_option(p: argparse.ArgumentParser) -> None:
    """--threads of the commands that run alone or under torchrun (`latentlm_common.jobs.Group.threads`)."""
    p.add_argument(
        "--threads",
        type=_at_least_one,
        metavar="N",
        help="threads per process (default: this machine's cores / its processes); on a machine whose "
        "other cores are busy, 1 avoids waiting on them",
    )


def add_batch_size_option(p: argparse.ArgumentParser, what: str = "items") -> None:
    """--batch-size of the commands that synthesise many texts (`tts.batch`)."""
    p.add_argument(
        "--batch-size", type=_at_least_one, default=8, metavar="N", help=f"{what} synthesised together (default 8)"
    )


def _at_least_one(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {value!r}")
    return int(value)


def add_lexicon_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lexicon",
        metavar="FILE",
        help="pronunciation fixes applied before normalization: one 'written<TAB>replacement' per line, "
        "the replacement plain text or /IPA/ between slashes (see tts/text/lexicon.py)",
    )


def add_retries_option(p: argparse.ArgumentParser, default: int = 2) -> None:
    """--retries: flagged chunks sampled again (`Synthesizer.synthesize_batch`)."""
    from tts.synthesis import MAX_RETRIES

    p.add_argument(
        "--retries",
        type=int,
        default=default,
        metavar="N",
        help=f"sample a chunk again, up to N times (0-{MAX_RETRIES}), when its alignment finds words skipped, "
        "repeated or never reached, the length guard ends it or it is near-silent; the take with the fewest "
        f"problems is kept (default {default}; 0 keeps the first take)",
    )


def add_synthesis_options(p: argparse.ArgumentParser) -> None:
    """--guidance-scale (alias --cfg-scale), --steps, --speed and --lexicon, with the API's defaults and limits."""
    from tts.synthesis import (
        DEFAULT_GUIDANCE_SCALE,
        DEFAULT_STEPS,
        MAX_GUIDANCE_SCALE,
        MAX_SPEED,
        MAX_STEPS,
        MIN_SPEED,
    )

    p.add_argument(
        "--guidance-scale",
        "--cfg-scale",
        dest="guidance_scale",
        type=float,
        default=DEFAULT_GUIDANCE_SCALE,
        help=f"classifier-free guidance scale, 0-{MAX_GUIDANCE_SCALE:g}; 1 disables it "
        f"(default {DEFAULT_GUIDANCE_SCALE})",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=DEFAULT_STEPS,
        help=f"diffusion sampler steps per frame, 1-{MAX_STEPS} (default {DEFAULT_STEPS})",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help=f"speaking rate, {MIN_SPEED:g}-{MAX_SPEED:g} (2 is twice as fast; default 1)",
    )
    add_lexicon_option(p)
