"""Intelligibility guard: the bundled model must stay as intelligible as when it shipped.

Three fixed sentences, two bundled example voices, fixed seeds, one thread: the synthesis is
deterministic, and Moonshine (offline, in the `eval` extra) transcribes it. A regression in the
text frontend, the engine, the sampler or the codec raises the WER above the shipped figure.
"""

from pathlib import Path

from tts.api import TTS
from tts.eval.asr import load_asr
from tts.eval.wer import wer

SENTENCES = [
    "The sun was shining on the sea.",
    "Please call me when you get home.",
    "We will meet at the station tomorrow morning.",
]
VOICES = ["demo/examples/voice1.wav", "demo/examples/voice2.wav"]
SHIPPED_WER = 25.0  # % of the bundled default model on exactly this test (see its model card)
MARGIN = 10.0  # percentage points: other CPUs may round differently, a real regression costs more


def test_bundled_model_is_still_as_intelligible_as_shipped(one_thread):
    root = Path(__file__).resolve().parent.parent
    tts, asr = TTS.from_pretrained("default"), load_asr("moonshine")
    refs, hyps = [], []
    for voice in VOICES:
        prompt = tts.load_voice(root / voice)
        for k, text in enumerate(SENTENCES):
            audio = tts.synthesize(text, voice=prompt, seed=k)
            refs.append(text)
            hyps.append(asr.transcribe(audio.samples, audio.sample_rate))
    measured = 100 * wer(refs, hyps)
    assert measured <= SHIPPED_WER + MARGIN, (measured, hyps)
