"""Split long normalized text into sentences, then into chunks bounded by a phoneme budget.

`chunk_text(text, max_phonemes)` returns `Chunk`s whose phoneme strings are at most
`max_phonemes` symbols long (one symbol = one token of `PhonemeTokenizer`, stress marks,
spaces and punctuation included). Whole sentences are packed together while they fit; a
sentence over the budget is cut between words, preferably after a comma, semicolon or colon.
A cut never falls inside a word, so a single word whose phonemes alone exceed the budget
becomes a chunk of its own that is over the budget (logged as a warning) rather than being
cut or dropped. Every word of the input appears in exactly one chunk, in order.

pysbd's run time grows with the square of its input's length, so the text is first cut into
blocks of about `BLOCK_CHARS` characters at paragraph breaks and likely sentence ends (or, in
text without any, at a space), and pysbd segments each block.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tts.text import g2p

log = logging.getLogger(__name__)

DEFAULT_MAX_PHONEMES = 300  # about 15-20 s of speech: 300 symbols hold ~230 phonemes, ~1 frame each at 15 Hz
BLOCK_CHARS = 2000
_LIKELY_END = re.compile(r"[.!?][\"')\]]*\s+")
_PAUSE_END = ",;:)"
# text pysbd keeps whole: words, spaces and inner , ; : quotes and dashes, with end marks only at the end
_ONE_SENTENCE = re.compile(r"[\w ,;:'\"’‘“”«»—–-]*[.!?…]*[\"'’”»]*\s*")

Phonemize = Callable[[list[str]], list[str]]


@dataclass
class Chunk:
    text: str  # normalized words
    phonemes: str  # IPA; len(phonemes) is its token count


@functools.lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _blocks(paragraph: str) -> Iterator[str]:
    """Pieces of about BLOCK_CHARS, cut after a likely sentence end, else at a space."""
    while len(paragraph) > 2 * BLOCK_CHARS:
        ends = [m.end() for m in _LIKELY_END.finditer(paragraph, BLOCK_CHARS, 2 * BLOCK_CHARS)]
        cut = ends[0] if ends else paragraph.rfind(" ", 0, 2 * BLOCK_CHARS) + 1
        if cut <= 0:  # no space at all: one enormous word, leave it whole
            break
        yield paragraph[:cut]
        paragraph = paragraph[cut:]
    yield paragraph


def _segment(block: str) -> list[str]:
    """pysbd's sentences of `block`, with every boundary moved to a space (pysbd may split '."').
    A block that is plainly one sentence skips pysbd (its import and run are 40 ms of `say`)."""
    if _ONE_SENTENCE.fullmatch(block):
        return [block]
    pieces = _segmenter().segment(block)
    if "".join(pieces) != block:  # pysbd keeps every character with clean=False; never lose text
        return [block]
    cuts, end = [0], 0
    for piece in pieces[:-1]:
        end += len(piece)
        pos = max(end, cuts[-1])
        while pos < len(block) and not block[pos - 1].isspace() and not block[pos].isspace():
            pos += 1
        cuts.append(pos)
    return [block[a:b] for a, b in zip(cuts, cuts[1:] + [len(block)])]


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, each on one line with single spaces; blank input gives []."""
    sentences = []
    for paragraph in re.split(r"\n\s*\n", text):
        for block in _blocks(paragraph):
            for sentence in _segment(block) if block.strip() else []:
                if sentence.strip():
                    sentences.append(" ".join(sentence.split()))
    return sentences


def _pause_cut(group: list[tuple[str, int]]) -> int:
    """Where to end `group`: after its last clause-ending word in the second half, else at its end."""
    for i in range(len(group) - 1, len(group) // 2 - 1, -1):
        if group[i][0][-1] in _PAUSE_END:
            return i + 1
    return len(group)


def _group_words(words: list[str], costs: list[int], budget: int) -> list[str]:
    """Greedy: texts of consecutive words whose estimated cost fits the budget."""
    groups, current = [], []
    for word, cost in zip(words, costs):
        while current and sum(c for _, c in current) + cost > budget:
            cut = _pause_cut(current)
            groups.append(" ".join(w for w, _ in current[:cut]))
            current = current[cut:]
        current.append((word, cost))
    groups.append(" ".join(w for w, _ in current))
    return groups


def _cut(texts: list[str], budget: int, phonemize: Phonemize) -> list[list[str]]:
    """Each over-budget text as shorter texts, cut between words by per-word phoneme estimates."""
    words = sorted({w for t in texts for w in t.split()})
    cost = {w: len(p) + 1 for w, p in zip(words, phonemize(words))}  # +1: the space after it
    out = []
    for text in texts:
        pieces = _group_words(text.split(), [cost[w] for w in text.split()], budget)
        if len(pieces) == 1:  # the estimate was too low: halve instead
            ws = text.split()
            pieces = [" ".join(ws[: len(ws) // 2]), " ".join(ws[len(ws) // 2 :])]
        out.append(pieces)
    return out


def _fit_each(texts: list[str], budget: int, phonemize: Phonemize) -> list[list[Chunk]]:
    """For each text, its chunks of at most `budget` phonemes (only a single word may exceed it)."""
    phonemes = phonemize(texts)
    out = [[Chunk(t, p)] for t, p in zip(texts, phonemes)]
    too_long = [i for i, p in enumerate(phonemes) if len(p) > budget]
    several = [i for i in too_long if len(texts[i].split()) > 1]
    for i in sorted(set(too_long) - set(several)):
        log.warning("%r has %d phonemes, over the chunk budget of %d; kept whole", texts[i], len(phonemes[i]), budget)
    if several:
        pieces = _cut([texts[i] for i in several], budget, phonemize)
        fitted = iter(_fit_each([p for ps in pieces for p in ps], budget, phonemize))
        for i, ps in zip(several, pieces):
            out[i] = [chunk for _ in ps for chunk in next(fitted)]
    return out


def _merge(chunks: list[Chunk], budget: int) -> list[Chunk]:
    """Join neighbouring chunks while the result stays within the budget."""
    out: list[Chunk] = []
    for chunk in chunks:
        if out and len(out[-1].phonemes) + 1 + len(chunk.phonemes) <= budget:
            out[-1] = Chunk(f"{out[-1].text} {chunk.text}", f"{out[-1].phonemes} {chunk.phonemes}".strip())
        else:
            out.append(chunk)
    return out


def chunk_text(
    text: str, max_phonemes: int = DEFAULT_MAX_PHONEMES, phonemize: Phonemize = g2p.phonemize
) -> list[Chunk]:
    """Normalized `text` as chunks of whole sentences or, for long sentences, runs of whole words.

    Each chunk's phonemes are at most `max_phonemes` symbols, except a single word longer than
    that (kept whole, with a warning). Blank text gives [].
    """
    if max_phonemes < 1:
        raise ValueError(f"max_phonemes must be at least 1, got {max_phonemes}")
    sentences = split_sentences(text)
    return _merge([c for cs in _fit_each(sentences, max_phonemes, phonemize) for c in cs], max_phonemes)
