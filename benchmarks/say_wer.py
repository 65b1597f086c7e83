"""Intelligibility of what a new user hears: the README's `say` path (bundled model, an example
voice, default settings) on five fixed 10-word sentences × each example voice × seeds 0-4,
transcribed by Moonshine (offline, the `eval` extra).

    python benchmarks/say_wer.py [--ckpt default] [--engine onnx|torch] [--seeds 5] [--threads 1]
                                 [--voices examples|human] [--guidance-scale G] [--steps S] [--retries N]
                                 [--speed F]

`--voices human` prompts with the recorded human speech that installed packages ship
(`tts.eval.human`) instead of the example voices. Prints the WER and the speaker similarity to the
prompt (Resemblyzer) per voice and over all clips, and the worst transcripts.
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
    from tts.eval.human import human_speech
    from tts.eval.similarity import cosine, load_speaker_encoder
    from tts.eval.wer import wer
    from tts.eval.worker import open_asr
    from tts.load import load_tts

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", default="default")
    p.add_argument("--engine", choices=["onnx", "torch"], default=None)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--voices", choices=["examples", "human"], default="examples")
    p.add_argument("--guidance-scale", type=float, help="default: the API's")
    p.add_argument("--steps", type=int, help="diffusion steps (default: the API's)")
    p.add_argument("--retries", type=int, default=2, help="re-samplings of a flagged chunk (default 2, as `say`)")
    p.add_argument("--speed", type=float, default=1.0, help="speaking-rate factor (default 1, as `say`)")
    args = p.parse_args()
    voices = [(v.name, v) for v in VOICES] if args.voices == "examples" else human_speech()
    if not voices:
        raise SystemExit("no recorded human speech is installed (it comes with gradio: pip install '.[demo]')")
    tts, asr = load_tts(args.ckpt, args.engine, threads=args.threads), open_asr("moonshine")
    speaker = load_speaker_encoder("resemblyzer")
    rows = []
    for name, voice in voices:
        prompt = tts.load_voice(voice)
        target = speaker.embed(*_audio(voice))
        for text in SENTENCES:
            for seed in range(args.seeds):
                audio = tts.synthesize(  # `say`'s defaults
                    text,
                    voice=prompt,
                    seed=seed,
                    retries=args.retries,
                    guidance_scale=args.guidance_scale,
                    steps=args.steps,
                    speed=args.speed,
                )
                sim = cosine(target, speaker.embed(audio.samples, audio.sample_rate))
                rows.append((name, text, asr.transcribe(audio.samples, audio.sample_rate), sim))
    print(f"{type(tts).__name__} on {args.ckpt}: {len(rows)} clips")
    for name, _ in voices:
        mine = [r for r in rows if r[0] == name]
        print(f"  {name}: {_summary(mine, wer)}")
    print(f"  all: {_summary(rows, wer)}")
    worst = sorted(rows, key=lambda r: -wer([r[1]], [r[2]]))[:3]
    for voice, text, hyp, _ in worst:
        print(f"  worst ({voice}): {text!r} -> {hyp!r}")


def _audio(path: Path):
    """(samples, sample rate) of a prompt file."""
    from latentlm_common.audio import load_audio

    return load_audio(path, 16000), 16000


def _summary(rows: list, wer) -> str:
    error = 100 * wer([r[1] for r in rows], [r[2] for r in rows])
    return f"WER {error:.1f} %, SIM {sum(r[3] for r in rows) / len(rows):.3f}"


if __name__ == "__main__":
    main()
