"""Train the LatentLM for a fixed wall-clock budget, such as the minutes of a lent GPU.

    python -m recipes.synthetic.sprint --data DIR --init tts/pretrained/default --out OUT --minutes 7

It times a few steps first (in a scratch directory), then runs one warmup-and-cosine schedule sized
to end inside the budget, from --init's weights, so the last save is the annealed one. The chosen
schedule is kept in OUT/sprint.json: the same command again resumes it instead of timing anew.
On a GPU those first steps are slow (memory pools and kernels still warming up: 114-193 ms a step
on an H200 at batch 128, against 57-73 ms in the run that followed), so a schedule sized from them
ends early; `--seconds-per-step` skips the timing with a figure measured before (each record of
OUT/losses.jsonl carries the seconds since the run started).
Every other setting is `python -m tts.train`'s (see its --help).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from latentlm_common.errors import one_line_errors
from tts.train import TrainConfig, train

SCHEDULE = "sprint.json"


def timed_steps(tc: TrainConfig, warm: int, timed: int) -> float:
    """Seconds per step of `tc` on this machine, over `timed` steps after `warm` start-up steps."""
    with tempfile.TemporaryDirectory() as scratch:
        probe = replace(tc, out=scratch, steps=10**9, stop_at=warm + timed, save_every=10**9, tensorboard=False,
                        progress=False)  # fmt: skip
        history = train(probe)
    return (history[-1]["seconds"] - history[warm - 1]["seconds"]) / timed


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="latent dataset directory (tts/data.py format)")
    p.add_argument("--out", required=True, type=Path, help="checkpoint directory")
    p.add_argument("--init", default=None, metavar="CKPT", help="start from this checkpoint's weights")
    p.add_argument(
        "--data-latent-stats",
        action="store_true",
        help="with --init: normalise the latents by the data's own scale and bias, not --init's "
        "(latents of another σ-VAE than the one --init was trained on)",
    )
    p.add_argument("--minutes", type=float, required=True, help="wall-clock budget of the whole command")
    p.add_argument("--preset", default="small")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--workers", type=int, default=8, help="DataLoader processes building batches")
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--seconds-per-step", type=float, default=None, help="size the schedule from this instead of timing")
    args = p.parse_args(argv)
    if args.minutes <= 0:
        p.error("--minutes must be more than 0")
    if args.seconds_per_step is not None and args.seconds_per_step <= 0:
        p.error("--seconds-per-step must be more than 0")
    with one_line_errors("python -m recipes.synthetic.sprint"):
        sprint(args)


def sprint(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    tc = TrainConfig(
        data=args.data,
        out=str(args.out),
        preset=args.preset,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup=args.warmup,
        workers=args.workers,
        save_every=args.save_every,
        init=args.init,
        data_latent_stats=args.data_latent_stats,
    )
    schedule = args.out / SCHEDULE
    if schedule.is_file():
        steps = json.loads(schedule.read_text())["steps"]
    else:
        per_step = args.seconds_per_step or timed_steps(tc, warm=100, timed=100)
        left = args.minutes * 60 - (time.perf_counter() - start)
        steps = max(args.warmup + 1, int(0.9 * left / per_step))  # 10 % for saves and start-up
        args.out.mkdir(parents=True, exist_ok=True)
        schedule.write_text(json.dumps({"steps": steps, "seconds_per_step": per_step}) + "\n")
        print(f"{per_step * 1e3:.1f} ms a step: {steps} steps in the {left / 60:.1f} minutes left", flush=True)
    history = train(replace(tc, steps=steps))
    with (args.out / "losses.jsonl").open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in history)
    print(f"done: {steps} steps in {(time.perf_counter() - start) / 60:.1f} minutes", flush=True)


if __name__ == "__main__":
    main()
