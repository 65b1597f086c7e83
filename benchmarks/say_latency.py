"""What a user waits for: `latentlm-tts say` from the shell, the first streamed chunk, and the
real-time factor of the whole path (text -> waveform, σ-VAE decoder included), per engine.

    python benchmarks/say_latency.py [--repeats 5] [--threads 1] [--retries 2]
                                     [--engines onnx onnx-uncached onnx-1thread torch]
                                     [--ckpt DIR]

1. `say` wall time and peak memory: a 10-word sentence with a 3 s voice prompt, a fresh process
   per run (imports, model load, prompt encoding, synthesis, writing the file), the engines
   alternating run by run so both see the same machine load; min and median. One untimed run of
   each comes first (it builds the graph cache, as a model's first `say` on a machine does);
   "onnx-uncached" runs ONNX Runtime without that cache, "onnx-1thread" is `say --threads 1`. Each
   other engine uses its own thread count, as `say` does; `--retries` is say's (default 2: a chunk
   the alignment flags is sampled again).
2. The first `stream()` chunk after the model and the voice are loaded (and one warm-up stream):
   min and median.
3. End-to-end RTF at batch 1 and batch 8 (`synthesize_batch`), one thread by default.
Everything uses the bundled model (or --ckpt), seed 0 and the default settings; the in-process
figures take no retries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tts.onnx.graph_cache import ENV as GRAPH_CACHE_ENV

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "The quick brown fox jumps over the lazy dog by the river."  # 10 words
SENTENCES = [
    SENTENCE,
    "She sells sea shells on the sea shore every summer.",
    "A journey of a thousand miles begins with a single step.",
    "The early bird catches the worm, but the second mouse gets the cheese.",
    "All that glitters is not gold, and not all who wander are lost.",
    "Rain fell on the old town all night long.",
    "He opened the door and looked out at the garden.",
    "Numbers like twenty one and forty two are easy to say.",
]


def prompt_3s(tmp: Path) -> Path:
    """The first 3 s of a bundled example voice."""
    import soundfile as sf

    samples, sr = sf.read(ROOT / "demo/examples/voice1.wav", dtype="float32")
    path = tmp / "prompt3s.wav"
    sf.write(path, samples[: 3 * sr], sr)
    return path


def run_say(engine: str, prompt: Path, out: Path, retries: int, ckpt: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one `latentlm-tts say` process, with the engine's own
    thread count as a user gets it; engine "onnx-uncached" is ONNX Runtime without the graph cache
    (`tts.onnx.graph_cache`), "onnx-1thread" ONNX Runtime on one thread."""
    env, cmd = dict(os.environ), [sys.executable, "-m", "tts.cli.main", "say", SENTENCE, "--voice", str(prompt)]
    if engine == "onnx-uncached":
        engine, env[GRAPH_CACHE_ENV] = "onnx", "off"
    if engine == "onnx-1thread":
        engine, cmd = "onnx", [*cmd, "--threads", "1"]
    cmd += ["-o", str(out)]
    cmd += ["--engine", engine, "--seed", "0", "--retries", str(retries), "--ckpt", ckpt]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"say --engine {engine} failed: {proc.stderr.read().decode()[-500:]}")
    return wall, usage.ru_maxrss / 1024


def say_table(engines: list[str], repeats: int, retries: int, tmp: Path, ckpt: str) -> None:
    prompt = prompt_3s(tmp)
    runs = {e: [] for e in engines}
    for e in engines:  # a first run builds the graph cache, as the first `say` after installing does
        run_say(e, prompt, tmp / f"{e}.wav", retries, ckpt)
    for _ in range(repeats):
        for e in engines:
            runs[e].append(run_say(e, prompt, tmp / f"{e}.wav", retries, ckpt))
    print(f"say, 10 words, 3 s prompt, --retries {retries}, the engines' own threads,")
    print(f"{repeats} runs each (alternating):")
    for e, r in runs.items():
        walls, peaks = [w for w, _ in r], [m for _, m in r]
        print(f"  {e:13s}  wall min {min(walls):.2f} s, median {statistics.median(walls):.2f} s; "
              f"peak RSS median {statistics.median(peaks):.0f} MiB")  # fmt: skip


def in_process(engines: list[str], repeats: int, threads: int, tmp: Path, ckpt: str) -> None:
    from tts.load import load_tts

    prompt = prompt_3s(tmp)
    for engine in engines:
        tts = load_tts(ckpt, engine, threads=threads)
        voice = tts.load_voice(prompt)
        next(tts.stream(SENTENCE, voice=voice, seed=0))  # warm-up: every graph loaded and run once
        firsts = []
        for i in range(repeats):
            start = time.perf_counter()
            stream = tts.stream(SENTENCE, voice=voice, seed=i)
            next(stream)
            firsts.append(time.perf_counter() - start)
            stream.close()
        print(f"  {engine:5s}  first stream() chunk: min {1000 * min(firsts):.0f} ms, "
              f"median {1000 * statistics.median(firsts):.0f} ms")  # fmt: skip
        for size in (1, 8):
            texts = (SENTENCES * 8)[:size]
            start = time.perf_counter()
            audios = tts.synthesize_batch(texts, voice=voice, seeds=list(range(size)))
            wall = time.perf_counter() - start
            seconds = sum(len(a.samples) for a in audios) / tts.sample_rate
            print(f"  {engine:5s}  batch {size}: {seconds:.1f} s of audio in {wall:.2f} s, RTF {wall / seconds:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="threads of the in-process figures (say uses its own)")
    p.add_argument("--retries", type=int, default=2, help="say --retries (default 2, say's own)")
    p.add_argument(
        "--engines", nargs="+", default=["onnx", "torch"], choices=["onnx", "onnx-uncached", "onnx-1thread", "torch"]
    )
    p.add_argument("--ckpt", default="default", help="model directory or bundled name (default: the bundled model)")
    args = p.parse_args()
    args.ckpt = args.ckpt if args.ckpt == "default" else str(Path(args.ckpt).resolve())
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        say_table(args.engines, args.repeats, args.retries, Path(tmp), args.ckpt)
        print(f"in one process, {args.threads} thread(s), after the model and the voice are loaded:")
        in_process(
            [e for e in args.engines if not e.startswith("onnx-")], args.repeats, args.threads, Path(tmp), args.ckpt
        )


if __name__ == "__main__":
    main()
