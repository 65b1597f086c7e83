"""Stage 3 of the LibriSpeech recipe: build the zero-shot test lists (tts/eval/protocol.py) from the
test manifest and synthesise them.

    python recipes/librispeech/synthesize.py --ckpt exp/librispeech/lm \
        --manifest data/librispeech/manifests/cuts_test-clean.jsonl.gz --out exp/librispeech/lm/eval

Writes OUT/<setting>.jsonl (the test list; OUT/<setting>.limitN.jsonl with --limit N, which only
force-aligns the setting B utterances it keeps), then synthesises it as `latentlm-tts eval` does
(tts/eval/synth.py, the batch job): OUT/<setting>/<utterance id>.wav. Finished batches are kept, so
a rerun resumes; under torchrun the batches are shared among the processes:

    torchrun --standalone --nproc-per-node 4 recipes/librispeech/synthesize.py --ckpt ... --device cuda

`--resynthesis VAE` writes the σ-VAE's reconstruction of each target instead: scored like a
system, it is the codec's ceiling.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from latentlm_common.jobs import Group, join_group, leave_group
from tts.cli.options import add_batch_size_option, add_retries_option, add_threads_option
from tts.eval.protocol import TestItem, load_or_build_lists


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
    add_retries_option(p, default=0)  # 0: the raw model
    p.add_argument("--limit", type=int, default=None, help="N items of each setting, spread over the speakers")
    p.add_argument("--device", default="cpu", help="cpu or cuda (under torchrun: each process's own GPU)")
    add_batch_size_option(p)
    add_threads_option(p)
    args = p.parse_args(argv)
    if args.resynthesis:
        return resynthesize(args)
    group = join_group()
    try:
        synthesize(args, group)
    finally:
        leave_group(group)


def resynthesize(args: argparse.Namespace) -> None:
    import torch

    from tts.api import VAE_DIR
    from tts.eval.synth import resynthesize_items
    from vae_audio.model import SigmaVAE

    if args.threads:
        torch.set_num_threads(args.threads)
    vae_dir = args.resynthesis / VAE_DIR if (args.resynthesis / VAE_DIR).is_dir() else args.resynthesis
    vae = SigmaVAE.from_pretrained(vae_dir, args.device).eval()
    for setting, items in _lists(args).items():
        counts = resynthesize_items(vae, items, args.out / setting)
        print(f"setting {setting}: {len(items)} items, " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def synthesize(args: argparse.Namespace, group: Group) -> None:
    """Rank 0 builds the lists; then every rank loads the model and renders its share."""
    from tts.eval.synth import synthesize_lists
    from tts.load import load_tts

    lists = _lists(args) if group.main else None
    group.barrier()
    if lists is None:
        lists = _lists(args)  # the other ranks read what rank 0 wrote
    device = f"cuda:{group.local_rank}" if args.device == "cuda" and group.world > 1 else args.device
    tts = load_tts(args.ckpt, "torch", threads=group.threads(args.threads), device=device)
    synthesize_lists(
        tts, lists, args.out, args.guidance_scale, args.steps, args.seed,
        retries=args.retries, batch_size=args.batch_size, group=group,
    )  # fmt: skip


def _lists(args: argparse.Namespace) -> dict[str, list[TestItem]]:
    return load_or_build_lists(
        args.manifest, args.out, args.settings, args.min_seconds, args.max_seconds, args.prefix_seconds, args.limit
    )


if __name__ == "__main__":
    main()
