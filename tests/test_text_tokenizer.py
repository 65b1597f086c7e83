"""Phoneme tokenizer: fixed special ids, exact round trip, <unk> with a warning, checkpoint storage."""

import json
import logging

import pytest

from latentlm_common.errors import InputError
from tts.text import phonemize
from tts.text.tokenizer import SPECIALS, PhonemeTokenizer


@pytest.fixture
def tok():
    return PhonemeTokenizer()


def test_special_ids_are_fixed(tok):
    assert (tok.pad_id, tok.unk_id, tok.bos_id, tok.voice_id) == (0, 1, 2, 3)
    assert (tok.voice_end_id, tok.text_id, tok.text_end_id, tok.speech_id) == (4, 5, 6, 7)
    assert tok.decode(list(range(8))) == "".join(SPECIALS)
    assert len(tok) == len(tok.tokens) > 100


def test_round_trip_is_exact_and_one_token_per_code_point(tok):
    ipa = "həlˈoʊ, wˈɜːld! dʒˈʌdʒ kwˈɑːsɑ̃ (ɹˈɪðəm)?"
    ids = tok.encode(ipa)
    assert tok.unk_id not in ids and min(ids) >= len(SPECIALS)
    assert len(ids) == len(ipa)
    assert tok.decode(ids) == ipa


def test_espeak_output_for_varied_english_is_fully_covered(tok):
    sentences = [
        "The quick brown fox jumps over the lazy dog; it's a classic pangram!",
        "Judge the church's rhythm: measure, pleasure, thing, sing, and vision.",
        'Would you, could you, in a house? "Yes," said Sam (quietly)... why not?',
        "Bergsten's croissant, a rendezvous in Zürich, and a naïve façade in Utrecht.",
        "button, bottle, little, uh-oh, hmm, bathe, thy, azure, loch, genre",
    ]
    for ipa in phonemize(sentences):
        assert tok.unk_id not in tok.encode(ipa), ipa


def test_unknown_symbol_becomes_unk_and_warns_once(tok, caplog):
    with caplog.at_level(logging.WARNING, logger="tts.text.tokenizer"):
        ids = tok.encode("a你b你")
        tok.encode("你")
    assert ids == [tok.encode("a")[0], tok.unk_id, tok.encode("b")[0], tok.unk_id]
    assert len(ids) == 4  # nothing dropped
    assert caplog.text.count("U+4F60") == 1


def test_no_specials_are_added(tok):
    assert tok.encode("") == []
    assert tok.encode("a") == [tok.tokens.index("a")]


def test_to_dict_from_dict_through_json(tok):
    restored = PhonemeTokenizer.from_dict(json.loads(json.dumps(tok.to_dict())))
    assert restored.tokens == tok.tokens
    ipa = "ðə kwˈɪk bɹˈaʊn fˈɑːks."
    assert restored.encode(ipa) == tok.encode(ipa)


def test_from_dict_keeps_a_stored_vocabulary_as_saved():
    saved = {"type": "phoneme", "tokens": [*SPECIALS, " ", "a", "b"]}
    small = PhonemeTokenizer.from_dict(saved)
    assert len(small) == 11
    assert small.encode("ab c") == [9, 10, 8, small.unk_id]


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"type": "bpe", "tokens": []},
        {"type": "phoneme", "tokens": ["a", "b"]},
        {"type": "phoneme", "tokens": [*SPECIALS, "a", "a"]},
        ["not", "a", "dict"],
    ],
)
def test_from_dict_rejects_bad_configs(bad):
    with pytest.raises(InputError):
        PhonemeTokenizer.from_dict(bad)


def test_decode_rejects_ids_outside_the_vocabulary(tok):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([len(tok)])
    assert tok.decode([tok.bos_id, *tok.encode("a"), tok.speech_id], skip_special=True) == "a"
