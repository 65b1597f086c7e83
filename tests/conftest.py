import os

import numpy as np
import pytest
import soundfile as sf
import torch

from tts.onnx.graph_cache import ENV as GRAPH_CACHE_ENV


def tone(seconds: float, sr: int, freq: float = 220.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def wav_file(tmp_path):
    """A 1 s, 16 kHz stereo tone with 0.3 s of silence on each side."""
    sr = 16000
    x = np.concatenate([np.zeros(int(0.3 * sr)), tone(1.0, sr), np.zeros(int(0.3 * sr))])
    path = tmp_path / "tone.wav"
    sf.write(path, np.stack([x, 0.5 * x], axis=1), sr)
    return path


@pytest.fixture(scope="session", autouse=True)
def graph_cache(tmp_path_factory):
    """ONNX graphs are cached (`tts.onnx.graph_cache`) in this session's own directory, never the
    user's; subprocesses inherit it."""
    root = tmp_path_factory.mktemp("graph_cache")
    os.environ[GRAPH_CACHE_ENV] = str(root)
    return root


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """The tiny synthetic corpus in LibriSpeech layout (recipes/synthetic/tiny.py), built once per session."""
    from recipes.synthetic.tiny import build_tiny_corpus

    return build_tiny_corpus(tmp_path_factory.mktemp("tiny_corpus") / "corpus", seed=0)


@pytest.fixture
def one_thread():
    """torch on one thread for the test (deterministic sums, and training tests measure like CI)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
