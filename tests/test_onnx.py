"""ONNX export and the torch-free ONNX Runtime engine on a random-initialised tiny checkpoint.

The tiny checkpoint's zero-initialised layers (diffusion-head adaLN and output, σ-VAE layer
scales) get small random weights, and its stop head random weights, so every graph computes
something that depends on its inputs and requests stop at different frames.
"""

import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
import soundfile as sf
import torch
from conftest import tone
from test_vae_model import active_model
from tiny_model import make_tiny_checkpoint

from latentlm_common.errors import InputError
from tts.api import TTS
from tts.cli.main import main
from tts.engine import SpeechRequest as TorchRequest
from tts.onnx import graph_cache
from tts.onnx.engine import NoiseReplay, SpeechRequest
from tts.onnx.export import GRAPHS, QUANTIZED, export_onnx
from tts.onnx.graph_cache import ENV as GRAPH_CACHE_ENV
from tts.onnx.runtime import GraphStreamDecoder, OnnxTTS
from tts.sampler import cosine_alphas_cumprod, dpm_solver_2m_table

TOL = 1e-3  # max abs difference allowed between ONNX Runtime and torch, fp32 (measured: about 2e-6)
SR = 24000


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    path = make_tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))
    tts = TTS.from_pretrained(path)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in [*tts.model.head.named_parameters(), *tts.vae.named_parameters()]:
            if p.abs().max() == 0 or name.endswith("gamma"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
        tts.model.stop_head.weight.copy_(torch.randn(tts.model.stop_head.weight.shape, generator=g) * 0.15)
        tts.model.stop_head.bias.fill_(-1.5)
    tts.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def export_dir(ckpt, tmp_path_factory):
    return export_onnx(ckpt, tmp_path_factory.mktemp("onnx"))


@pytest.fixture(scope="module")
def torch_tts(ckpt):
    return TTS.from_pretrained(ckpt)


@pytest.fixture(scope="module")
def onnx_tts(export_dir):
    return OnnxTTS(export_dir, providers=["CPUExecutionProvider"])


def torch_noise(seed: int, frames: int = 200, dim: int = 32) -> np.ndarray:
    """The noise the torch engine draws from `torch.Generator().manual_seed(seed)`, one row per frame."""
    return torch.randn(frames, dim, generator=torch.Generator().manual_seed(seed)).numpy()


def test_every_graph_passes_the_checker_and_config_is_complete(export_dir):
    config = json.loads((export_dir / "onnx.json").read_text())
    for name in GRAPHS:
        onnx.checker.check_model(str(export_dir / config["graphs"][name]), full_check=True)
    table = dpm_solver_2m_table(cosine_alphas_cumprod(config["sampler"]["ddpm_steps"]), 10)
    assert np.allclose(config["sampler"]["table"], table)
    assert config["audio"]["hop"] == 1600 and config["tokenizer"] and config["length_guard"]["margin"] > 0


@pytest.mark.parametrize(
    "steps,guidance_scale,unrolled", [(10, 2.0, True), (10, 1.0, True), (10, 2.0, False), (3, 2.0, False)]
)  # the unrolled sampler graph (GPUs); the per-step head graph with the numpy solver (CPUs)
def test_engine_latents_match_torch_for_the_same_noise(
    torch_tts, onnx_tts, steps, guidance_scale, unrolled, monkeypatch
):
    monkeypatch.setattr(onnx_tts.engine, "unrolled_steps", 10 if unrolled else None)
    g = torch.Generator().manual_seed(0)
    voice, prompt = torch.randn(7, 32, generator=g), torch.randn(4, 32, generator=g)
    texts = [torch.randint(8, 60, (n,), generator=g) for n in (5, 9, 14)]
    t_reqs = [
        TorchRequest(texts[0], voice=voice),
        TorchRequest(texts[1], prompt=prompt, rate=1.3),
        TorchRequest(texts[2]),
    ]
    o_reqs = [
        SpeechRequest(texts[0].numpy(), voice=voice.numpy()),
        SpeechRequest(texts[1].numpy(), prompt=prompt.numpy(), rate=1.3),
        SpeechRequest(texts[2].numpy()),
    ]
    seeds = [11, 12, 13]
    ref = torch_tts.engine.generate(t_reqs, [torch.Generator().manual_seed(s) for s in seeds], steps, guidance_scale)
    out = onnx_tts.engine.generate(o_reqs, [NoiseReplay(torch_noise(s)) for s in seeds], steps, guidance_scale)
    assert out.stopped == ref.stopped and out.hit_length_guard == ref.hit_length_guard
    for a, b in zip(ref.latents, out.latents):
        assert a.shape == b.shape and len(b) > 0
        assert np.abs(a.numpy() - b).max() < TOL
    assert any(out.stopped) and len({len(z) for z in out.latents}) > 1  # the stop head really ended some


def test_both_engines_align_a_listening_head_on_the_same_rows(torch_tts, onnx_tts, monkeypatch):
    """With `ctc_listens` a guided request is aligned on its negative row (tests/test_engine.py): the
    ONNX engine reads the same rows of its CTC output as the PyTorch engine."""
    g = torch.Generator().manual_seed(2)
    text, voice = torch.randint(8, 60, (9,), generator=g), torch.randn(7, 32, generator=g)
    alignments = {}
    for listens in (False, True):
        for name, tts in (("torch", torch_tts), ("onnx", onnx_tts)):
            monkeypatch.setattr(tts.engine.cfg, "ctc_listens", listens)
            if name == "torch":
                req, noise = TorchRequest(text, voice=voice, words=[0] * 9), torch.Generator().manual_seed(5)
            else:
                req, noise = (
                    SpeechRequest(text.numpy(), voice=voice.numpy(), words=[0] * 9),
                    NoiseReplay(torch_noise(5)),
                )
            out = tts.engine.generate([req], [noise], 10, 2.0)
            alignments[name, listens] = out.alignments[0]
    for listens in (False, True):
        a, b = alignments["torch", listens], alignments["onnx", listens]
        assert a.spans == b.spans and np.abs(a.confidence - b.confidence).max() < TOL
    assert np.abs(alignments["torch", True].confidence - alignments["torch", False].confidence).max() > 1e-4


def test_guidance_changes_the_latents(onnx_tts):
    """The head is not a function of the noise alone: CFG (the condition) moves the result."""
    req = SpeechRequest(np.arange(8, 20), max_frames=5)
    plain = onnx_tts.engine.generate([req], [NoiseReplay(torch_noise(3))], 10, 1.0).latents[0]
    guided = onnx_tts.engine.generate([req], [NoiseReplay(torch_noise(3))], 10, 3.0).latents[0]
    assert np.abs(plain - guided).max() > 1e-3


def test_vae_graphs_match_torch_and_streaming_equals_full(torch_tts, onnx_tts):
    audio = tone(0.5, SR) + 0.05 * np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32)
    z = np.random.default_rng(1).standard_normal((2, 9, 32)).astype(np.float32)
    with torch.no_grad():
        mu = torch_tts.vae.encode(torch.from_numpy(audio)[None])[0].numpy()
        ref = torch_tts.vae.decode(torch.from_numpy(z)).numpy()
    assert np.abs(onnx_tts.encode(audio) - mu).max() < TOL
    states = onnx_tts.config["vae"]["decoder_states"]
    full = GraphStreamDecoder(onnx_tts.sessions["vae_decoder"], states, 2).push(z)
    decoder = GraphStreamDecoder(onnx_tts.sessions["vae_decoder"], states, 2)
    streamed = np.concatenate([decoder.push(z[:, i : i + k]) for i, k in ((0, 1), (1, 3), (4, 1), (5, 4))], axis=1)
    assert full.shape == ref.shape == streamed.shape
    assert np.abs(full - ref).max() < TOL and np.abs(streamed - full).max() < 1e-5


# streamed vs full: the hnm head's running phase adds up float32 rounding of F0 (vae_audio/head_hnm.py)
@pytest.mark.parametrize("head,streaming_tol", [("istft", 1e-5), ("apnet", 1e-5), ("hnm", 1e-3)])
def test_vae_decoder_graph_of_each_head_matches_torch(head, streaming_tol, tmp_path):
    """The decoder graph alone, for a tiny σ-VAE with each head (opset 17: no complex, no atan2)."""
    import onnxruntime as ort

    from tts.onnx.export import DEFAULT_OPSET, _export_graph, _vae_specs
    from tts.onnx.graphs_vae import decoder_state_shapes

    vae = active_model(head)
    _export_graph(_vae_specs(vae)[1], tmp_path / "decoder.onnx", DEFAULT_OPSET)
    session = ort.InferenceSession(str(tmp_path / "decoder.onnx"), providers=["CPUExecutionProvider"])
    z = np.random.default_rng(1).standard_normal((2, 9, 32)).astype(np.float32)
    with torch.no_grad():
        ref = vae.decode(torch.from_numpy(z)).numpy()
    shapes = decoder_state_shapes(vae)
    full = GraphStreamDecoder(session, shapes, 2).push(z)
    decoder = GraphStreamDecoder(session, shapes, 2)
    streamed = np.concatenate([decoder.push(z[:, i : i + k]) for i, k in ((0, 1), (1, 3), (4, 1), (5, 4))], axis=1)
    assert full.shape == ref.shape == streamed.shape and np.abs(ref).max() > 1e-2
    assert np.abs(full - ref).max() < TOL and np.abs(streamed - full).max() < streaming_tol


def test_onnx_tts_audio_matches_torch_tts_for_the_same_noise(torch_tts, onnx_tts, tmp_path, monkeypatch):
    voice = tmp_path / "voice.wav"
    sf.write(voice, tone(2.0, SR), SR)
    monkeypatch.setattr(
        OnnxTTS, "_noise", staticmethod(lambda seed, n: [NoiseReplay(torch_noise(seed + i)) for i in range(n)])
    )
    text = "Hello there. This is a second sentence."
    for voice_text in (None, "a tone"):
        ref = torch_tts.synthesize(text, voice=voice, voice_text=voice_text, seed=5, steps=4)
        out = onnx_tts.synthesize(text, voice=voice, voice_text=voice_text, seed=5, steps=4)
        assert out.samples.shape == ref.samples.shape and out.length_guard_hit == ref.length_guard_hit
        assert np.abs(out.samples - ref.samples).max() < TOL
    streamed = np.concatenate(list(onnx_tts.stream(text, voice=voice, seed=5, steps=4, frames_per_chunk=2)))
    assert np.abs(streamed - onnx_tts.synthesize(text, voice=voice, seed=5, steps=4).samples).max() < 1e-5


def test_onnx_tts_is_seeded_and_batches_like_single_calls(onnx_tts):
    voice = onnx_tts.load_voice(tone(1.5, SR))
    a = onnx_tts.synthesize("Hi there.", voice=voice, seed=3, steps=2)
    b = onnx_tts.synthesize("Hi there.", voice=voice, seed=3, steps=2)
    c = onnx_tts.synthesize("Hi there.", voice=voice, seed=4, steps=2)
    assert np.array_equal(a.samples, b.samples) and not np.array_equal(a.samples, c.samples)
    batch = onnx_tts.synthesize_batch(["Hi there.", "Bye."], voice=voice, seeds=[3, 9], steps=2)
    assert np.abs(batch[0].samples - a.samples).max() < 1e-5 and batch[0].sample_rate == SR


def test_runtime_never_imports_torch(export_dir, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None  # any import of torch now raises ImportError
        import numpy as np
        import tts.onnx
        from tts.onnx.runtime import OnnxTTS
        tts = tts.onnx.OnnxTTS({str(export_dir)!r})
        voice = (0.3 * np.sin(np.arange(2 * tts.sample_rate) * 0.06)).astype(np.float32)
        audio = tts.synthesize("Hello.", voice=voice, voice_text="a tone", seed=0, steps=2)
        chunks = list(tts.stream("Hello.", voice=voice, seed=0, steps=3))
        assert len(audio.samples) > 0 and len(chunks) > 0
        print("ok", sys.modules["torch"])
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["ok", "None"]


def test_cli_export_int8_and_say_with_onnx(ckpt, tmp_path, capsys):
    out = tmp_path / "int8"
    assert main(["export-onnx", "--ckpt", str(ckpt), "-o", str(out), "--int8", "--sampler-steps", "2"]) == 0
    config = json.loads((out / "onnx.json").read_text())
    assert config["quantization"] == "int8-dynamic" and config["sampler"]["unrolled_steps"] == 2
    for name in QUANTIZED:  # every matrix product with a weight is quantised
        graph = onnx.load(str(out / f"{name}.onnx"), load_external_data=False).graph
        weights = {w.name for w in graph.initializer}
        weights |= {n.output[0] for n in graph.node if n.op_type == "Transpose" and n.input[0] in weights}
        products = [n for n in graph.node if n.op_type in ("MatMul", "MatMulInteger")]
        assert any(n.op_type == "MatMulInteger" for n in products), name
        assert not [n.name for n in products if n.op_type == "MatMul" and n.input[1] in weights], name
    wav = tmp_path / "hi.wav"
    assert main(["say", "Hi there.", "-o", str(wav), "--onnx", str(out), "--steps", "2", "--seed", "0"]) == 0
    samples, sr = sf.read(wav)
    assert sr == SR and len(samples) > 0 and np.isfinite(samples).all()


def test_cli_bad_inputs_are_one_line_errors(tmp_path, capsys):
    assert main(["export-onnx", "--ckpt", str(tmp_path / "missing"), "-o", str(tmp_path / "o")]) == 2
    assert main(["say", "Hi.", "-o", str(tmp_path / "a.wav"), "--onnx", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no ONNX graphs" in err[1]


@pytest.mark.parametrize("cut", ["vae_decoder.onnx", "model.safetensors"])
def test_a_truncated_graph_or_weight_file_is_one_line_and_writes_nothing(export_dir, tmp_path, cut, capfd):
    broken = tmp_path / "broken"
    shutil.copytree(export_dir, broken)
    (broken / cut).write_bytes((export_dir / cut).read_bytes()[:3000])
    wav = tmp_path / "x.wav"
    assert main(["say", "Hi there.", "-o", str(wav), "--onnx", str(broken), "--steps", "2"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unreadable ONNX graph or weights" in err[0] and not wav.exists(), err


def test_sessions_are_prepared_ahead_in_order_and_created_once(export_dir):
    tts = OnnxTTS(export_dir, providers=["CPUExecutionProvider"])
    assert list(tts.sessions.pending) == ["vae_encoder", "lm_prefill", "lm_step", "head_step", "vae_decoder"]
    tts.synthesize("Hi there.", voice=np.sin(np.arange(2 * SR) / 20).astype(np.float32), steps=2, seed=0)
    first = {name: tts.sessions[name] for name in tts.sessions.pending | tts.sessions.open}
    assert all(tts.sessions[name] is session for name, session in first.items())
    assert "sampler" not in tts.sessions.open  # on the CPU, the unrolled sampler is never loaded


CPU_GRAPHS = {"vae_encoder.onnx", "lm_prefill.onnx", "lm_step.onnx", "head_step.onnx", "vae_decoder.onnx"}


def _audio(directory) -> np.ndarray:
    """A seeded synthesis, which loads every graph a CPU synthesis uses."""
    tts = OnnxTTS(directory, providers=["CPUExecutionProvider"])
    voice = np.sin(np.arange(2 * SR) / 20).astype(np.float32)
    return tts.synthesize("Hi there.", voice=voice, steps=2, seed=0).samples


def _cached(root) -> set[str]:
    """The file names of the graphs cached under `root`."""
    entries = (root / "graphs").iterdir() if (root / "graphs").is_dir() else []
    return {g.name for e in entries if not e.name.startswith(".") for g in e.glob("*.onnx")}


def test_graphs_are_cached_once_and_give_the_same_audio(export_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(GRAPH_CACHE_ENV, str(tmp_path / "cache"))
    audio = _audio(export_dir)
    assert _cached(tmp_path / "cache") == CPU_GRAPHS
    np.testing.assert_array_equal(_audio(export_dir), audio)
    assert _cached(tmp_path / "cache") == CPU_GRAPHS  # read, not built again
    copy = shutil.copytree(export_dir, tmp_path / "copy")
    (copy / "model.safetensors").touch()  # retrained weights: new entries beside the old
    np.testing.assert_array_equal(_audio(copy), audio)
    assert len(list((tmp_path / "cache" / "graphs").iterdir())) == 2 * len(CPU_GRAPHS)
    monkeypatch.setenv(GRAPH_CACHE_ENV, "off")
    assert OnnxTTS(export_dir, providers=["CPUExecutionProvider"]).sessions.cache is None
    np.testing.assert_allclose(_audio(export_dir), audio, atol=1e-5)


def test_a_broken_cache_entry_is_rebuilt_and_an_unusable_cache_is_skipped(export_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(GRAPH_CACHE_ENV, str(tmp_path / "cache"))
    audio = _audio(export_dir)
    for entry in (tmp_path / "cache" / "graphs").iterdir():  # as if a disk error had cut every file
        for f in entry.iterdir():
            f.write_bytes(f.read_bytes()[:100])
    np.testing.assert_array_equal(_audio(export_dir), audio)
    assert _cached(tmp_path / "cache") == CPU_GRAPHS
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    monkeypatch.setenv(GRAPH_CACHE_ENV, str(not_a_directory))
    np.testing.assert_array_equal(_audio(export_dir), audio)


def test_the_cache_keeps_the_most_recently_used_entries(export_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(GRAPH_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(graph_cache, "KEEP", 3)
    _audio(export_dir)  # built in the order the sessions are prepared: the last three stay
    assert _cached(tmp_path / "cache") == {"lm_step.onnx", "head_step.onnx", "vae_decoder.onnx"}


def test_fp16_step_graph_keeps_float32_io_and_stays_close(ckpt, export_dir, tmp_path):
    import onnxruntime as ort

    half = export_onnx(ckpt, tmp_path / "fp16", fp16=True) / "lm_step.onnx"
    model = onnx.shape_inference.infer_shapes(onnx.load(str(half)))
    onnx.checker.check_model(model)
    types = {v.name: v.type.tensor_type.elem_type for v in [*model.graph.value_info, *model.graph.input]}
    angles = {types[n.input[0]] for n in model.graph.node if n.op_type in ("Cos", "Sin")}
    assert angles == {onnx.TensorProto.FLOAT}  # RoPE angles stay float32
    full = ort.InferenceSession(str(export_dir / "lm_step.onnx"), providers=["CPUExecutionProvider"])
    fp16 = ort.InferenceSession(str(half), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in full.get_inputs():
        shape = [3 if isinstance(s, str) and s == "batch" else 40 if isinstance(s, str) else s for s in i.shape]
        feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    feeds["position"] = np.array([300.3, 421.7, 17.0], np.float32)
    feeds["mask"] = np.ones((3, 40), bool)
    assert all(i.type == "tensor(float)" for i in fp16.get_inputs() if i.name not in ("mask",))
    cond, half_cond = full.run(None, feeds)[0], fp16.run(None, feeds)[0]
    assert np.abs(cond - half_cond).max() < 2e-2 * np.abs(cond).max()


def test_eval_command_scores_an_onnx_export(export_dir, tiny_corpus, tmp_path, capsys):
    from recipes.librispeech.prepare import prepare

    prepare(tiny_corpus, tmp_path / "manifests", parts=["test-unseen"])
    out = tmp_path / "eval"
    code = main(
        [
            "eval",
            "--onnx",
            str(export_dir),
            "--manifest",
            str(tmp_path / "manifests" / "cuts_test-unseen.jsonl.gz"),
            "--out",
            str(out),
            "--settings",
            "A",
            "--limit",
            "1",
            "--min-seconds",
            "0",
            "--max-seconds",
            "30",
            "--asr",
            "pocketsphinx",
            "--no-ground-truth",
        ]
    )
    table = capsys.readouterr().out
    assert code == 0
    assert len(list((out / "A").glob("*.wav"))) == 1
    assert any(export_dir.name in line and line.startswith("| A:") for line in table.splitlines()), table


@pytest.mark.parametrize("settings", [{"steps": 0}, {"steps": 100000}, {"guidance_scale": -1.0}, {"steps": 2.5}])
def test_both_engines_refuse_bad_settings_with_the_same_error(torch_tts, onnx_tts, settings):
    messages = []
    for tts in (torch_tts, onnx_tts):
        with pytest.raises(InputError) as e:
            tts.synthesize("Hi there.", seed=0, **settings)
        messages.append(str(e.value))
        with pytest.raises(InputError):
            next(tts.stream("Hi there.", seed=0, **settings))
    assert messages[0] == messages[1]


def test_cfg_scale_is_accepted_as_the_old_name_of_guidance_scale(torch_tts, onnx_tts, export_dir, tmp_path):
    for tts in (torch_tts, onnx_tts):
        new = tts.synthesize("Hi.", seed=1, steps=2, guidance_scale=1.5).samples
        old = tts.synthesize("Hi.", seed=1, steps=2, cfg_scale=1.5).samples
        assert np.array_equal(new, old)
    old_export = tmp_path / "old"  # an export written before the rename stores "cfg_scale"
    shutil.copytree(export_dir, old_export)
    config = json.loads((export_dir / "onnx.json").read_text())
    config["api"]["cfg_scale"] = config["api"].pop("guidance_scale") + 0.5
    (old_export / "onnx.json").write_text(json.dumps(config))
    assert OnnxTTS(old_export).settings.guidance_scale == config["api"]["cfg_scale"]
    wav = tmp_path / "a.wav"
    assert main(["say", "Hi.", "-o", str(wav), "--onnx", str(export_dir), "--cfg-scale", "1.5", "--steps", "2"]) == 0


def test_eval_with_bad_settings_is_one_line_on_both_engines(ckpt, export_dir, tmp_path, capsys):
    manifest = tmp_path / "cuts.jsonl.gz"
    manifest.write_bytes(b"")
    for engine in (["--ckpt", str(ckpt)], ["--onnx", str(export_dir)]):
        for bad in (["--steps", "0"], ["--guidance-scale", "-2"]):
            code = main(["eval", *engine, "--manifest", str(manifest), "--out", str(tmp_path / "e"), *bad])
            err = capsys.readouterr().err.strip().splitlines()
            assert code == 2 and len(err) == 1 and err[0].startswith("latentlm-tts eval: error:"), err


def test_graphs_keep_no_weights_of_their_own(ckpt, export_dir):
    """Every large initializer points into the checkpoint's safetensors: one copy of the model."""
    from tts.onnx.storage import INLINE_BYTES, SHARED_DATA

    weights = {"model.safetensors", "vae/model.safetensors"}
    for name in GRAPHS:
        model = onnx.load(str(export_dir / f"{name}.onnx"), load_external_data=False)
        for t in model.graph.initializer:
            where = {e.key: e.value for e in t.external_data}
            if t.data_location == onnx.TensorProto.EXTERNAL:
                assert where["location"] in weights, (name, t.name, where)
            else:
                assert len(t.raw_data) < INLINE_BYTES, (name, t.name)
    assert not (export_dir / SHARED_DATA).exists()


def test_int8_weights_are_stored_once_for_all_graphs(ckpt, tmp_path):
    from tts.onnx.storage import SHARED_DATA

    out = export_onnx(ckpt, tmp_path / "int8", int8=True, sampler_steps=2)
    refs = {}
    for name in ("lm_prefill", "lm_step", "head_step", "sampler"):
        model = onnx.load(str(out / f"{name}.onnx"), load_external_data=False)
        for t in model.graph.initializer:
            where = {e.key: e.value for e in t.external_data}
            if where.get("location") == SHARED_DATA:
                refs.setdefault(t.name, set()).add(where["offset"])
    shared = [n for n in refs if n.endswith("_quantized")]
    assert shared and all(len(offsets) == 1 for offsets in refs.values())
    assert (out / SHARED_DATA).stat().st_size < 0.6 * (ckpt / "model.safetensors").stat().st_size


def test_export_in_place_and_the_engine_each_checkpoint_picks(ckpt, tmp_path):
    from tts.load import load_tts

    plain = tmp_path / "plain"
    shutil.copytree(ckpt, plain)
    assert isinstance(load_tts(plain), TTS)  # no graphs: PyTorch
    with pytest.raises(InputError, match="no ONNX graphs"):
        load_tts(plain, "onnx")
    assert main(["export-onnx", "--ckpt", str(plain), "--sampler-steps", "2"]) == 0
    assert isinstance(load_tts(plain), OnnxTTS)  # graphs beside the weights: ONNX Runtime by default
    assert isinstance(load_tts(plain, "torch"), TTS)
    assert sorted(p.name for p in plain.iterdir() if p.suffix == ".safetensors") == ["model.safetensors"]
    with pytest.raises(InputError, match="unknown engine"):
        load_tts(plain, "tensorrt")
