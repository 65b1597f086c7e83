"""Codec metrics: each gives its best value for a signal against itself and a far worse one against noise."""

import numpy as np
import pytest
from test_vae_model import SR, speechlike

from vae_audio.config import AudioConfig
from vae_audio.metrics import CodecMetrics, MelDistance, compression_ratio, pesq_wb, stoi


@pytest.fixture(scope="module")
def signals():
    x = speechlike(3.0)
    noise = 0.1 * np.random.default_rng(0).standard_normal(len(x)).astype(np.float32)
    return x, noise


def test_pesq_is_maximal_against_itself_and_low_against_noise(signals):
    x, noise = signals
    assert pesq_wb(x, x, SR) == pytest.approx(4.64, abs=0.01)  # the P.862.2 maximum
    assert pesq_wb(x, noise, SR) < 1.5


def test_stoi_is_one_against_itself_and_low_against_noise(signals):
    x, noise = signals
    assert stoi(x, x, SR) == pytest.approx(1.0, abs=1e-6)
    assert stoi(x, noise, SR) < 0.6


def test_mel_distance_is_zero_against_itself_and_grows_with_noise(signals):
    x, noise = signals
    mel = MelDistance(SR)
    assert mel(x, x) == 0.0
    assert 0.0 < mel(x, x + 0.1 * noise) < mel(x, x + noise) < mel(x, noise)


def test_compression_ratio_and_table(signals):
    x, noise = signals
    audio = AudioConfig()
    assert compression_ratio(audio) == audio.hop == 1600
    metrics = CodecMetrics(audio)
    table = metrics.table([metrics(x, x), metrics(x, x)])
    assert table.splitlines()[-1].split("|")[1:4] == ["    0.000 ", "  4.644 ", "  1.000 "]


def test_limited_evaluation_spreads_over_the_list():
    from vae_audio.metrics import spaced

    assert spaced(10, 3) == [0, 4, 9]
    assert spaced(5, None) == list(range(5)) and spaced(3, 10) == [0, 1, 2]
