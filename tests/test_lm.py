"""LatentLM backbone, layouts and losses on the tiny preset."""

import pytest
import torch

from tts.config import LMConfig, preset
from tts.layout import build_sequence, collate
from tts.lm import KVCache, LatentLM, count_parameters


def scrambled(cfg: LMConfig, seed: int = 0) -> LatentLM:
    """A model with every weight random (the zero-initialised head layers too)."""
    torch.manual_seed(seed)
    model = LatentLM(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.2)
    return model


def example(cfg, n_text=5, n_voice=4, n_speech=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    text = torch.randint(10, cfg.vocab_size, (n_text,), generator=g)
    voice = torch.randn(n_voice, cfg.latent_dim, generator=g) if n_voice else None
    return build_sequence(cfg, text, voice, torch.randn(n_speech, cfg.latent_dim, generator=g))


def test_presets_sizes():
    assert count_parameters(LatentLM(preset("small"))) <= 20e6
    assert preset("paper").n_layers == 24 and preset("paper").dim == 1024
    assert preset("tiny", latent_dim=16).latent_dim == 16
    assert preset("tiny").latent_dim == 32  # from the audio constants
    with pytest.raises(ValueError):
        preset("huge")


def test_layout_positions_are_aligned():
    cfg = preset("tiny", frames_per_phoneme=1.5)
    s = example(cfg, n_text=4, n_voice=3, n_speech=5)
    ids = s.tokens.tolist()
    # BOS VOICE zv zv zv VOICE_END TEXT p p p p TEXT_END SPEECH z*5
    assert ids[:2] == [cfg.bos_id, cfg.voice_id] and ids[5:7] == [cfg.voice_end_id, cfg.text_id]
    assert s.is_latent.tolist() == [False] * 2 + [True] * 3 + [False] * 8 + [True] * 5
    base = 7
    assert s.positions[:base].tolist() == list(range(base))
    assert s.positions[7:12].tolist() == [base + 1.5 * j for j in range(5)]  # phonemes, TEXT_END
    assert s.speech_start == 12 and ids[12] == cfg.speech_id
    assert s.positions[12:].tolist() == [base + i for i in range(6)]  # SPEECH, z_1..z_5
    plain = example(preset("tiny", aligned_positions=False), n_text=4, n_voice=3, n_speech=5)
    assert plain.positions.tolist() == list(range(len(plain.tokens)))


def test_unconditional_layout_has_no_text_or_voice():
    cfg = preset("tiny")
    s = build_sequence(cfg, None, torch.randn(3, 32), torch.randn(4, 32))
    assert s.tokens[:2].tolist() == [cfg.bos_id, cfg.speech_id] and s.is_latent[2:].all()
    assert len(s.tokens) == 6


def test_kv_cache_steps_equal_full_forward():
    cfg = preset("tiny")
    model = scrambled(cfg)
    batch = collate([example(cfg), example(cfg, n_text=7, n_voice=0, seed=1)], pad_left=True).to("cpu")
    full = model.forward_batch(batch)  # (B, L, H)
    cache = KVCache(cfg, 2, 64, "cpu")
    first = model(
        batch.tokens[:, :9],
        batch.latents[:, :9],
        batch.is_latent[:, :9],
        batch.positions[:, :9],
        batch.valid[:, :9],
        cache=cache,
    )
    steps = [first]
    for i in range(9, batch.tokens.shape[1]):
        sl = slice(i, i + 1)
        steps.append(
            model(
                batch.tokens[:, sl],
                batch.latents[:, sl],
                batch.is_latent[:, sl],
                batch.positions[:, sl],
                batch.valid[:, sl],
                cache=cache,
            )
        )
    valid = batch.valid
    torch.testing.assert_close(torch.cat(steps, 1)[valid], full[valid], atol=1e-5, rtol=1e-5)


def test_left_padded_batch_equals_single_sequences():
    cfg = preset("tiny")
    model = scrambled(cfg)
    seqs = [example(cfg, n_text=3, seed=2), example(cfg, n_text=9, n_voice=6, seed=3)]
    batch = collate(seqs, pad_left=True)
    h = model.forward_batch(batch)
    for b, s in enumerate(seqs):
        alone = model.forward_batch(collate([s], pad_left=True))[0]
        torch.testing.assert_close(h[b][batch.valid[b]], alone, atol=1e-5, rtol=1e-5)


def test_head_is_zero_initialised():
    cfg = preset("tiny")
    head = LatentLM(cfg).head
    v = head(torch.randn(5, 32), torch.full((5,), 500.0), torch.randn(5, cfg.dim))
    assert torch.count_nonzero(v) == 0


def test_losses_are_finite_and_train():
    cfg = preset("tiny", uncond_prob=0.0)
    torch.manual_seed(0)
    model = LatentLM(cfg)
    seqs = [
        example(cfg, n_text=4, n_speech=9, seed=4),
        example(cfg, n_text=6, n_voice=0, n_speech=7, seed=5),
        build_sequence(cfg, None, None, torch.randn(5, 32)),
    ]
    batch = collate(seqs, pad_left=False).to("cpu")
    text = torch.nn.utils.rnn.pad_sequence(
        [torch.from_numpy(s.tokens[~s.is_latent][:4]) for s in seqs], batch_first=True
    )
    args = (batch, torch.tensor([9, 7, 5]), text, torch.tensor([4, 4, 4]), torch.tensor([True, True, False]))
    losses = model.loss(*args)
    for v in (losses.total, losses.diffusion, losses.stop, losses.ctc):
        assert torch.isfinite(v) and v > 0
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = losses.total.item()
    for _ in range(30):
        opt.zero_grad()
        model.loss(*args).total.backward()
        opt.step()
    assert model.loss(*args).total.item() < 0.8 * first


def test_normalisation_round_trips():
    model = LatentLM(preset("tiny", latent_scale=0.5, latent_bias=1.0))
    z = torch.randn(3, 32)
    torch.testing.assert_close(model.normalize(z), (z - 1.0) * 0.5)
    torch.testing.assert_close(model.denormalize(model.normalize(z)), z)
