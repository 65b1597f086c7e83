"""Package a trained TTS checkpoint as a bundled model: inference weights only (no optimiser or
discriminator state), and its ONNX graphs (the default engine's), which read those same weight files.

    python -m recipes.synthetic.package --ckpt exp/synthetic/lm --out tts/pretrained/default

The LM's linear layers are stored as int8 and its other matrices and the σ-VAE's as float16
(`--float16`: every matrix as float16, with float graphs). The int8 graphs of `export-onnx --int8`
point at those int8 bytes, so the package carries one copy of the model (tts.checkpoint.int8_linears).

`--ctc-lead-seconds S` records how far the LatentLM's CTC head runs ahead of the audio, by which
word times are moved back (`LMConfig.ctc_lead_seconds`; without it the checkpoint's own value, 0 for
a fresh one): measure it with `benchmarks/alignment_quality.py --ckpt CKPT`, the generated speech's
signed word-start error (-0.153 s for v4, packaged with 0.15).

Files other than the model's (e.g. the model card README.md) are left as they are. It prints the
size and what the stored precision changes: the latents of one sentence, same seed, both ways.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from tts.api import TTS
from tts.checkpoint import read_config
from tts.engine import SpeechRequest
from tts.onnx.export import export_onnx
from tts.synthesis import DEFAULT_GUIDANCE_SCALE, DEFAULT_STEPS
from tts.text import text_to_ids

SENTENCE = "The quick brown fox jumps over the lazy dog."


def package(
    ckpt: Path, out: Path, int8: bool = True, notes: dict | None = None, ctc_lead_seconds: float | None = None
) -> dict:
    full = TTS.from_pretrained(ckpt)
    if ctc_lead_seconds is not None:
        full.model.cfg.ctc_lead_seconds = float(ctc_lead_seconds)
    extra = {k: v for k, v in read_config(ckpt).items() if k not in ("format_version", "lm", "audio", "tokenizer")}
    full.save_pretrained(out, half=True, int8=int8, **extra, **(notes or {}))
    export_onnx(out, int8=int8)  # the graphs point into the new weight files: always export after saving them
    small = TTS.from_pretrained(out)
    a, b = (_latents(t) for t in (full, small))
    n = min(len(a), len(b))
    size = sum(p.stat().st_size for p in out.rglob("*.safetensors"))
    return {
        "megabytes": round(size / 1e6, 2),
        "frames_float32": len(a),
        "frames_stored": len(b),
        "max_abs_latent_diff": float((a[:n] - b[:n]).abs().max()),
    }


def _latents(tts: TTS) -> torch.Tensor:
    """(T, D) latents of SENTENCE without a voice, seed 0, the default sampler settings."""
    req = SpeechRequest(torch.tensor(text_to_ids(SENTENCE, tts.tokenizer)))
    return tts.engine.generate(
        [req], [torch.Generator().manual_seed(0)], DEFAULT_STEPS, DEFAULT_GUIDANCE_SCALE
    ).latents[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", type=Path, required=True, help="trained TTS checkpoint directory (LM + vae/)")
    p.add_argument("--out", type=Path, required=True, help="package directory, e.g. tts/pretrained/default")
    p.add_argument("--float16", action="store_true", help="all matrices float16, float graphs (twice the size)")
    p.add_argument(
        "--ctc-lead-seconds",
        type=float,
        metavar="S",
        help="how far the CTC head runs ahead of the audio, from benchmarks/alignment_quality.py "
        "(default: the checkpoint's)",
    )
    args = p.parse_args()
    print(json.dumps(package(args.ckpt, args.out, int8=not args.float16, ctc_lead_seconds=args.ctc_lead_seconds)))


if __name__ == "__main__":
    main()
