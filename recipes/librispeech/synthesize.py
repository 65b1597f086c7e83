"""Stage 3 of the LibriSpeech recipe: build the zero-shot test lists (tts/eval/protocol.py) from the
test manifest and synthesise them.

    python recipes/librispeech/synthesize.py --ckpt exp/librispeech/lm \
        --manifest data/librispeech/manifests/cuts_test-clean.jsonl.gz --out exp/librispeech/lm/eval

Writes OUT/<setting>.jsonl (the test list; OUT/<setting>.limitN.jsonl with --limit N, which only
force-aligns the setting B utterances it keeps) and OUT/<setting>/<utterance id>.wav for settings A
and B. Finished wavs are kept, so a rerun resumes. `--resynthesis VAE` writes the σ-VAE's
reconstruction of each target instead: scored like a system, it is the codec's ceiling.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tts.eval.protocol import load_or_build_lists


def add_protocol_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settings", nargs="+", default=["A", "B"], choices=["A", "B"])
    p.add_argument("--min-seconds", type=float, default=4.0, help="shortest test utterance (paper: 4)")
    p.add_argument("--max-seconds", type=float, default=10.0, help="longest test utterance (paper: 10)")
    p.add_argument("--prefix-seconds", type=float, default=3.0, help="setting B prompt length (paper: 3)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--ckpt", type=Path, help="TTS checkpoint directory (stage 2)")
    who.add_argument(
        "--resynthesis",
        type=Path,
        metavar="VAE",
        help="instead of a TTS, write this σ-VAE's reconstruction of each target: the codec's "
        "ceiling (a TTS checkpoint directory works too: its vae/ is used)",
    )
    p.add_argument("--manifest", type=Path, required=True, help="test cuts manifest with transcripts (stage 0)")
    p.add_argument("--out", type=Path, required=True, help="evaluation directory")
    add_protocol_args(p)
    p.add_argument(
        "--guidance-scale", "--cfg-scale", dest="guidance_scale", type=float, default=None, help="default: the API's"
    )
    p.add_argument("--steps", type=int, default=None, help="diffusion steps (default: the API's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="N items of each setting, spread over the speakers")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    from tts.api import TTS, VAE_DIR
    from tts.eval.synth import resynthesize_items, synthesize_items
    from vae_audio.model import SigmaVAE

    if args.resynthesis:
        vae_dir = args.resynthesis / VAE_DIR if (args.resynthesis / VAE_DIR).is_dir() else args.resynthesis
        vae = SigmaVAE.from_pretrained(vae_dir, args.device).eval()
    else:
        tts = TTS.from_pretrained(args.ckpt, device=args.device)
    lists = load_or_build_lists(
        args.manifest, args.out, args.settings, args.min_seconds, args.max_seconds, args.prefix_seconds, args.limit
    )
    for setting, items in lists.items():
        if args.resynthesis:
            counts = resynthesize_items(vae, items, args.out / setting)
        else:
            counts = synthesize_items(tts, items, args.out / setting, args.guidance_scale, args.steps, args.seed)
        print(f"setting {setting}: {len(items)} items, " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
