"""Sentence splitting and phoneme-budget chunking: budgets hold, words are never cut or lost."""

import logging
import random
import re
import subprocess
import sys
import time

import pytest

from tts.text import phonemize, prepare, split_text
from tts.text.split import chunk_text, split_sentences

WORDS = (
    "the a of and to in is was he she it that for on with as his they at be this from I have or by one had not "
    "but what all were when we there can an your which their said if do will each about how up out them then "
    "many some so these would other into has more her two like him see time could no make than first been its "
    "who now people my made over did down only way find use may water long little very after words called just "
    "where most know get through back much before go good new write our used me man too any day same right look "
    "think also around another came come work three word must because does part even place well such here take "
    "why things help put years different away again off went old number great tell men say small every found "
    "still between name should home big give air line set own under read last never us left end along while "
    "might next sound below saw something thought both few those always looked show large often together asked "
    "house don't world going want school important until form food keep children feet land side without boy once"
).split()
EXTRAS = ["Dr. Smith", "$5.50", "3.5%", "7:30 p.m.", "1999", "the 21st", "5 km", "e.g.", "café", "well-known", "1/2"]


def generated_text(n_words: int, seed: int = 0) -> str:
    """Paragraphs of sentences of varied length, some very long without a full stop."""
    rng = random.Random(seed)
    paragraphs, sentences, count = [], [], 0
    while count < n_words:
        length = rng.choice([3, 8, 15, 25, 40, 400 if rng.random() < 0.02 else 20])
        words = [rng.choice(EXTRAS) if rng.random() < 0.05 else rng.choice(WORDS) for _ in range(length)]
        for i in range(5, length - 1, rng.randint(6, 12)):
            words[i] += rng.choice([",", ";", ":", ""])
        sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", '."']))
        count += length
        if rng.random() < 0.1:
            paragraphs.append(" ".join(sentences))
            sentences = []
    paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def test_sentences():
    text = 'Hello there. How are you?\nI am fine, thanks! "Quoted." Doctor Smith is here... yes.'
    assert split_sentences(text) == [
        "Hello there.",
        "How are you?",
        "I am fine, thanks!",
        '"Quoted."',
        "Doctor Smith is here... yes.",
    ]
    assert split_sentences("") == split_sentences("  \n\n ") == []


def test_short_sentences_are_packed_and_long_ones_cut_between_words():
    text = "One short sentence. Another one. " + " ".join(["word"] * 60) + ", and a tail end here."
    chunks = chunk_text(text, max_phonemes=60)
    assert " ".join(c.text for c in chunks).split() == text.split()
    assert chunks[0].text == "One short sentence. Another one."
    assert all(len(c.phonemes) <= 60 for c in chunks)
    assert len(chunks) > 3


def test_cuts_prefer_a_comma():
    text = "alpha beta gamma delta epsilon zeta, eta theta iota kappa lambda mu"
    chunks = chunk_text(text, max_phonemes=70)
    assert chunks[0].text == "alpha beta gamma delta epsilon zeta,"


def test_chunk_phonemes_are_the_phonemes_of_the_chunk_text():
    chunks = chunk_text("The cat sat. The dog ran far away from home.", max_phonemes=20)
    assert [c.phonemes for c in chunks] == phonemize([c.text for c in chunks])


def test_an_over_long_word_is_kept_whole_with_a_warning(caplog):
    text = "a supercalifragilisticexpialidocious day"
    with caplog.at_level(logging.WARNING, logger="tts.text.split"):
        chunks = chunk_text(text, max_phonemes=8)
    assert [c.text for c in chunks] == ["a", "supercalifragilisticexpialidocious", "day"]
    assert len(chunks[1].phonemes) > 8
    assert "kept whole" in caplog.text


def test_bad_budget_is_rejected():
    with pytest.raises(ValueError):
        chunk_text("hello", max_phonemes=0)


def test_twenty_thousand_words_are_split_and_phonemised_without_loss():
    raw = generated_text(20_000)
    normalized = prepare(raw)
    n_words = len(normalized.split())
    assert n_words >= 20_000
    start = time.perf_counter()
    chunks = chunk_text(normalized, max_phonemes=200)
    seconds = time.perf_counter() - start
    print(
        f"\nsplit + phonemise: {n_words} words, {len(chunks)} chunks, {seconds:.2f} s, "
        f"{1000 * seconds / n_words:.3f} s per 1000 words"
    )
    assert " ".join(c.text for c in chunks).split() == normalized.split()
    assert all(len(c.phonemes) <= 200 or len(c.text.split()) == 1 for c in chunks)
    assert all(c.phonemes.strip() for c in chunks)
    assert split_text(raw, max_phonemes=200) == chunks


def test_text_without_sentence_ends_is_cut_into_blocks_at_spaces():
    words = [f"w{'x' * (i % 7)}" for i in range(3000)]  # ~15,000 characters, no full stop
    text = " ".join(words)
    sentences = split_sentences(text)
    assert len(sentences) > 1
    assert " ".join(sentences).split() == words
    chunks = chunk_text(text, max_phonemes=50, phonemize=lambda texts: list(texts))  # length = characters
    assert " ".join(c.text for c in chunks).split() == words
    assert all(len(c.phonemes) <= 50 for c in chunks)


@pytest.mark.parametrize(
    "text",
    ['He said "go," and went.', "Wait — what?!", "One, two; three: four…", "a) one b) two", 'Go."', "x\ny z"],
)
def test_plain_sentences_skip_pysbd_with_the_same_result(text, monkeypatch):
    import tts.text.split as split

    fast = split_sentences(text)
    monkeypatch.setattr(split, "_ONE_SENTENCE", re.compile(r"(?!)"))  # matches nothing: pysbd for every block
    assert fast == split_sentences(text)


def test_a_one_sentence_text_does_not_import_pysbd():
    """pysbd's import and run were 40 ms of `say`."""
    code = (
        "import sys; from tts.text import split_text; split_text('Hello there, my friend.'); "
        "print('pysbd' in sys.modules); split_text('Dr. Who left. He came back.'); print('pysbd' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
