"""Batch synthesis, one process with T threads against T processes with one thread each (torchrun, gloo).

    python benchmarks/batch_scaling.py [--ckpt default] [--items 16] [--processes 2] [--batch-size 4]

Writes a manifest of short sentences from the synthetic corpus, spoken in the demo's three
example voices, and runs the real command both ways, side by side on the same machine:

    latentlm-tts batch M --out-dir A --threads P
    torchrun --standalone --nproc-per-node P -m tts.cli.main batch M --out-dir B --threads 1

It prints the wall time of each command (process start, model load and synthesis), items and
audio seconds per wall second, and whether the two wrote the same bytes (they need not: a
different thread count may change float sums; the same --threads always gives the same files).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT / "recipes" / "synthetic" / "sentences.txt"
VOICES = sorted((ROOT / "demo" / "examples").glob("voice*.wav"))


def write_manifest(path: Path, items: int) -> Path:
    sentences = [s.strip() for s in SENTENCES.read_text().splitlines() if 20 <= len(s.strip()) <= 60]
    rows = [{"id": f"item-{i:03d}", "text": sentences[i % len(sentences)], "voice": str(VOICES[i % len(VOICES)])}
            for i in range(items)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def timed(cmd: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def audio_seconds(out: Path) -> float:
    return sum(json.loads(x)["duration"] for x in (out / "manifest.jsonl").read_text().splitlines())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", default="default")
    p.add_argument("--items", type=int, default=16)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        manifest = write_manifest(tmp / "items.jsonl", args.items)
        common = [manifest, "--ckpt", args.ckpt, "--batch-size", args.batch_size, "--steps", args.steps,
                  "--retries", "0", "--no-progress"]  # fmt: skip
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", args.processes]
        runs = {  # name: (launcher, output directory, threads per process)
            f"1 process x {args.processes} threads": ([sys.executable], "one", args.processes),
            f"{args.processes} processes x 1 thread": (torchrun, "many", 1),
        }
        print(f"{args.items} items, batch size {args.batch_size}, {args.steps} steps, model {args.ckpt}")
        for name, (launcher, out, threads) in runs.items():
            cmd = launcher + ["-m", "tts.cli.main", "batch"] + common + ["--out-dir", tmp / out, "--threads", threads]
            wall = timed([str(x) for x in cmd])
            seconds = audio_seconds(tmp / out)
            print(f"{name:28s} wall {wall:7.1f} s   {args.items / wall:.3f} items/s   "
                  f"{seconds / wall:.3f} audio s per wall s ({seconds:.1f} s of audio)")  # fmt: skip
        same = all((tmp / "one" / f.name).read_bytes() == f.read_bytes() for f in (tmp / "many").glob("*.wav"))
        print(f"same bytes from both: {same}")


if __name__ == "__main__":
    main()
