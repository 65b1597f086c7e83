"""Entry point of `latentlm-tts`.

Each subcommand lives in its own module of this package and exposes
`register(subparsers)`, which adds its parser and sets `func` to a `run(args) -> int`.
Bad input (`InputError`, a missing file) is reported as one line on stderr with exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from latentlm_common.errors import InputError
from tts import __version__
from tts.load import TORCH_EXTRA

NO_TORCH = f"this command needs PyTorch: {TORCH_EXTRA} (training, export and recipes: 'latentlm-tts[train]')"

COMMANDS: list[str] = [
    "say",
    "audiobook",
    "batch",
    "demo",
    "export_onnx",
    "text",
    "vae",
    "eval",
    "serve",
]  # modules of tts.cli, in the order --help lists them


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latentlm-tts",
        description="Zero-shot voice-cloning TTS (LatentLM: next-token diffusion over 15 Hz σ-VAE latents).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"tts.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, FileNotFoundError) as e:
        print(f"latentlm-tts {args.command}: error: {e}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        if e.name != "torch":
            raise
        print(f"latentlm-tts {args.command}: error: {NO_TORCH}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"latentlm-tts {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
