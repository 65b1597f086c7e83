"""σ-VAE harmonic-plus-noise head (head="hnm"): the synthesiser against known signals, streaming,
ONNX, the pyworld F0 target and loss, and a short training run through the CLI."""

import json
import math

import numpy as np
import pytest
import soundfile as sf
import torch
from test_vae_model import HOP, SR, D, active_model, speechlike
from test_vae_train import reconstruction_mel

from vae_audio import train
from vae_audio.config import LossConfig
from vae_audio.data import AudioSource
from vae_audio.head_hnm import F0Loss, F0Prediction, f0_target
from vae_audio.model import SigmaVAE


def synthesise(head, f0: float, harmonics=None, bands=None, seconds: float = 2.0) -> np.ndarray:
    """Constant controls through the head's synthesiser -> audio (S,) without the first latent's fade-in."""
    c = torch.zeros(1, int(seconds * SR) // head.hop, head.num_controls, dtype=torch.float64)
    c[..., 0] = f0
    if harmonics is not None:
        c[..., 1 : 1 + head.harmonics] = torch.as_tensor(harmonics, dtype=torch.float64)
    if bands is not None:
        c[..., 1 + head.harmonics :] = torch.as_tensor(bands, dtype=torch.float64)
    with torch.no_grad():
        audio, *_ = head.synthesise(c, *head.initial_state(1, torch.device("cpu")))
    return audio[0, HOP:].numpy()


def spectrum(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.fft.rfftfreq(len(y), 1 / SR), np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2


def test_a_fixed_f0_gives_its_frequency():
    head = active_model("hnm").decoder.head
    y = synthesise(head, 220.0, harmonics=[0.5] + [0.0] * (head.harmonics - 1))
    freqs, power = spectrum(y)
    assert abs(freqs[np.argmax(power)] - 220.0) < 1.0
    assert np.sqrt(np.mean(y**2)) == pytest.approx(0.5 / math.sqrt(2), rel=1e-3)  # a sine of amplitude 0.5


def test_harmonics_above_nyquist_are_dropped_not_aliased():
    head = active_model("hnm").decoder.head
    f0 = 433.0  # harmonics 28 to 64 would alias to 11876 Hz, 11443 Hz, ...: none of them a multiple of f0
    freqs, power = spectrum(synthesise(head, f0, harmonics=[0.1] * head.harmonics))
    near = np.zeros_like(power, dtype=bool)
    for k in range(1, int(SR / 2 / f0) + 1):
        near |= np.abs(freqs - k * f0) < 10
    assert power[~near].sum() < 1e-8 * power.sum()


def test_noise_bands_split_white_noise():
    head = active_model("hnm").decoder.head
    white = synthesise(head, 100.0, bands=[1.0] * head.bands)
    assert white.std() == pytest.approx(1.0, rel=0.02)  # the bands sum to the unit-variance table
    b = 10
    gains = [0.0] * head.bands
    gains[b] = 1.0
    freqs, power = spectrum(synthesise(head, 100.0, bands=gains))
    lo, hi = b * SR / 2 / head.bands, (b + 1) * SR / 2 / head.bands
    assert power[(freqs > lo - 200) & (freqs < hi + 200)].sum() > 0.99 * power.sum()


def test_streaming_decode_equals_full_decode():
    model = active_model("hnm")
    z = torch.randn(2, 17, D)
    head = model.decoder.head
    with torch.no_grad():
        full = model.decode(z)
        x = model.decoder.features(z)
        cache, chunks, i = {}, [], 0
        for k in [5, 15, 1, 24, 40]:  # the head alone, on the same frames: its state carries exactly
            chunks.append(head(x[..., i : i + k], cache))
            i += k
    peak = float(full.abs().max())
    torch.testing.assert_close(torch.cat(chunks, dim=1), head(x), rtol=0, atol=1e-6 * peak)
    phase = cache[head][1]
    assert phase.dtype == torch.float64 and bool(((phase >= 0) & (phase < 2 * math.pi)).all())
    stream = model.stream_decoder(batch_size=2)
    chunks, i = [], 0
    for k in [1, 3, 0, 1, 5, 2, 5]:
        out = stream.push(z[:, i : i + k])
        assert out.shape == (2, k * HOP)
        chunks.append(out)
        i += k
    chunks.append(stream.flush())
    # The whole decoder: streamed frames differ from full ones by float32 rounding (~1e-6), which moves
    # F0 by ~1e-4 Hz, and the running phase integrates that (measured: ~1e-4 of the peak here).
    torch.testing.assert_close(torch.cat(chunks, dim=1), full, rtol=0, atol=1e-3 * peak)


def test_f0_target_is_pyworld_f0_at_the_end_of_each_hop():
    t = np.arange(SR) / SR
    f0 = 100 + 200 * t  # a fast glide: 2.7 Hz per decoder frame
    audio = (0.1 * np.sin(2 * np.pi * np.cumsum(f0) / SR)).astype(np.float32)
    target = f0_target(audio, SR, 320, 50.0, 600.0)
    assert target.shape == (SR // 320,) and (target > 0).all()
    end_of_hop = f0[np.arange(1, len(target) + 1) * 320 - 1]
    assert np.median(np.abs(target / end_of_hop - 1)) < 3e-3


def test_f0_loss_is_zero_for_a_perfect_f0():
    loss = F0Loss(SigmaVAE.from_preset("tiny", head="hnm").config)
    x = torch.from_numpy(np.stack([speechlike(1.0, seed=0), speechlike(1.0, seed=1)]))
    target = loss.target(x)  # (B, T)
    voiced = target > 0
    assert target.shape == (2, 75) and 0.1 < float(voiced.float().mean()) < 0.9
    hz = torch.where(voiced, target, torch.full_like(target, 77.0))  # unvoiced frames: anything
    logit = torch.where(voiced, 30.0, -30.0)
    perfect = loss(F0Prediction(hz=hz, voiced_logit=logit), x)
    assert float(perfect["f0"]) == 0.0 and float(perfect["voicing"]) < 1e-9
    sharp = loss(F0Prediction(hz=hz * 1.1, voiced_logit=-logit), x)
    assert float(sharp["f0"]) == pytest.approx(math.log(1.1), rel=1e-4) and float(sharp["voicing"]) > 10


def test_small_model_with_the_hnm_head_stays_under_12m_parameters():
    assert sum(p.numel() for p in SigmaVAE.from_preset("small", head="hnm").parameters()) <= 12_000_000


@pytest.fixture
def corpus(tmp_path):
    (tmp_path / "corpus").mkdir()
    for i in range(3):
        sf.write(tmp_path / "corpus" / f"utt{i}.wav", speechlike(2.0, seed=i), SR)
    return tmp_path / "corpus"


def test_tiny_hnm_model_lowers_its_loss_in_30_steps(corpus, tmp_path, one_thread):
    source = AudioSource(corpus, SR, -25.0)
    x = torch.stack([torch.from_numpy(source.load(i)) for i in range(len(source))])  # (3, 2 s)
    torch.manual_seed(0)  # the same initial weights train.py draws with --seed 0
    before = reconstruction_mel(SigmaVAE.from_preset("tiny", head="hnm"), x)
    flags = ["--steps", "30", "--batch-size", "2", "--crop-seconds", "0.5", "--num-workers", "0", "--lr", "2e-3"]
    loss = '{"warmup_steps": 100000, "f0": 1.0, "voicing": 0.5}'
    out = train.main(
        ["--data", str(corpus), "--out", str(tmp_path / "run"), "--preset", "tiny", *flags, "--log-every", "1"]
        + ["--no-tensorboard", "--set", 'head="hnm"', "--set", f"loss={loss}"]
    )
    trained = SigmaVAE.from_pretrained(out)
    assert trained.config.head == "hnm" and trained.config.loss == LossConfig(**json.loads(loss))
    logs = [json.loads(line) for line in (out / train.LOG_NAME).read_text().splitlines()]
    assert len(logs) == 30 and all(r["f0"] > 0 and r["voicing"] > 0 for r in logs)
    assert reconstruction_mel(trained, x) < 0.75 * before
