"""Per-voice intelligibility: Moonshine WER of every usable catalog voice on the same sentences.

    python -m recipes.synthetic.voice_wer [--sentences 10] [--engines espeak,mbrola,flite,festival]
                                          [--out recipes/synthetic/voice_wer.tsv]

Each base voice (unwarped, k = 0) speaks the same `--sentences` sentences of the bundled text
(written for this project in plain words, so that misses are the voice's and not the ASR's on rare
words), through the builder's own path (resample, trim, level) and QC transcriber. Prints a
Markdown table and writes it as TSV to `--out`, where the data card (`card.py`) and the corpus mixes
(`engines.MIXES`) read it. A voice already in `--out` is not measured again, so a stopped run resumes.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from pathlib import Path

import numpy as np

from recipes.synthetic.engines import CATALOG, ENGINES, BaseVoice, resolve_voices

VOICE_WER_TSV = Path(__file__).with_name("voice_wer.tsv")
FIELDS = ["code", "voice", "sex", "use", "sentences", "mean_wer", "over_0.35", "seconds"]


def read_voice_wer(path: Path = VOICE_WER_TSV) -> dict[str, dict]:
    """voice key -> its measured row, or {} when nothing was measured."""
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {row["voice"]: row for row in csv.DictReader(f, delimiter="\t")}


def wer_sentences(n: int, seed: int = 0) -> list[str]:
    """The same n normalised bundled sentences for every voice."""
    from recipes.synthetic.text import load_sentences

    sentences, _ = load_sentences(("bundled",))
    return [sentences[i] for i in np.random.default_rng(seed).permutation(len(sentences))[:n]]


def measure_voice(voice: BaseVoice, sentences: list[str]) -> dict:
    """Speak every sentence with `voice` (no warp) and score it with the QC transcriber."""
    from recipes.synthetic.build import make_utterance
    from recipes.synthetic.qc import transcriber, word_error_rate
    from recipes.synthetic.speakers import Speaker
    from recipes.synthetic.text import librispeech_transcript
    from recipes.synthetic.warp import Warp
    from vae_audio.config import AudioConfig

    audio, speaker = AudioConfig(), Speaker(voice.code * 100, voice, 0, Warp(), False)
    wers, seconds = [], []
    for text in sentences:
        x = make_utterance(speaker, text, audio.sample_rate, audio.target_dbfs)
        wers.append(word_error_rate(librispeech_transcript(text), transcriber()(x, audio.sample_rate)))
        seconds.append(len(x) / audio.sample_rate)
    return {
        "code": voice.code,
        "voice": voice.key,
        "sex": voice.sex,
        "use": voice.licence.use,
        "sentences": len(sentences),
        "mean_wer": round(float(np.mean(wers)), 4),
        "over_0.35": int(sum(w > 0.35 for w in wers)),
        "seconds": round(float(np.mean(seconds)), 2),
    }


def markdown(rows: list[dict]) -> str:
    lines = ["| code | voice | sex | use | sentences | mean WER | WER > 0.35 | mean s |", "|" + "---|" * 8]
    for r in sorted(rows, key=lambda r: int(r["code"])):
        lines.append(
            f"| {r['code']} | {r['voice']} | {r['sex']} | {r['use']} | {r['sentences']} | "
            f"{100 * float(r['mean_wer']):.1f}% | {r['over_0.35']} | {r['seconds']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    p = argparse.ArgumentParser(prog="python -m recipes.synthetic.voice_wer", description=__doc__.split("\n")[0])
    p.add_argument("--sentences", type=int, default=10, help="sentences per voice (the same for every voice)")
    p.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of " + ",".join(ENGINES))
    p.add_argument("--out", type=Path, default=VOICE_WER_TSV, help="TSV of the measured rows (resumed if present)")
    a = p.parse_args(argv)
    if a.sentences < 1:
        p.error("--sentences must be at least 1")
    done = read_voice_wer(a.out)
    voices, _ = resolve_voices([e.strip() for e in a.engines.split(",") if e.strip()], CATALOG)
    sentences = wer_sentences(a.sentences)
    rows = list(done.values())
    for voice in (v for v in voices if v.key not in done):
        rows.append(measure_voice(voice, sentences))
        logging.info(f"{voice.key}: WER {100 * rows[-1]['mean_wer']:.1f}%")
        with open(a.out, "w", newline="") as f:  # rewritten whole after every voice: a stop loses one voice
            writer = csv.DictWriter(f, fieldnames=FIELDS, delimiter="\t")
            writer.writeheader()
            writer.writerows(sorted(rows, key=lambda r: int(r["code"])))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
