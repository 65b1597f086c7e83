"""Intelligibility of what a new user hears: the README's `say` path (bundled model, an example
voice, default settings) on five fixed 10-word sentences × each example voice × seeds 0-4,
transcribed by Moonshine (offline, the `eval` extra).

    python benchmarks/say_wer.py [--ckpt default] [--engine onnx|torch] [--seeds 5] [--threads 1]

Prints the WER per voice and over all clips, and the worst transcripts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = [  # ten words each, plain words a reader would not normalise
    "The old man walked slowly down the quiet country road.",
    "Please bring the blue folder to the meeting this afternoon.",
    "We watched the sun go down behind the tall hills.",
    "She found a small key under the mat by the door.",
    "The children laughed as the dog chased its own tail.",
]
VOICES = sorted((ROOT / "demo" / "examples").glob("voice*.wav"))


def main() -> None:
    from tts.eval.asr import load_asr
    from tts.eval.wer import wer
    from tts.load import load_tts

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", default="default")
    p.add_argument("--engine", choices=["onnx", "torch"], default=None)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    tts, asr = load_tts(args.ckpt, args.engine, threads=args.threads), load_asr("moonshine")
    rows = []
    for voice in VOICES:
        prompt = tts.load_voice(voice)
        for text in SENTENCES:
            for seed in range(args.seeds):
                audio = tts.synthesize(text, voice=prompt, seed=seed, retries=2)  # `say`'s defaults
                rows.append((voice.name, text, asr.transcribe(audio.samples, audio.sample_rate)))
    print(f"{type(tts).__name__} on {args.ckpt}: {len(rows)} clips")
    for name in sorted({v for v, _, _ in rows}):
        mine = [(t, h) for v, t, h in rows if v == name]
        print(f"  {name}: WER {100 * wer([t for t, _ in mine], [h for _, h in mine]):.1f} %")
    print(f"  all: WER {100 * wer([t for _, t, _ in rows], [h for _, _, h in rows]):.1f} %")
    worst = sorted(rows, key=lambda r: -wer([r[1]], [r[2]]))[:3]
    for voice, text, hyp in worst:
        print(f"  worst ({voice}): {text!r} -> {hyp!r}")


if __name__ == "__main__":
    main()
