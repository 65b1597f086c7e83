"""The APNet head (`head="apnet"`): its framing inverts the target's causal STFT, its losses vanish on the
truth and grow away from it, a tiny apnet σ-VAE lowers every loss in 30 steps, and train.py runs it.
Causality, streaming and ONNX are tested with the other heads (test_vae_model.py, test_onnx.py)."""

import json
import math
from dataclasses import replace

import pytest
import soundfile as sf
import torch
from test_vae_model import SR, speechlike

from vae_audio import train
from vae_audio.config import VAE_PRESETS
from vae_audio.head_apnet import (
    RECOMMENDED_LOSS,
    APNetHead,
    Spectra,
    anti_wrap,
    causal_stft,
    phase_loss,
    spectral_losses,
)
from vae_audio.losses import GeneratorLoss
from vae_audio.model import SigmaVAE

TINY = VAE_PRESETS["tiny"]
HOP, N_FFT = TINY.frame_hop, TINY.istft_n_fft


def test_anti_wrap_is_the_distance_to_the_nearest_multiple_of_two_pi():
    x = torch.linspace(-3.1, 3.1, 101, dtype=torch.float64)
    for k in (-3, -1, 0, 1, 2):
        torch.testing.assert_close(anti_wrap(x + 2 * math.pi * k), x.abs())
    assert float(anti_wrap(torch.tensor(0.0))) == 0.0


def test_phase_loss_is_zero_for_equal_phases_up_to_wrapping_and_positive_otherwise():
    g = torch.Generator().manual_seed(0)
    phase = (torch.rand(2, 6, 9, generator=g, dtype=torch.float64) * 2 - 1) * math.pi
    wraps = 2 * math.pi * torch.randint(-2, 3, phase.shape, generator=g, dtype=torch.float64)
    assert float(phase_loss(phase, phase)) == 0.0
    assert float(phase_loss(phase + wraps, phase)) < 1e-12
    assert float(phase_loss(phase + 0.3, phase)) == pytest.approx(0.3)  # instantaneous phase only
    ramp = 0.2 * torch.arange(9)  # a delay: group delay and instantaneous phase, not frequency over time
    assert float(phase_loss(phase + ramp, phase)) == pytest.approx(float(ramp.mean()) + 0.2)
    assert float(phase_loss(phase + 0.1 * torch.randn(phase.shape, generator=g), phase)) > 0.1


def target_spectra(head: APNetHead, seconds: float = 1.0) -> tuple[Spectra, torch.Tensor]:
    """The exact spectra of speech-like audio, every frame's window inside the signal, and that audio
    cut to the frames' hops (B, T * hop)."""
    x_long = torch.from_numpy(speechlike(seconds))[None]
    spec = causal_stft(x_long, head.window, HOP)  # (1, T, F)
    spectra = Spectra(torch.log(spec.abs().clamp(min=1e-5)), spec.real, spec.imag, head.window, HOP)
    return spectra, x_long[:, : spec.shape[1] * HOP]


def test_the_head_inverts_the_target_stft_and_every_spectral_loss_vanishes_there():
    head = APNetHead(8, N_FFT, HOP)
    spectra, x = target_spectra(head)
    x_hat = head.synthesize(spectra)
    fade_in = N_FFT - HOP  # the first samples miss the frames before the signal
    assert x_hat.shape == x.shape
    torch.testing.assert_close(x_hat[:, fade_in:], x[:, fade_in:], rtol=0, atol=1e-5 * float(x.abs().max()))
    losses = spectral_losses(spectra, x_hat, x)
    assert float(losses["amplitude"]) < 1e-10 and float(losses["phase"]) < 1e-4
    assert float(losses["real_imag"]) < 1e-4 and float(losses["consistency"]) < 1e-8

    g = torch.Generator().manual_seed(0)
    noisy = Spectra(
        spectra.log_amp + 0.1 * torch.randn(spectra.log_amp.shape, generator=g),
        spectra.real + 0.1 * torch.randn(spectra.real.shape, generator=g),
        spectra.imag,
        head.window,
        HOP,
    )
    off = spectral_losses(noisy, head.synthesize(noisy), x)
    assert all(float(v) > 1e-3 for v in off.values()), off


def test_small_apnet_stays_within_twelve_million_parameters():
    params = sum(p.numel() for p in SigmaVAE.from_preset("small", head="apnet").parameters())
    assert params <= 12_000_000


@pytest.mark.usefixtures("one_thread")
def test_tiny_apnet_model_lowers_every_loss_in_thirty_steps():
    torch.manual_seed(0)
    model = SigmaVAE.from_preset("tiny", head="apnet", loss=replace(TINY.loss, **RECOMMENDED_LOSS))
    loss = GeneratorLoss(SR, model.config.loss)
    x = torch.from_numpy(speechlike(1.0))[None]

    def losses() -> tuple[float, dict]:  # from μ, without the σ-VAE noise
        with torch.no_grad():
            mu = model.encode(x)
            audio, spectra = model.decoder.forward_with_spectra(mu)
            total, terms = loss(audio, x, mu, spectra=spectra)
        return float(total), terms

    before, terms_before = losses()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.8, 0.99))
    for step in range(30):
        out = model(x, torch.Generator().manual_seed(step))
        total, _ = loss(out.audio, x, out.mu, spectra=out.spectra)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
    after, terms_after = losses()
    assert after < 0.7 * before, (before, after)
    for name in ("mel", "stft", *RECOMMENDED_LOSS):
        assert terms_after[name] < terms_before[name], (name, terms_before[name], terms_after[name])


def test_train_cli_runs_the_apnet_head_with_its_losses(tmp_path):
    sf.write(tmp_path / "utt.wav", speechlike(1.0), SR)
    weights = json.dumps({"warmup_steps": 1000, **RECOMMENDED_LOSS})
    args = ["--data", str(tmp_path), "--out", str(tmp_path / "run"), "--preset", "tiny", "--steps", "2"]
    args += ["--batch-size", "1", "--crop-seconds", "0.5", "--num-workers", "0", "--log-every", "1"]
    out = train.main([*args, "--no-tensorboard", "--set", 'head="apnet"', "--set", f"loss={weights}"])
    logs = [json.loads(line) for line in (out / train.LOG_NAME).read_text().splitlines()]
    assert [r["step"] for r in logs] == [0, 1] and all(k in logs[-1] for k in RECOMMENDED_LOSS)
    config = SigmaVAE.from_pretrained(out).config
    assert config.head == "apnet" and config.loss.phase == RECOMMENDED_LOSS["phase"]
