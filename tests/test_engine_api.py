"""The Python API and `latentlm-tts say` on a random-initialised tiny checkpoint."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import tone
from tiny_model import make_tiny_checkpoint

from latentlm_common.errors import InputError
from tts.api import TTS, Audio
from tts.cli.main import main
from tts.config import preset
from tts.lm import LatentLM
from tts.text import PhonemeTokenizer
from vae_audio.model import SigmaVAE

SR = 24000


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """A tiny LatentLM (stop head biased to end after a few frames) + tiny σ-VAE checkpoint."""
    tok = PhonemeTokenizer()
    torch.manual_seed(0)
    model = LatentLM(preset("tiny", **tok.lm_ids()))
    with torch.no_grad():
        model.stop_head.weight.zero_()
        model.stop_head.bias.fill_(-50.0)  # never stops: the length guard ends every chunk
    path = tmp_path_factory.mktemp("ckpt")
    TTS(model, SigmaVAE.from_preset("tiny"), tok).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tts(ckpt):
    return TTS.from_pretrained(ckpt)


def voice_file(tmp_path, seconds, amp=0.3):
    path = tmp_path / f"voice_{seconds}_{amp}.wav"
    sf.write(path, tone(seconds, SR, amp=amp), SR)
    return path


def test_synthesize_is_seeded_and_reports_unfinished_speech(tts, tmp_path):
    """The tiny model's stop head never fires and its CTC head is random: the alignment stops the
    chunk at 1.5x its expected length (before the length guard) and flags it."""
    voice = voice_file(tmp_path, 2.0)
    a = tts.synthesize("Hi there.", voice=voice, seed=3, steps=2)
    b = tts.synthesize("Hi there.", voice=voice, seed=3, steps=2)
    c = tts.synthesize("Hi there.", voice=voice, seed=4, steps=2)
    assert isinstance(a, Audio) and a.sample_rate == SR and a.samples.dtype == np.float32
    assert np.array_equal(a.samples, b.samples)
    assert a.samples.shape != c.samples.shape or not np.allclose(a.samples, c.samples)
    assert a.flags and not a.length_guard_hit and len(a.samples) % tts.audio_config.hop == 0


def test_batch_equals_single_and_stream_equals_synthesize(tts, tmp_path):
    voice = voice_file(tmp_path, 2.0)
    texts = ["Hi.", "A longer sentence here."]
    batch = tts.synthesize_batch(texts, voice=voice, seeds=[5, 6], steps=2)
    for t, s, got in zip(texts, [5, 6], batch):
        np.testing.assert_allclose(got.samples, tts.synthesize(t, voice=voice, seed=s, steps=2).samples, atol=1e-4)
    streamed = list(tts.stream(texts[1], voice=voice, seed=6, steps=2))
    assert len(streamed) > 2 and len(streamed[0]) == tts.audio_config.hop  # first chunk after one frame
    np.testing.assert_allclose(np.concatenate(streamed), batch[1].samples, atol=1e-4)


def test_continuation_prompt_with_transcript(tts, tmp_path, monkeypatch):
    import tts.inference as inference

    leads, aligner = [], inference.CTCAligner
    monkeypatch.setattr(inference, "CTCAligner", lambda *a: leads.append(a[4]) or aligner(*a))
    out = tts.synthesize("and then some.", voice=voice_file(tmp_path, 1.5), voice_text="It begins", seed=0, steps=2)
    assert len(out.samples) > 0 and np.isfinite(out.samples).all()
    tts.synthesize("and then some.", voice=voice_file(tmp_path, 1.5), seed=0, steps=2)
    assert leads[0] >= inference.CTC_LEAD_FRAMES / 2 and leads[1] == 0  # only a continuation reads ahead unseen
    with pytest.raises(InputError, match="at most 10 s"):
        tts.load_voice(voice_file(tmp_path, 11.0), voice_text="far too long")


def test_bad_prompts_are_refused(tts, tmp_path):
    with pytest.raises(InputError, match="at least 1 s"):
        tts.load_voice(voice_file(tmp_path, 0.5))
    with pytest.raises(InputError, match="silent"):
        tts.load_voice(voice_file(tmp_path, 2.0, amp=0.0))
    assert len(tts.load_voice(voice_file(tmp_path, 8.0)).latents) == 75  # trimmed to 5 s


def test_say_writes_a_wav(ckpt, tmp_path, capsys):
    out = tmp_path / "out.wav"
    code = main(
        [
            "say",
            "Hello world.",
            "--ckpt",
            str(ckpt),
            "--voice",
            str(voice_file(tmp_path, 2.0)),
            "--steps",
            "2",
            "--seed",
            "1",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    audio, sr = sf.read(out)
    assert sr == SR and len(audio) > SR // 2 and np.isfinite(audio).all()
    assert any(flag in capsys.readouterr().out for flag in ("skipped", "repeated", "never reached"))


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing_prompt", "no such audio file"),
        ("silent_prompt", "silent"),
        ("empty_text", "text is empty"),
        ("corrupt_ckpt", "corrupt weights"),
        ("corrupt_vae", "corrupt σ-VAE weights"),
        ("no_ckpt", "no such checkpoint"),
    ],
)
def test_say_bad_input_is_one_line(ckpt, tmp_path, capsys, case, message):
    args = {"text": "Hello.", "--ckpt": str(ckpt)}
    if case == "missing_prompt":
        args["--voice"] = str(tmp_path / "nope.wav")
    elif case == "silent_prompt":
        args["--voice"] = str(voice_file(tmp_path, 2.0, amp=0.0))
    elif case == "empty_text":
        args["text"] = "   "
    elif case == "corrupt_ckpt":
        broken = tmp_path / "broken"
        broken.mkdir()
        for f in ckpt.iterdir():
            if f.is_file():
                (broken / f.name).write_bytes(f.read_bytes()[:100])
        (broken / "config.json").write_bytes((ckpt / "config.json").read_bytes())
        args["--ckpt"] = str(broken)
    elif case == "corrupt_vae":
        broken = tmp_path / "broken"
        shutil.copytree(ckpt, broken)
        weights = broken / "vae" / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])
        args["--ckpt"] = str(broken)
    else:
        args["--ckpt"] = str(tmp_path / "missing")
    argv = ["say", args.pop("text"), "-o", str(tmp_path / "x.wav")] + [x for kv in args.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and not (tmp_path / "x.wav").exists()


def test_array_prompts_get_the_file_checks(tts):
    with pytest.raises(InputError, match="silent"):
        tts.load_voice(np.zeros(2 * SR, dtype=np.float32))
    quiet = np.concatenate([np.zeros(SR), tone(2.0, SR, amp=0.01), np.zeros(SR)])
    assert 30 <= len(tts.load_voice(quiet).latents) <= 32  # 4 s in, 2 s of sound (+ 50 ms margins) kept


@pytest.mark.parametrize("int8", [True, False], ids=["int8", "float16"])
def test_package_is_smaller_loads_back_and_holds_one_copy(tmp_path, int8):
    import onnx
    from safetensors import safe_open

    from recipes.synthetic.package import package
    from tts.onnx.storage import INLINE_BYTES

    make_tiny_checkpoint(tmp_path / "full", stop_bias=-50.0)
    report = package(tmp_path / "full", tmp_path / "pkg", int8=int8, ctc_lead_seconds=0.15)
    for config in ("config.json", "onnx.json"):  # both engines move word times back by the head's lead
        assert json.loads((tmp_path / "pkg" / config).read_text())["lm"]["ctc_lead_seconds"] == 0.15
    full = sum(p.stat().st_size for p in (tmp_path / "full").rglob("*.safetensors"))
    assert report["megabytes"] * 1e6 < 0.6 * full
    assert report["frames_stored"] == report["frames_float32"]
    assert report["max_abs_latent_diff"] < 0.05
    tts = TTS.from_pretrained(tmp_path / "pkg")
    assert all(p.dtype == torch.float32 for p in tts.model.parameters())
    with safe_open(str(tmp_path / "pkg" / "model.safetensors"), "np") as f:
        stored = {f.get_slice(k).get_dtype() for k in f.keys()}
    assert ("I8" in stored) == int8
    assert not (tmp_path / "pkg" / "onnx.data").exists()  # no weight of the graphs is stored a second time
    step = onnx.load(str(tmp_path / "pkg" / "lm_step.onnx"), load_external_data=False).graph.initializer
    quantised = [t for t in step if t.name.endswith("_quantized")]
    read = [{e.key: e.value for e in t.external_data}.get("location") for t in quantised]
    assert bool(quantised) == int8  # and the int8 matrices are the package's own, not a copy:
    inline = [t for t, where in zip(quantised, read) if where is None]
    assert all(len(t.raw_data) < INLINE_BYTES for t in inline) and set(read) <= {"model.safetensors", None}


def test_words_are_timed_in_order_and_the_stream_gives_the_same_words(tmp_path):
    tts = TTS.from_pretrained("default")
    text = "The sun was shining. We went home."
    audio = tts.synthesize(text, voice=tone(2.0, SR), seed=3, steps=4)
    seconds = len(audio.samples) / SR
    assert [w.text for w in audio.words][:2] == ["The", "sun"] and len(audio.words) >= 6
    assert all(0 <= w.start <= w.end <= seconds + 1e-6 for w in audio.words)
    assert all(a.start <= b.start for a, b in zip(audio.words, audio.words[1:]))
    pieces = list(tts.stream(text, voice=tone(2.0, SR), seed=3, steps=4, with_words=True))
    streamed = [w for _, words in pieces for w in words]
    assert [w.text for w in streamed] == [w.text for w in audio.words]
    assert max(abs(a.start - b.start) for a, b in zip(streamed, audio.words)) < 1e-3
    assert np.abs(np.concatenate([p for p, _ in pieces]) - audio.samples).max() < 1e-4


def test_retries_are_checked_and_resample_only_flagged_chunks():
    tts = TTS.from_pretrained("default")
    with pytest.raises(InputError, match="retries"):
        tts.synthesize("Hello.", retries=-1)
    first = tts.synthesize("Hello there.", voice=tone(2.0, SR), seed=1, steps=4)
    again = tts.synthesize("Hello there.", voice=tone(2.0, SR), seed=1, steps=4, retries=2)
    if not first.flags and not first.length_guard_hit:  # a clean first take is kept as it is
        assert np.array_equal(first.samples, again.samples)
    assert len(again.flags) <= len(first.flags)
    whole_float = tts.synthesize("Hello there.", voice=tone(2.0, SR), seed=1, steps=4, retries=2.0)
    assert np.array_equal(whole_float.samples, again.samples)  # 2.0 is a whole number of retries


@pytest.mark.parametrize("max_batch, calls, sampled", [(1, [1, 1], 2), (16, [1, 2], 3)])  # attempt 1 is clean
def test_retries_of_a_few_chunks_run_side_by_side_and_keep_the_same_take(max_batch, calls, sampled, monkeypatch):
    """A flagged chunk's remaining attempts share one batch when rows are spare; the kept take is the
    one a take-by-take loop keeps (the least flagged, the earliest among equals). `Audio.takes`
    counts the takes sampled, so side by side it includes the one after the clean take."""
    import dataclasses

    from tts.synthesis import RETRY_SEED_STRIDE, Take

    tts = TTS.from_pretrained("default")
    tts.settings = dataclasses.replace(tts.settings, max_batch=max_batch)
    monkeypatch.setattr(tts, "_noise", lambda seed, n: [seed] * n)  # the fake takes below read the attempt
    flagged = {0: True, 1: False, 2: False}  # attempt -> ended by the length guard (one flag)
    sizes = []

    def takes(chunks, noise, voices, steps, guidance_scale, speed):
        sizes.append(len(chunks))
        attempts = [(seed - 7) // RETRY_SEED_STRIDE for seed in noise]
        return [Take(np.full(240, a, np.float32), flagged[a], None) for a in attempts]

    monkeypatch.setattr(tts, "_takes", takes)
    audio = tts.synthesize("Hello.", seed=7, retries=2)
    assert sizes == calls
    assert np.all(audio.samples == 1) and not audio.length_guard_hit  # attempt 1: the first clean take
    assert audio.takes == sampled


def test_a_near_silent_take_is_sampled_again_and_flagged_when_every_take_is(monkeypatch):
    from tts.synthesis import RETRY_SEED_STRIDE, Take

    tts = TTS.from_pretrained("default")
    monkeypatch.setattr(tts, "_noise", lambda seed, n: [seed] * n)
    level = {0: 0.0, 1: 1e-4, 2: 0.3}  # attempt -> amplitude: silent, -80 dBFS, speech-like

    def takes(chunks, noise, voices, steps, guidance_scale, speed):
        return [Take(np.full(240, level[(seed - 7) // RETRY_SEED_STRIDE], np.float32), False, None) for seed in noise]

    monkeypatch.setattr(tts, "_takes", takes)
    kept = tts.synthesize("Hello.", seed=7, retries=2)
    assert np.allclose(kept.samples, 0.3) and kept.flags == [] and kept.takes == 3
    given_up = tts.synthesize("Hello.", seed=7, retries=1)
    assert given_up.flags == ["silent"] and given_up.takes == 2 and np.all(given_up.samples == 0)  # the earliest
