"""g2p through espeak-ng and the frontend entry points (normalize -> phonemize -> ids)."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from latentlm_common.errors import InputError
from tts.text import PhonemeTokenizer, phonemize, prepare, text_to_ids, text_to_phonemes, texts_to_ids
from tts.text.g2p import phonemize_one


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


def test_reading_is_the_one_the_model_was_trained_on():
    """The IPA of 731 texts (punctuation runs, quotes, foreign words, the normalizer's outputs, the
    corpus's sentences) as phonemizer's espeak backend gave it before g2p called espeak-ng itself."""
    lines = (Path(__file__).parent / "data" / "g2p_reference.tsv").read_text(encoding="utf-8").splitlines()
    texts, expected = zip(*(line.split("\t") for line in lines if not line.startswith("#")))
    got = phonemize(list(texts))
    wrong = [(t, e, g) for t, e, g in zip(texts, expected, got) if e != g]
    assert not wrong, f"{len(wrong)} of {len(texts)} differ, first: {wrong[0]}"
    assert got[:20] == [phonemize_one(t) for t in texts[:20]]  # one call or one per text: the same


def test_threads_share_espeak_safely():
    """espeak-ng keeps one global state; the HTTP server phonemizes from several threads."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Sentence number {w}, said twice: {w}!" for w in "one two three four five six seven eight".split()] * 3
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(phonemize_one, texts)) == phonemize(texts)


def test_synthesis_elsewhere_in_the_process_does_not_change_the_reading():
    """The corpus builder's espeak-ng synthesis switches voices; g2p keeps its own library instance."""
    from recipes.synthetic.espeak import espeak_library

    before = phonemize_one("Doctor Smith paid five dollars.")
    espeak_library().synth("Hello there.", "en")  # British English: "dˈɒktə" if it leaked
    assert phonemize_one("Doctor Smith paid five dollars.") == before == "dˈɑːktɚ smˈɪθ pˈeɪd fˈaɪv dˈɑːlɚz."


def test_a_decimal_point_is_read_not_kept_as_punctuation():
    assert phonemize(["It was 3.5 km.", "Yes. 3. No"]) == [
        "ɪt wʌz θɹˈiː pɔɪnt fˈaɪv kˌeɪˈɛm.",
        "jˈɛs. θɹˈiː. nˈoʊ",
    ]


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


def test_control_characters_do_not_cut_the_text():
    """espeak-ng reads a C string: a NUL (piped text can hold one) used to end the text there."""
    assert prepare("Hello\x00world and\x07 more") == "Hello world and more"
    assert phonemize(["Hello\x00world"]) == [phonemize_one("Hello world")]


def test_emoji_inside_text_is_dropped_and_cjk_transliterated(tok):
    assert prepare("Hello 😀 你好!") == "Hello Ni Hao!"
    assert tok.unk_id not in text_to_ids("Hello 😀 你好!", tok)


def test_frontend_does_not_import_torch_or_joblib():
    """joblib (phonemizer's import) was 0.1-0.2 s of `say`."""
    code = (
        "import sys, tts.text, tts.cli.text; tts.text.text_to_phonemes('hi'); "
        "print([m for m in ('torch', 'joblib', 'phonemizer') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_num2words_is_imported_only_for_text_with_numbers():
    """It loads every language it knows (40 ms of `say`'s start), so plain text does without it."""
    code = (
        "import sys, tts.text; tts.text.text_to_phonemes('hi there'); print('num2words' in sys.modules); "
        "print(tts.text.normalize('1999'), 'num2words' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["False", "nineteen ninety-nine True"]
