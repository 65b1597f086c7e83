"""Inference engine: KV-cached generation, batching, seeds, CFG, stop and the length guard."""

import logging

import numpy as np
import torch
from test_lm import scrambled

from tts.config import preset
from tts.engine import GUARD_FACTOR, GUARD_MARGIN, Engine, SpeechRequest, max_new_frames
from tts.inference import StopState
from tts.layout import build_sequence, collate

D = 32


def requests():
    g = torch.Generator().manual_seed(7)
    return [
        SpeechRequest(torch.randint(10, 100, (6,), generator=g), voice=torch.randn(5, D, generator=g)),
        SpeechRequest(torch.randint(10, 100, (3,), generator=g)),
        SpeechRequest(torch.randint(10, 100, (9,), generator=g), prompt=torch.randn(4, D, generator=g)),
    ]


def engine(stop_bias=None, seed=0, stop_weight_std=0.0, **cfg):
    """A scrambled tiny model; with stop_bias set, the stop logit is bias + a random
    (std stop_weight_std) projection of the hidden state."""
    model = scrambled(preset("tiny", latent_scale=0.7, latent_bias=0.1, **cfg), seed)
    if stop_bias is not None:
        with torch.no_grad():
            g = torch.Generator().manual_seed(seed)
            model.stop_head.weight.copy_(torch.randn(model.stop_head.weight.shape, generator=g) * stop_weight_std)
            model.stop_head.bias.fill_(stop_bias)
    return Engine(model)


def gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def test_batched_equals_one_by_one_with_cfg():
    eng, reqs, seeds = engine(stop_bias=-2.0, seed=1, stop_weight_std=1.0), requests(), [11, 12, 13]
    batched = eng.generate(reqs, gens(seeds), steps=4, guidance_scale=2.0)
    lengths = [len(z) for z in batched.latents]
    assert len(set(lengths)) == 3 and all(batched.stopped), "each request should stop at its own frame"
    for r, s, z in zip(reqs, seeds, batched.latents):
        alone = eng.generate([r], gens([s]), steps=4, guidance_scale=2.0).latents[0]
        assert alone.shape == z.shape
        torch.testing.assert_close(alone, z, atol=1e-4, rtol=1e-4)


def test_same_seed_same_output_different_seed_differs():
    eng, reqs = engine(stop_bias=-50.0), requests()[:1]
    reqs[0].max_frames = 8
    a = eng.generate(reqs, gens([1]), steps=3, guidance_scale=1.5).latents[0]
    b = eng.generate(reqs, gens([1]), steps=3, guidance_scale=1.5).latents[0]
    c = eng.generate(reqs, gens([2]), steps=3, guidance_scale=1.5).latents[0]
    assert torch.equal(a, b) and a.shape == (8, D)
    assert not torch.allclose(a, c, atol=1e-3)


def test_cfg_one_equals_plain_conditional_reference():
    """At scale 1 the engine equals a cache-free loop over the conditional sequence alone."""
    eng = engine(stop_bias=-50.0)
    model, cfg = eng.model, eng.cfg
    req = requests()[0]
    req.max_frames = 5
    got = eng.generate([req], gens([3]), steps=3, guidance_scale=1.0).latents[0]
    g, speech = gens([3])[0], torch.zeros(0, D)
    for _ in range(5):
        seq = build_sequence(cfg, req.text, model.normalize(req.voice), speech)
        h = model.forward_batch(collate([seq], pad_left=True))[:, -1]
        z = model.head.sample(h, torch.randn(1, D, generator=g), steps=3)
        speech = torch.cat([speech, z])
    torch.testing.assert_close(got, model.denormalize(speech), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(got, eng.generate([req], gens([3]), steps=3, guidance_scale=3.0).latents[0], atol=1e-3)


def test_negative_sequence_never_sees_text_or_voice(monkeypatch):
    eng, cfg = engine(stop_bias=-50.0), preset("tiny")
    reqs = requests()
    batch = eng.negative_batch(reqs)
    specials = {cfg.bos_id, cfg.speech_id, cfg.pad_id}
    for b in range(3):
        toks = batch.tokens[b][batch.valid[b] & ~batch.is_latent[b]].tolist()
        assert toks == [cfg.bos_id, cfg.speech_id] and set(batch.tokens[b].tolist()) <= specials
    # the prompt latents (speech, not voice) are the only latents a negative holds
    assert batch.is_latent[0:2].sum() == 0 and batch.is_latent[2].sum() == 4
    seen = []
    real_sample = eng.model.head.sample
    monkeypatch.setattr(
        eng.model.head,
        "sample",
        lambda cond, noise, steps, neg, w: seen.append(neg.clone()) or real_sample(cond, noise, steps, neg, w),
    )
    req = requests()[2]
    req.max_frames = 4
    out = eng.generate([req], gens([5]), steps=2, guidance_scale=2.0).latents[0]
    # each negative state equals a fresh unconditional sequence over prompt + frames generated so far
    speech = eng.model.normalize(torch.cat([req.prompt, out]))
    for k, neg in enumerate(seen):
        seq = build_sequence(cfg, None, None, speech[: 4 + k])
        expected = eng.model.forward_batch(collate([seq], pad_left=True))[:, -1]
        torch.testing.assert_close(neg, expected, atol=1e-5, rtol=1e-5)
    assert len(seen) == 4


def test_length_guard_fires_and_is_reported(caplog):
    eng, req = engine(stop_bias=-50.0), requests()[1]
    with caplog.at_level(logging.WARNING, logger="tts.engine"):
        out = eng.generate([req], gens([0]), steps=2)
    expected = int(GUARD_FACTOR * 3 * eng.cfg.frames_per_phoneme) + GUARD_MARGIN
    assert max_new_frames(req, eng.cfg.frames_per_phoneme) == expected
    assert len(out.latents[0]) == expected and out.hit_length_guard == [True] and out.stopped == [False]
    assert "length guard" in caplog.text


def test_stop_head_ends_each_request():
    eng = engine(stop_bias=50.0)
    out = eng.generate(requests(), gens([1, 2, 3]), steps=2, guidance_scale=2.0)
    assert [len(z) for z in out.latents] == [1, 1, 1]  # at least one frame, then stop
    assert out.stopped == [True] * 3 and out.hit_length_guard == [False] * 3


def test_stream_yields_the_generated_frames():
    eng, reqs = engine(), requests()
    out = eng.generate(reqs, gens([4, 5, 6]), steps=2, guidance_scale=1.5)
    frames = list(eng.stream(reqs, gens([4, 5, 6]), steps=2, guidance_scale=1.5))
    for b in range(3):
        streamed = torch.stack([f.latents[b] for f in frames if f.active[b]])
        torch.testing.assert_close(streamed, out.latents[b])
    assert [f.index for f in frames] == list(range(len(frames)))


def test_a_listening_head_aligns_a_guided_request_on_its_negative_row_too():
    """The stop rule's aligner reads the CTC head on the conditional sequence; with `ctc_listens` a
    listener reads it on the unconditional sequence (no text, no voice) over the speech generated
    so far, and its alignment is the one reported. Both are recomputed here without the cache."""
    for listens in (True, False):
        eng = engine(stop_bias=-50.0, ctc_listens=listens)
        model, cfg = eng.model, eng.cfg
        req = requests()[0]
        req.max_frames, req.words = 4, [0] * len(req.text)
        state = StopState.empty(1)
        frames = [f.latents[0] for f in eng.stream([req], gens([4]), steps=2, guidance_scale=2.0, state=state)]
        speech = model.normalize(torch.stack(frames))
        rows = [(state.aligners[0], req.text, model.normalize(req.voice))]
        rows += [(state.listeners[0], None, None)] if listens else []
        assert (state.listeners[0] is not None) == listens
        for aligner, text, voice in rows:
            for j in range(len(frames) + 1):  # the prefix's position and every frame's
                seq = build_sequence(cfg, text, voice, speech[:j])
                h = model.forward_batch(collate([seq], pad_left=True))[:, -1]
                expected = model.ctc_log_probs(h[:, None])[0].detach().numpy()[:, aligner.states]
                got = np.stack(aligner.emissions[j * cfg.ctc_upsample : (j + 1) * cfg.ctc_upsample])
                np.testing.assert_allclose(got, expected, atol=1e-4)
            assert len(aligner.emissions) == cfg.ctc_upsample * (len(frames) + 1)
        reported = state.alignment(0)
        assert reported.confidence.tolist() == rows[-1][0].finish().confidence.tolist()
