"""The bundled default model: complete, inside the size budget, and the README's first command works."""

from pathlib import Path

import numpy as np
import soundfile as sf

from tts.api import PRETRAINED, TTS
from tts.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = PRETRAINED / "default"


def test_bundled_default_is_complete_and_within_the_size_budget():
    for name in ("config.json", "model.safetensors", "vae/config.json", "vae/model.safetensors", "README.md"):
        assert (DEFAULT / name).is_file(), name
    size = sum(p.stat().st_size for p in DEFAULT.rglob("*") if p.is_file())
    assert size <= 40e6, f"{size / 1e6:.1f} MB"
    assert "tts/pretrained/default/README.md" in (ROOT / "README.md").read_text()


def test_readme_say_command_with_the_bundled_model_and_example_voice(tmp_path):
    out = tmp_path / "hello.wav"
    assert main(["say", "Hello from LatentLM.", "--voice", str(ROOT / "demo/examples/voice1.wav"), "-o", str(out)]) == 0
    audio, sr = sf.read(out)
    assert sr == 24000 and 0.5 < len(audio) / sr < 10.0
    assert np.sqrt(np.mean(audio**2)) > 1e-3  # not silence


def test_from_pretrained_default_loads_float32_weights():
    tts = TTS.from_pretrained()
    assert tts.checkpoint_dir == DEFAULT
    assert all(p.dtype.is_floating_point and p.dtype.itemsize == 4 for p in tts.model.parameters())
