"""Continuous batching (`tts.batching.RunningBatch`) on both engines: requests that join a running
batch at different frames, and leave it when they end or are cancelled, generate the same
latents as alone (same seed), to 1e-4."""

import numpy as np
import pytest
import torch
from test_engine import engine, gens
from tiny_model import make_tiny_checkpoint

from tts.api import TTS
from tts.batching import RunningBatch
from tts.engine import SpeechRequest
from tts.onnx.export import export_onnx
from tts.onnx.runtime import OnnxTTS

D = 32
TOL = 1e-4


def requests(n: int, numpy: bool = False) -> list[SpeechRequest]:
    """n requests of different lengths and kinds (voice prompt, continuation, text only)."""
    g = torch.Generator().manual_seed(3)
    out = []
    for i in range(n):
        text = torch.randint(10, 100, (3 + 2 * i,), generator=g)
        voice = torch.randn(4 + i % 3, D, generator=g) if i % 3 == 0 else None
        prompt = torch.randn(3, D, generator=g) if i % 3 == 1 else None
        as_np = (lambda x: None if x is None else x.numpy()) if numpy else (lambda x: x)
        out.append(SpeechRequest(as_np(text), voice=as_np(voice), prompt=as_np(prompt)))
    return out


def crowd(eng, reqs, noise, join_at, steps=3, guidance_scale=2.0, cancel=None):
    """Run reqs in one RunningBatch, request k joining before frame join_at[k]; cancel: {key: frame}."""
    batch, frames, frame = RunningBatch(eng, steps, guidance_scale), {k: [] for k in range(len(reqs))}, 0
    ended = {}
    while frame <= max(join_at) or len(batch):
        batch.join([(k, reqs[k], noise[k]) for k in range(len(reqs)) if join_at[k] == frame])
        batch.leave([k for k, at in (cancel or {}).items() if at == frame])
        out = batch.step()
        for k, z in out.latents.items():
            frames[k].append(z)
        ended.update(out.ended)
        frame += 1
    return {k: eng.stack(v) for k, v in frames.items()}, ended


def test_torch_requests_joining_at_any_frame_match_alone():
    eng, reqs = engine(stop_bias=-3.0, seed=1, stop_weight_std=1.0), requests(8)
    seeds = list(range(20, 28))
    together, ended = crowd(eng, reqs, gens(seeds), join_at=[0, 0, 1, 3, 3, 4, 7, 9], cancel={5: 6})
    assert 5 not in ended and len(together[5]) == 2, "a cancelled request leaves at once"
    assert len({len(z) for z in together.values()}) > 3, "requests should end at different frames"
    for k, (r, s) in enumerate(zip(reqs, seeds)):
        alone = eng.generate([r], gens([s]), steps=3, guidance_scale=2.0)
        if k == 5:
            torch.testing.assert_close(together[k], alone.latents[0][:2], atol=TOL, rtol=0)
            continue
        assert together[k].shape == alone.latents[0].shape
        torch.testing.assert_close(together[k], alone.latents[0], atol=TOL, rtol=0)
        assert ended[k].stopped == alone.stopped[0] and ended[k].frames == len(together[k])


def test_torch_unguided_batch_and_stream_frames_agree():
    eng, reqs = engine(stop_bias=-2.0, seed=2, stop_weight_std=1.0), requests(4)
    together, _ = crowd(eng, reqs, gens([1, 2, 3, 4]), join_at=[0, 2, 2, 5], guidance_scale=1.0)
    for k, r in enumerate(reqs):
        alone = eng.generate([r], gens([k + 1]), steps=3, guidance_scale=1.0).latents[0]
        torch.testing.assert_close(together[k], alone, atol=TOL, rtol=0)


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("ckpt"), stop_bias=-50.0)


@pytest.fixture(scope="module")
def onnx_tts(tiny_ckpt, tmp_path_factory):
    return OnnxTTS(export_onnx(tiny_ckpt, tmp_path_factory.mktemp("onnx")), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def onnx_engine(onnx_tts):
    return onnx_tts.engine


def test_onnx_requests_joining_at_any_frame_match_alone(onnx_engine):
    reqs = requests(8, numpy=True)
    for i, r in enumerate(reqs):
        r.max_frames = 6 + 3 * i  # the tiny export never stops: each ends at its own guard
    rng = lambda s: np.random.default_rng(s)  # noqa: E731
    together, ended = crowd(onnx_engine, reqs, [rng(s) for s in range(8)], join_at=[0, 1, 1, 2, 4, 4, 6, 10])
    for k, r in enumerate(reqs):
        alone = onnx_engine.generate([r], [rng(k)], steps=3, guidance_scale=2.0).latents[0]
        assert together[k].shape == alone.shape == (r.max_frames, D) and ended[k].hit_length_guard
        np.testing.assert_allclose(together[k], alone, atol=TOL, rtol=0)


def test_onnx_a_newcomer_takes_the_places_a_leaver_freed(onnx_engine):
    reqs = requests(3, numpy=True)
    reqs[0].max_frames, reqs[1].max_frames, reqs[2].max_frames = 4, 14, 5
    rng = lambda s: np.random.default_rng(s)  # noqa: E731
    batch, frames = RunningBatch(onnx_engine, 3, 2.0), {k: [] for k in range(3)}
    batch.join([(0, reqs[0], rng(0)), (1, reqs[1], rng(1))])
    while 0 in batch.keys:
        for k, z in batch.step().latents.items():
            frames[k].append(z)
    cache = batch.cache
    places, keys = len(cache.mask), cache.keys[0]
    batch.join([(2, reqs[2], rng(2))])  # no copy of the running rows: the newcomer fills the free places
    assert batch.cache is cache and cache.keys[0] is keys and len(cache.mask) == places
    while len(batch):
        for k, z in batch.step().latents.items():
            frames[k].append(z)
    for k, r in enumerate(reqs):
        alone = onnx_engine.generate([r], [rng(k)], steps=3, guidance_scale=2.0).latents[0]
        np.testing.assert_allclose(np.stack(frames[k]), alone, atol=TOL, rtol=0)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_batched_slot_decoding_equals_each_stream_decoder(backend, tiny_ckpt, onnx_tts):
    """Three sequences decoded frame by frame in one batch (joining at frames 0, 2, 5) sound as
    each one's own streaming decoder makes them."""
    tts = TTS.from_pretrained(tiny_ckpt) if backend == "torch" else onnx_tts
    z = np.random.default_rng(0).standard_normal((3, 12, D)).astype(np.float32)
    starts, states, got = [0, 2, 5], {}, {k: [] for k in range(3)}
    for frame in range(17):
        live = [k for k in range(3) if starts[k] <= frame < starts[k] + 12]
        for k in live:
            states.setdefault(k, tts.decoder_state())
        audio, new = tts.decode_slots(
            [states[k] for k in live], np.stack([z[k, frame - starts[k]] for k in live])[:, None]
        )
        for k, samples, state in zip(live, audio, new):
            got[k].append(samples)
            states[k] = state
    for k in range(3):
        alone = tts._stream_decoder()(z[k])
        np.testing.assert_allclose(np.concatenate(got[k]), alone, atol=1e-5)
