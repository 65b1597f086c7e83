"""Evaluation backends: the offline ones on real speech, the hub ones on tiny random models saved locally."""

import json
import os

import numpy as np
import pytest
import soundfile as sf

from tts.eval import cosine, load_asr, load_speaker_encoder, normalize_for_wer, wer


@pytest.fixture(scope="module")
def beckett():
    """About 10 s of real human speech that ships inside the moonshine-cpp wheel."""
    import moonshine_cpp

    x, sr = sf.read(os.path.join(os.path.dirname(moonshine_cpp.__file__), "test-data", "beckett.wav"), dtype="float32")
    return x, sr


BECKETT_TEXT = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, World!", "hello world"),
        ("I paid $3.50.", "i paid three dollars and fifty cents"),
        ("It's the 2nd time", "it's the second time"),
        ("state-of-the-art", "state of the art"),
        ("'quoted' words", "quoted words"),
        ("  spaced   out  ", "spaced out"),
    ],
)
def test_wer_normaliser(text, expected):
    assert normalize_for_wer(text) == expected


def test_wer_counts_errors_after_normalisation():
    assert wer(["I paid $3."], ["i paid three dollars"]) == 0.0
    assert wer(["one two three four"], ["one two four"]) == pytest.approx(0.25)
    assert wer(["hello world"], [""]) == 1.0
    with pytest.raises(ValueError):
        wer([""], ["x"])


def test_moonshine_transcribes_real_speech(beckett):
    x, sr = beckett
    assert wer([BECKETT_TEXT], [load_asr("moonshine").transcribe(x, sr)]) < 0.2


def test_moonshine_tries_again_with_less_padding_when_it_hears_nothing(beckett, monkeypatch):
    """Moonshine returns nothing for some clips of plain speech with 0.5 s of padding; 0.25 s is
    tried then. Here the model is made to fail at the first padding only."""
    from tts.eval.asr import ASR_RATE, MoonshineASR, to_16k

    asr, x = load_asr("moonshine"), beckett[0]
    lengths, real = [], asr.model.transcribe_wav

    def fails_when_padded_long(path):
        lengths.append(sf.info(path).frames)
        return "" if len(lengths) == 1 else real(path)

    monkeypatch.setattr(asr.model, "transcribe_wav", fails_when_padded_long)
    assert wer([BECKETT_TEXT], [asr.transcribe(x, beckett[1])]) < 0.2
    pads = [(n - len(to_16k(x, beckett[1]))) / 2 / ASR_RATE for n in lengths]
    assert pads == [MoonshineASR.PAD_SECONDS, MoonshineASR.RETRY_PAD_SECONDS]
    monkeypatch.setattr(asr.model, "transcribe_wav", lambda path: lengths.append(0) or "")
    assert asr.transcribe(x, beckett[1]) == ""  # silence stays empty after both tries


def test_the_asr_worker_runs_this_code_from_any_directory(beckett, tmp_path, monkeypatch):
    """`python -m` puts the current directory first on the path: the worker starts in this
    package's directory, so another `tts` in the caller's directory is not the one it runs."""
    from tts.eval.worker import IsolatedASR

    (tmp_path / "tts").mkdir()
    (tmp_path / "tts" / "__init__.py").write_text("raise ImportError('another checkout')\n")
    monkeypatch.chdir(tmp_path)
    asr = IsolatedASR("pocketsphinx")
    try:
        assert "try again" in asr.transcribe(*beckett).lower()
    finally:
        asr.close()


def test_pocketsphinx_transcribes_real_speech(beckett):
    x, sr = beckett
    hyp = load_asr("pocketsphinx").transcribe(x, sr)
    assert "try again" in hyp.lower()  # a weak recogniser (WER about 1 here), but it hears speech


def test_resemblyzer_same_speaker_scores_above_another_voice(beckett):
    from recipes.synthetic.espeak import espeak_library

    x, sr = beckett
    lib = espeak_library()
    other = lib.synth("Ever tried, ever failed. No matter. Try again, fail again, fail better.", "en-us+f2")
    enc = load_speaker_encoder("resemblyzer")
    first, second = enc.embed(x[: len(x) // 2], sr), enc.embed(x[len(x) // 2 :], sr)
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-4)
    assert cosine(first, second) > cosine(first, enc.embed(other, lib.sample_rate)) + 0.1


TINY_WAV2VEC = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(16, 16),
    conv_stride=(5, 4),
    conv_kernel=(10, 8),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
)


def test_hubert_backend_loads_a_local_checkpoint(tmp_path):
    import torch
    from transformers import (
        HubertConfig,
        HubertForCTC,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2Processor,
    )

    torch.manual_seed(0)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, **{c: i + 5 for i, c in enumerate("ABCDEFGH")}}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(tmp_path / "vocab.json"))
    Wav2Vec2Processor(feature_extractor=Wav2Vec2FeatureExtractor(), tokenizer=tokenizer).save_pretrained(tmp_path)
    HubertForCTC(HubertConfig(vocab_size=len(vocab), **TINY_WAV2VEC)).save_pretrained(tmp_path)
    asr = load_asr("hubert", model=str(tmp_path))
    text = asr.transcribe(np.random.default_rng(0).standard_normal(24000).astype(np.float32) * 0.1, 24000)
    assert isinstance(text, str) and set(text) <= set("ABCDEFGH ")


def test_wavlm_backend_loads_a_local_checkpoint(tmp_path):
    import torch
    from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMForXVector

    torch.manual_seed(0)
    cfg = WavLMConfig(tdnn_dim=(16, 16), tdnn_kernel=(3, 1), tdnn_dilation=(1, 1), xvector_output_dim=8, **TINY_WAV2VEC)
    WavLMForXVector(cfg).save_pretrained(tmp_path)
    Wav2Vec2FeatureExtractor().save_pretrained(tmp_path)
    enc = load_speaker_encoder("wavlm", model=str(tmp_path))
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(16000).astype(np.float32) * 0.1 for _ in range(2))
    ea, eb = enc.embed(a, 16000), enc.embed(b, 16000)
    assert ea.shape == (8,) and np.linalg.norm(ea) == pytest.approx(1.0, abs=1e-4)
    assert cosine(ea, enc.embed(a, 16000)) == pytest.approx(1.0, abs=1e-5)
    assert cosine(ea, eb) < 1.0 - 1e-4


def test_ecapa_backend_says_what_it_needs():
    try:
        import speechbrain  # noqa: F401
    except Exception:
        with pytest.raises(RuntimeError, match="needs speechbrain"):
            load_speaker_encoder("ecapa")
    else:
        pytest.skip("speechbrain is installed here; the missing-dependency message cannot be checked")


def test_unknown_backends():
    with pytest.raises(ValueError, match="unknown ASR backend"):
        load_asr("whisper")
    with pytest.raises(ValueError, match="unknown speaker-similarity backend"):
        load_speaker_encoder("xvector")
