"""Speed levers of LatentLM training on this machine: bf16 autocast and batch size, side by side.

    python benchmarks/train_levers.py --data data/campaign/latents/train [--init tts/pretrained/default]
                                      [--batch-sizes 16] [--steps 30] [--rounds 2] [--threads 1]

Each setting (float32 or bf16 autocast, × each batch size) trains `--steps` steps of `tts.train`
from `--init`'s weights (same seed, data order and schedule), `--rounds` times in turn, so every
setting sees the same machine load; a round resumes the setting's own run. Prints per setting the
median seconds per step, utterances per second, and the mean loss of its last round's steps (at
equal steps the settings should agree; bf16 that trains worse shows there). The first step of each
round (data loading, warm-up) is left out of the timing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from tts.train import TrainConfig, train


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="latent dataset directory (tts/data.py format)")
    p.add_argument("--init", default="tts/pretrained/default", help="weights to start from (default: the bundled)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[16])
    p.add_argument("--steps", type=int, default=30, help="steps per setting and round")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--lr", type=float, default=3e-4)
    args = p.parse_args()
    settings = [(bf16, size) for size in args.batch_sizes for bf16 in (False, True)]
    times = {s: [] for s in settings}
    losses = {s: [] for s in settings}
    total = args.steps * args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(1, args.rounds + 1):
            for bf16, size in settings:
                tc = TrainConfig(
                    data=args.data,
                    out=str(Path(tmp) / f"bf16-{bf16}-b{size}"),
                    steps=total,
                    stop_at=r * args.steps,
                    batch_size=size,
                    lr=args.lr,
                    warmup=0,
                    save_every=total,
                    bf16=bf16,
                    threads=args.threads,
                    tensorboard=False,
                    progress=False,
                    init=args.init,
                )
                history = train(tc)
                seconds = [b["seconds"] - a["seconds"] for a, b in zip(history, history[1:])]
                times[(bf16, size)] += seconds
                losses[(bf16, size)] = [h["total"] for h in history]
    print(f"LatentLM training, {args.threads} thread(s), {total} steps per setting in {args.rounds} rounds:")
    for bf16, size in settings:
        step = statistics.median(times[(bf16, size)])
        loss = statistics.fmean(losses[(bf16, size)])
        print(f"  {'bf16   ' if bf16 else 'float32'} batch {size:3d}: {step:.2f} s/step, "
              f"{size / step:.1f} utterances/s, last round's mean loss {loss:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
