"""Stage 3 of the LibriSpeech recipe: build the zero-shot test lists (tts/eval/protocol.py) from the
test manifest and synthesise them.

    python recipes/librispeech/synthesize.py --ckpt exp/librispeech/lm \
        --manifest data/librispeech/manifests/cuts_test-clean.jsonl.gz --out exp/librispeech/lm/eval

Writes OUT/<setting>.jsonl (the test list; OUT/<setting>.limitN.jsonl with --limit N, which only
force-aligns the setting B utterances it keeps), then synthesises it with the batch job
(`latentlm-tts batch`, tts/batch/): OUT/<setting>.batch.jsonl is its manifest (prompt stretches
that are not whole files are cut to OUT/prompts/<setting>/), and OUT/<setting>/<utterance id>.wav
its output, with OUT/<setting>/manifest.jsonl. Finished batches are kept, so a rerun resumes;
under torchrun the batches are shared among the processes:

    torchrun --standalone --nproc-per-node 4 recipes/librispeech/synthesize.py --ckpt ... --device cuda

`--resynthesis VAE` writes the σ-VAE's reconstruction of each target instead: scored like a
system, it is the codec's ceiling.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import soundfile as sf

from latentlm_common.audio import save_audio
from latentlm_common.jobs import Group, join_group, leave_group
from tts.batch.manifest import item_seed
from tts.cli.options import add_retries_option, add_threads_option
from tts.eval.protocol import Clip, TestItem, load_or_build_lists


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
    p.add_argument("--batch-size", type=int, default=8, help="items synthesised together")
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
    """Rank 0 builds the lists and their batch manifests; then every rank renders its share."""
    from tts.batch.render import Job, run_job
    from tts.load import load_tts

    if group.main:
        for setting, items in _lists(args).items():
            write_batch_manifest(items, args.out, setting, args.seed)
    group.barrier()
    device = f"cuda:{group.local_rank}" if args.device == "cuda" and group.world > 1 else args.device
    tts = load_tts(args.ckpt, "torch", threads=group.threads(args.threads), device=device)
    guidance_scale, steps = tts.resolve_settings(args.guidance_scale, args.steps)
    for setting in args.settings:
        job = Job(args.out / setting, batch_size=args.batch_size, retries=args.retries)
        s = run_job(tts, args.out / f"{setting}.batch.jsonl", job, group, guidance_scale, steps)
        if s is not None:
            print(f"setting {setting}: {s.items} items, written {s.items - s.refused}, failed {s.refused}, "
                  f"flagged {s.flagged}")  # fmt: skip


def _lists(args: argparse.Namespace) -> dict[str, list[TestItem]]:
    return load_or_build_lists(
        args.manifest, args.out, args.settings, args.min_seconds, args.max_seconds, args.prefix_seconds, args.limit
    )


def write_batch_manifest(items: list[TestItem], out: Path, setting: str, seed: int) -> Path:
    """OUT/<setting>.batch.jsonl: each test item as a batch item (its seed from its id and `seed`)."""
    rows = [
        {"id": i.id, "text": i.text, "voice": prompt_file(i.prompt, out / "prompts" / setting / f"{i.id}.flac"),
         "voice_text": i.prompt_text, "seed": (item_seed(i.id) + seed) % 2**31}
        for i in items
    ]  # fmt: skip
    path = out / f"{setting}.batch.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def prompt_file(clip: Clip, cut: Path) -> str:
    """The clip's own file when it is the whole file, else the stretch written to `cut` (once)."""
    whole = clip.start == 0 and (clip.end is None or abs(clip.end - sf.info(clip.path).duration) < 1e-3)
    if whole:
        return str(Path(clip.path).resolve())
    if not cut.is_file():
        save_audio(cut, clip.load(sf.info(clip.path).samplerate), sf.info(clip.path).samplerate)
    return str(cut.resolve())


if __name__ == "__main__":
    main()
