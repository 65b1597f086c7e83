"""How much choosing among takes can gain on `say`: several takes of each clip of say_wer.py's set
(five 10-word sentences × each example voice × seeds 0-4), each transcribed by Moonshine.

    python benchmarks/take_selection.py [--takes 4] [--ckpt default] [--engine onnx|torch] [--threads 1]

Take a of a clip is what `say --retries` samples as its attempt a (the same seeds). Prints the WER
and SIM (Resemblyzer) over all clips when the first take is kept (`--retries 0`), when `say`'s rule
keeps the earliest take with the fewest problems among the first N + 1 (`--retries N`), and when
the take Moonshine transcribes best is kept: the bound that no reranker without this ASR reaches.
"""

from __future__ import annotations

import argparse

from say_wer import SENTENCES, VOICES, _audio


def main() -> None:
    from tts.eval.similarity import cosine, load_speaker_encoder
    from tts.eval.wer import wer
    from tts.eval.worker import open_asr
    from tts.load import load_tts
    from tts.synthesis import RETRY_SEED_STRIDE

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--takes", type=int, default=4, help="takes per clip (default 4)")
    p.add_argument("--ckpt", default="default")
    p.add_argument("--engine", choices=["onnx", "torch"], default=None)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    tts, asr = load_tts(args.ckpt, args.engine, threads=args.threads), open_asr("moonshine")
    speaker = load_speaker_encoder("resemblyzer")
    clips = []  # per clip: (text, [(problems, wer, transcript, sim) per take])
    for voice in VOICES:
        prompt, target = tts.load_voice(voice), speaker.embed(*_audio(voice))
        for text in SENTENCES:
            for seed in range(5):
                seeds = [seed + a * RETRY_SEED_STRIDE for a in range(args.takes)]  # attempt a's noise
                takes = []
                for audio in tts.synthesize_batch([text] * args.takes, voice=prompt, seeds=seeds):
                    hyp = asr.transcribe(audio.samples, audio.sample_rate)
                    sim = cosine(target, speaker.embed(audio.samples, audio.sample_rate))
                    takes.append((len(audio.problems), wer([text], [hyp]), hyp, sim))
                clips.append((text, takes))
        print(f"  {voice.name} done", flush=True)

    def row(name: str, pick) -> None:
        kept = [(text, pick(takes)) for text, takes in clips]
        error = 100 * wer([t for t, _ in kept], [k[2] for _, k in kept])
        print(f"  {name:40s} WER {error:5.1f} %  SIM {sum(k[3] for _, k in kept) / len(kept):.3f}")

    print(f"{type(tts).__name__} on {args.ckpt}: {len(clips)} clips, {args.takes} takes each")
    row("first take (--retries 0)", lambda takes: takes[0])
    for n in range(1, args.takes):
        row(f"say's rule (--retries {n})", lambda takes, n=n: min(takes[: n + 1], key=lambda t: t[0]))
    for n in range(2, args.takes + 1):
        row(f"best of {n} by Moonshine (the bound)", lambda takes, n=n: min(takes[:n], key=lambda t: t[1]))


if __name__ == "__main__":
    main()
