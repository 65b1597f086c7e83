"""g2p through espeak-ng and the frontend entry points (normalize -> phonemize -> ids)."""

import logging
import subprocess
import sys

import pytest

from latentlm_common.errors import InputError
from tts.text import PhonemeTokenizer, phonemize, prepare, text_to_ids, text_to_phonemes, texts_to_ids
from tts.text.g2p import _backend, phonemize_one


@pytest.fixture(scope="module")
def tok():
    return PhonemeTokenizer()


def test_ipa_keeps_stress_and_punctuation():
    assert phonemize_one("Hello, world!") == "həlˈoʊ, wˈɜːld!"
    ipa = phonemize_one('He said: "no"; (maybe) yes?')
    for mark in ':";()?':
        assert mark in ipa
    assert "ˈ" in ipa


def test_batch_keeps_alignment_around_empty_texts():
    out = phonemize(["one", "", "   ", "two\nthree", "..."])
    assert out[0] == phonemize_one("one") and out[1] == out[2] == ""
    assert out[3] == phonemize_one("two three")
    assert len(out) == 5 and phonemize([]) == []


def test_backend_is_created_once():
    phonemize_one("a")
    assert _backend() is _backend()


def test_text_to_ids_matches_its_steps(tok):
    normalized, ipa = text_to_phonemes("Dr. Smith paid $5.")
    assert normalized == "Doctor Smith paid five dollars."
    assert ipa == phonemize_one(normalized)
    assert text_to_ids("Dr. Smith paid $5.", tok) == tok.encode(ipa)


def test_batched_ids_equal_one_by_one(tok):
    texts = ["The 3 cats.", "It's 7:30 p.m.!", "Café au lait, e.g. in Zürich."]
    assert texts_to_ids(texts, tok) == [text_to_ids(t, tok) for t in texts]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_an_input_error(text, tok):
    with pytest.raises(InputError, match="^text is empty$"):
        text_to_ids(text, tok)


def test_batch_error_names_the_bad_text(tok):
    with pytest.raises(InputError, match="text 2 of 3 is empty"):
        texts_to_ids(["one", " ", "three"], tok)


def test_emoji_only_text_has_nothing_to_pronounce(caplog):
    with caplog.at_level(logging.WARNING):
        with pytest.raises(InputError, match="nothing to pronounce"):
            prepare("😀 🎉 !!")
    assert "😀" in caplog.text


def test_emoji_inside_text_is_dropped_and_cjk_transliterated(tok):
    assert prepare("Hello 😀 你好!") == "Hello Ni Hao!"
    assert tok.unk_id not in text_to_ids("Hello 😀 你好!", tok)


def test_frontend_does_not_import_torch():
    code = "import sys, tts.text, tts.cli.text; tts.text.text_to_phonemes('hi'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_num2words_is_imported_only_for_text_with_numbers():
    """It loads every language it knows (40 ms of `say`'s start), so plain text does without it."""
    code = (
        "import sys, tts.text; tts.text.text_to_phonemes('hi there'); print('num2words' in sys.modules); "
        "print(tts.text.normalize('1999'), 'num2words' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["False", "nineteen ninety-nine True"]
