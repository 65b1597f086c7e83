"""Intelligibility guard: the bundled model must stay as intelligible as when it shipped.

Three fixed sentences, two bundled example voices, fixed seeds, one thread, on both engines
(ONNX Runtime, the default, and PyTorch): the synthesis is deterministic, and Moonshine
(offline, in the `eval` extra) transcribes it. A regression in the text frontend, an engine,
the export, the sampler or the codec raises the WER above the shipped figure.
"""

from pathlib import Path

import pytest

from tts.eval.asr import load_asr
from tts.eval.wer import wer
from tts.load import load_tts

SENTENCES = [
    "The sun was shining on the sea.",
    "Please call me when you get home.",
    "We will meet at the station tomorrow morning.",
]
VOICES = ["demo/examples/voice1.wav", "demo/examples/voice2.wav"]
SHIPPED_WER = {"torch": 4.5, "onnx": 0.0}  # % of the bundled default model on exactly this test (its model card)
MARGIN = 10.0  # percentage points: other CPUs may round differently, a real regression costs more


@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_bundled_model_is_still_as_intelligible_as_shipped(one_thread, engine):
    root = Path(__file__).resolve().parent.parent
    tts, asr = load_tts("default", engine, threads=1), load_asr("moonshine")
    refs, hyps = [], []
    for voice in VOICES:
        prompt = tts.load_voice(root / voice)
        for k, text in enumerate(SENTENCES):
            audio = tts.synthesize(text, voice=prompt, seed=k)
            refs.append(text)
            hyps.append(asr.transcribe(audio.samples, audio.sample_rate))
    measured = 100 * wer(refs, hyps)
    assert measured <= SHIPPED_WER[engine] + MARGIN, (measured, hyps)
