"""`latentlm-tts batch MANIFEST --out-dir DIR`: synthesise every item of a JSON Lines manifest,
one file each, alone or sharded over the processes of torchrun.

MANIFEST has one item per line: {"id", "text", "voice"} and optionally "voice_text", "seed",
"guidance_scale" and "steps" ("voice": a prompt audio file, relative to MANIFEST's folder).
Item ID becomes DIR/ID.wav (or .flac); DIR/manifest.jsonl lists every line's file, duration and
flags, or why it was skipped. Bad lines are reported with their number and skipped; the job
goes on. An item's seed defaults to a hash of its id, so the files are the same byte for byte
with any number of processes. Rerun the same command after a crash: finished batches are kept.

    latentlm-tts batch items.jsonl --out-dir out/
    torchrun --standalone --nproc-per-node 4 -m tts.cli.main batch items.jsonl --out-dir out/
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from tts.cli.options import (
        add_batch_size_option,
        add_model_options,
        add_retries_option,
        add_synthesis_options,
        add_threads_option,
    )

    p = subparsers.add_parser(
        "batch",
        help="synthesise a JSON Lines manifest of items, one file each (torchrun-sharded, resumable)",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("manifest", metavar="MANIFEST", help="JSON Lines: one {id, text, voice, ...} object per line")
    p.add_argument("--out-dir", required=True, help="output directory (audio files, manifest.jsonl)")
    p.add_argument("--format", choices=["wav", "flac"], default="wav", help="audio format (default wav)")
    add_batch_size_option(p)
    add_synthesis_options(p)
    add_retries_option(p)
    add_threads_option(p)
    add_model_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentlm_common.errors import InputError
    from latentlm_common.jobs import join_group, leave_group
    from tts.batch.render import OUTPUT_MANIFEST, Job, run_job
    from tts.cli.options import load_model
    from tts.synthesis import check_retries, check_settings, check_speed

    manifest, out_dir = Path(args.manifest), Path(args.out_dir)
    if not manifest.is_file():
        raise InputError(f"{manifest}: no such manifest file.")
    if (out_dir / OUTPUT_MANIFEST).resolve() == manifest.resolve():
        raise InputError(f"{manifest}: the output manifest would overwrite it; choose another --out-dir.")
    check_retries(args.retries)
    check_settings(args.guidance_scale, args.steps)  # before the model loads
    check_speed(args.speed)
    group = join_group()
    try:
        device = "cpu" if args.onnx or args.engine == "onnx" else _device(group)  # the torch engine's
        tts = load_model(args, threads=group.threads(args.threads), device=device)
        job = Job(out_dir, args.format, args.batch_size, args.retries, args.speed, not args.no_progress)
        s = run_job(tts, manifest, job, group, args.guidance_scale, args.steps)
    finally:
        leave_group(group)
    if s is not None:
        print(
            f"wrote {s.items - s.refused} files ({s.audio_seconds / 60:.1f} min of audio, {s.flagged} flagged) "
            f"and {out_dir / OUTPUT_MANIFEST}; {s.bad_lines} bad lines and {s.refused} refused items skipped"
        )
    return 0


def _device(group) -> str:
    """The torch engine's device: cuda:LOCAL_RANK where CUDA is, else the CPU."""
    try:
        import torch
    except ImportError:
        return "cpu"
    return f"cuda:{group.local_rank}" if torch.cuda.is_available() else "cpu"
