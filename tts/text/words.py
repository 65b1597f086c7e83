"""Word timestamps need two maps: which word of a chunk's text each symbol of its phoneme string
belongs to (`symbol_words`), and which word as the user wrote it each normalized word comes from
(`written_words`: "$3.50" -> "three dollars and fifty cents" is one written word).

espeak-ng joins some words when it reads a sentence ("on the" -> "ɔnðə") and reads a word in
context a little differently from alone, so a chunk's phoneme string is not a plain join of its
words' phonemes. Each word is phonemized alone (one espeak-ng call for the chunk), and a minimum
edit-distance alignment of those symbols to the chunk's symbols gives every chunk symbol the word
of the symbol it is matched or substituted with; symbols the alignment inserts take the word
before them. Written by hand: an edit-distance backtrace over two short strings, a dozen lines.
"""

from __future__ import annotations

import numpy as np

from tts.text.g2p import phonemize
from tts.text.lexicon import Lexicon
from tts.text.normalize import normalize
from tts.text.tokenizer import DIACRITICS, LETTERS

SOUNDS = frozenset(LETTERS + DIACRITICS)


def symbol_words(words: list[str], phonemes: str) -> list[int]:
    """Per symbol of `phonemes`: the index of its word in `words`, or -1 for a symbol that is not
    a sound (word boundary, punctuation, stress and length marks)."""
    ref, owner = [], []
    for k, p in enumerate(phonemize(words)):
        for ch in p:
            if ch in SOUNDS:
                ref.append(ch)
                owner.append(k)
    hyp = [i for i, ch in enumerate(phonemes) if ch in SOUNDS]
    out = [-1] * len(phonemes)
    if not ref:
        return out
    matched = _align([phonemes[i] for i in hyp], ref)
    last = 0
    for j, i in enumerate(hyp):
        last = owner[matched[j]] if matched[j] is not None else last
        out[i] = last
    return out


def _align(hyp: list[str], ref: list[str]) -> list[int | None]:
    """For each hyp symbol, the ref index it is matched or substituted with (None: inserted)."""
    n, m = len(hyp), len(ref)
    cost = np.zeros((n + 1, m + 1), np.int64)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + (hyp[i - 1] != ref[j - 1]), cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    out: list[int | None] = [None] * n
    i, j = n, m
    while i > 0 and j > 0:
        if cost[i, j] == cost[i - 1, j - 1] + (hyp[i - 1] != ref[j - 1]):
            out[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return out


def written_words(text: str, normalized: list[str], lexicon: Lexicon | None = None) -> list[tuple[str, int]] | None:
    """Per normalized word, (the written token it comes from, that token's index); None when they
    cannot be matched. Each whitespace-separated token of `text` is normalized alone, and when
    the word counts add up to `normalized`'s, the words are handed out in order. (A token can read
    differently alone than in its sentence, "Dr." or "a.m.", but not with another word count,
    except in rules that span tokens, such as some dates: those texts keep normalized words.)"""
    owners = []
    for j, token in enumerate(text.split()):
        owners += [(token, j)] * len(normalize(token, lexicon).split())
    return owners if len(owners) == len(normalized) else None
