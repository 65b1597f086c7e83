"""The recorded human speech that installed packages ship (tts.eval.human), used only to evaluate."""

import numpy as np

from latentlm_common.audio import load_audio
from tts.eval.human import HUMAN_SPEECH, human_speech


def test_human_speech_finds_the_clips_gradio_ships_and_they_hold_speech():
    clips = human_speech()  # gradio comes with the demo extra, which the test extra installs
    assert [name for name, _ in clips] == [f"{package}:{file.rsplit('/', 1)[1][:-4]}" for package, file in HUMAN_SPEECH]
    for _, path in clips:
        x = load_audio(path, 16000)
        assert len(x) > 16000 * 2 and np.sqrt(np.mean(x**2)) > 0.01  # seconds of audible sound
