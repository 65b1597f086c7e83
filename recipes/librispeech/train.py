"""Stage 2 of the LibriSpeech recipe: train the LatentLM decoder, then put the σ-VAE beside it so
the output directory is a complete TTS checkpoint (`TTS.from_pretrained(OUT)`).

    torchrun --standalone --nproc-per-node 8 recipes/librispeech/train.py --vae VAE_DIR \
        --data data/librispeech/latents/train --out exp/librispeech/lm --preset paper --steps 300000

Every option other than --vae is `python -m tts.train`'s (see its --help); rerunning the same
command resumes exactly.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch.distributed as dist

from latentlm_common.errors import one_line_errors
from tts.api import VAE_DIR
from tts.train import parse_args, train


def attach_vae(vae: Path, out: Path) -> None:
    """Copy the σ-VAE checkpoint (config.json, model.safetensors) into OUT/vae."""
    (out / VAE_DIR).mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy2(vae / name, out / VAE_DIR / name)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    p.add_argument("--vae", type=Path, help="σ-VAE checkpoint the latents were extracted with")
    args, rest = p.parse_known_args(argv if argv is not None else sys.argv[1:])
    if args.vae is None or "-h" in rest or "--help" in rest:
        print(__doc__)
        parse_args(rest or ["--help"])  # tts.train's own --help, or its error for missing options
        raise SystemExit(2)
    tc = parse_args(rest)
    with one_line_errors("recipes/librispeech/train.py"):
        train(tc)
    if not dist.is_initialized() or dist.get_rank() == 0:
        attach_vae(args.vae, Path(tc.out))
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
