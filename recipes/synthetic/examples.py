"""Write the example voice prompts shipped in demo/examples/ (used by the README, the demo and `say`).

    python -m recipes.synthetic.examples [--out demo/examples] [--seed 0]

Every example speaker comes from a base voice that the corpus holds out whole for `test-unseen`
(flite rms, mbrola us3), so no model trained on the corpus has heard them. Each clip is one
sentence, trimmed and levelled like the corpus, written as 16-bit 24 kHz WAV.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from latentlm_common.audio import save_audio
from recipes.synthetic.build import make_utterance
from recipes.synthetic.engines import CATALOG, missing_requirement
from recipes.synthetic.speakers import Speaker, sample_warps
from vae_audio.config import AudioConfig

# (base voice key, pseudo-speaker k, sentence): held-out voices only
EXAMPLES = [
    ("flite:rms", 0, "The morning train left the station a few minutes before the rain began."),
    ("mbrola:us3", 0, "She opened the window and listened to the birds in the garden."),
    ("flite:rms", 1, "Our neighbours planted a row of apple trees along the old stone wall."),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "demo" / "examples"))
    p.add_argument("--seed", type=int, default=0, help="the corpus seed whose pseudo-speaker warps are used")
    args = p.parse_args(argv)
    audio = AudioConfig()
    voices = {v.key: v for v in CATALOG}
    for i, (key, k, text) in enumerate(EXAMPLES, 1):
        base = voices[key]
        if (problem := missing_requirement(base)) is not None:
            raise SystemExit(f"examples: {key} is not usable here: {problem}")
        speaker = Speaker(
            id=base.code * 100 + k, base=base, k=k, warp=sample_warps(args.seed, base.code, k + 1)[k], unseen=True
        )
        x = make_utterance(speaker, text, audio.sample_rate, audio.target_dbfs)
        path = save_audio(Path(args.out) / f"voice{i}.wav", x, audio.sample_rate)
        print(f"{path}: speaker {speaker.id} ({key}, k={k}), {len(x) / audio.sample_rate:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
