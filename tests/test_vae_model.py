"""σ-VAE model: frame rate, causality both ways, streaming, σ-VAE noise, checkpoints."""

import json

import numpy as np
import pytest
import torch

from latentlm_common.errors import InputError
from vae_audio.config import VAE_PRESETS, VAEConfig
from vae_audio.model import SigmaVAE

AUDIO = VAEConfig().audio
SR, HOP, D = AUDIO.sample_rate, AUDIO.hop, AUDIO.latent_dim


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """A voiced-speech stand-in: gliding harmonic tone with syllable-rate envelope and noise bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)) + 10 * np.sin(2 * np.pi * 5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voiced = sum(np.sin(k * phase) / k * (1 + np.sin(2 * np.pi * (0.5 + 0.3 * k) * t)) for k in range(1, 20))
    envelope = np.clip(np.sin(2 * np.pi * 3 * t + rng.uniform(0, 6)), 0, None) ** 0.5
    bursts = rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 1.3 * t) > 0.8) * 0.3
    return (0.1 * (voiced * envelope + bursts)).astype(np.float32)


def active_model(head: str = "istft") -> SigmaVAE:
    """A tiny model whose residual blocks really contribute (layer-scale raised from 1e-6)."""
    torch.manual_seed(0)
    model = SigmaVAE.from_preset("tiny", head=head).eval()
    for module in model.modules():
        if hasattr(module, "gamma"):
            module.gamma.data.fill_(0.3)
    return model


def test_one_second_is_fifteen_frames_and_decodes_to_one_second():
    model = active_model()
    with torch.no_grad():
        mu = model.encode(torch.randn(2, SR) * 0.1)
        assert mu.shape == (2, 15, D)
        assert model.decode(mu).shape == (2, SR)
        assert model.encode(torch.randn(1, SR + 1) * 0.1).shape == (1, 16, D)  # right-padded to whole frames


def test_encoder_is_causal():
    model = active_model()
    x = torch.from_numpy(speechlike(1.0))[None]
    t = 9 * HOP + 700  # change everything from here on
    y = x.clone()
    y[:, t:] += 0.2 * torch.randn(1, SR - t)
    with torch.no_grad():
        a, b = model.encode(x), model.encode(y)
    assert torch.equal(a[:, : t // HOP], b[:, : t // HOP])
    assert (a[:, t // HOP :] - b[:, t // HOP :]).abs().amax(dim=(0, 2)).min() > 1e-4  # every later frame moves


@pytest.mark.parametrize("head", ["istft", "upsample", "apnet", "hnm"])
def test_decoder_is_causal(head):
    model = active_model(head)
    z = torch.randn(1, 12, D)
    k = 5
    z2 = z.clone()
    z2[:, k] += 1.0
    with torch.no_grad():
        a, b = model.decode(z), model.decode(z2)
    assert torch.equal(a[:, : k * HOP], b[:, : k * HOP])
    assert (a[:, k * HOP : (k + 1) * HOP] - b[:, k * HOP : (k + 1) * HOP]).abs().max() > 1e-5


@pytest.mark.parametrize("head", ["istft", "upsample", "apnet"])
def test_streaming_decode_equals_full_decode(head):
    model = active_model(head)
    z = torch.randn(2, 17, D)
    with torch.no_grad():
        full = model.decode(z)
    stream = model.stream_decoder(batch_size=2)
    chunks, i = [], 0
    for k in [1, 3, 0, 1, 5, 2, 5]:
        out = stream.push(z[:, i : i + k])
        assert out.shape == (2, k * HOP)  # every sample of a pushed frame is emitted at once
        chunks.append(out)
        i += k
    chunks.append(stream.flush())
    streamed = torch.cat(chunks, dim=1)
    assert streamed.shape == full.shape
    torch.testing.assert_close(streamed, full, rtol=1e-4, atol=1e-5 * float(full.abs().max()))


def test_stream_decoder_rejects_wrong_shape():
    stream = active_model().stream_decoder(batch_size=1)
    with pytest.raises(ValueError, match="shape"):
        stream.push(torch.zeros(1, 3, D + 1))


def test_sigma_has_configured_spread_across_examples_and_none_within():
    model = active_model()
    mu = torch.zeros(4000, 16, 8)
    noise = model.sample_latents(mu, torch.Generator().manual_seed(0)) - mu  # (B, T, D) = σ_b · ε
    per_example = noise.flatten(1).std(dim=1)  # |σ_b|
    target = model.config.sigma_c / 0.8
    assert float(per_example.square().mean().sqrt()) == pytest.approx(target, rel=0.05)
    assert float(per_example.std()) > 0.5 * target  # σ really varies across examples

    def kurtosis(v):
        return float((v**4).mean() / (v**2).mean() ** 2)

    # One σ per example: the noise is Gaussian within each example (kurtosis 3); pooled over
    # examples it is a Gaussian scale mixture, kurtosis 3 · E[σ⁴] / E[σ²]² = 9.
    within = np.median([kurtosis(n) for n in (noise.flatten(1) / per_example[:, None])[:200]])
    assert within == pytest.approx(3.0, abs=0.3)
    assert kurtosis(noise.flatten()) == pytest.approx(9.0, rel=0.2)


def test_sample_latents_is_reproducible_from_its_generator():
    model = active_model()
    mu = torch.randn(3, 5, D)
    a = model.sample_latents(mu, torch.Generator().manual_seed(7))
    b = model.sample_latents(mu, torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and not torch.equal(a, mu)


def test_presets_sizes():
    count = {name: sum(p.numel() for p in SigmaVAE(cfg).parameters()) for name, cfg in VAE_PRESETS.items()}
    assert count["tiny"] < 1_000_000 < count["small"] <= 10_000_000 < count["base"]


def test_save_and_load_round_trip(tmp_path):
    model = active_model()
    model.config = VAEConfig.from_dict({**model.config.to_dict(), "sigma_c": 0.7})
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["audio"] == AUDIO.to_dict() and saved["format_version"] == 1
    assert saved["loss"]["mel"] == model.config.loss.mel and saved["sigma_c"] == 0.7
    loaded = SigmaVAE.from_pretrained(tmp_path)
    assert loaded.config == model.config
    z = torch.randn(1, 4, D)
    with torch.no_grad():
        assert torch.equal(loaded.decode(z), model.decode(z))


def test_a_config_with_the_old_latent_statistics_still_loads(tmp_path):
    """σ-VAE configs once stored a latent scale/bias (now the LatentLM's alone): they load, the keys ignored."""
    model = active_model()
    model.save_pretrained(tmp_path)
    old = {**json.loads((tmp_path / "config.json").read_text()), "latent_scale": 0.37, "latent_bias": -0.22}
    (tmp_path / "config.json").write_text(json.dumps(old))
    loaded = SigmaVAE.from_pretrained(tmp_path)
    assert loaded.config == model.config and not hasattr(loaded.config, "latent_scale")


def test_from_pretrained_on_a_non_checkpoint_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not a σ-VAE checkpoint"):
        SigmaVAE.from_pretrained(tmp_path)


def test_streaming_encode_equals_full_encode():
    model = active_model()
    x = torch.from_numpy(np.stack([speechlike(1.3, seed=1), speechlike(1.3, seed=2)]))  # not a whole number of hops
    with torch.no_grad():
        full = model.encode(x)
    stream = model.stream_encoder(batch_size=2)
    chunks, i = [], 0
    for n in [100, 1500, 0, 3200, 7000, 5000, 30000]:
        chunks.append(stream.push(x[:, i : i + n]))
        i += n
    chunks.append(stream.flush())
    assert [c.shape[1] for c in chunks] == [0, 1, 0, 2, 4, 3, 9, 1]  # a frame as soon as its hop is complete
    torch.testing.assert_close(torch.cat(chunks, dim=1), full, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("sr, n_fft, n_mels", [(24000, 1024, 100), (24000, 512, 40), (16000, 400, 64)])
def test_mel_filterbank_equals_librosa(sr, n_fft, n_mels):
    import librosa

    from vae_audio.spectral import mel_filterbank

    ours = mel_filterbank(sr, n_fft, n_mels).numpy()
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=sr / 2)
    assert ours.shape == ref.shape and np.abs(ours - ref).max() < 1e-7
