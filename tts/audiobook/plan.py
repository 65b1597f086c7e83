"""Turn a parsed book into the list of chunks to synthesise, each with a content key and a seed.

A chunk's key hashes its text together with everything else that decides its audio (model,
voice, sampler settings). A finished chunk is stored under its key, so a rerun skips it, and an
edited book re-synthesises only the chunks whose text changed. The seed of a chunk is derived
from the book seed and its key, so it does not depend on the chunk's place in the book or batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from latentlm_common.jobs import digest, length_batches
from tts.audiobook.document import Book

TITLE = -1  # paragraph index of a chapter title


@dataclass(frozen=True)
class Chunk:
    chapter: int  # index into Book.chapters
    paragraph: int  # index into Chapter.paragraphs, or TITLE
    text: str  # normalised text given to the model
    key: str  # content hash (text + settings)
    seed: int


def plan_chunks(
    book: Book, split: Callable[[str], list[str]], settings: dict, seed: int
) -> tuple[list[Chunk], list[str]]:
    """Split every title and paragraph with `split` (normalise + chunk) in reading order.

    Returns the chunks and the texts that `split` found nothing to speak in (a line of "* * *",
    say), so they can be listed rather than lost without a word.
    """
    chunks, unspoken = [], []
    for c, chapter in enumerate(book.chapters):
        pieces = [(TITLE, chapter.title)] + list(enumerate(chapter.paragraphs))
        for p, text in pieces:
            parts = split(text)
            if not parts:
                unspoken.append(text)
            for piece in parts:
                key = digest({"text": piece, "settings": settings})
                chunk_seed = int(digest({"seed": seed, "key": key}), 16) % (2**31)
                chunks.append(Chunk(c, p, piece, key, chunk_seed))
    return chunks, unspoken


def batches(chunks: list[Chunk], batch_size: int) -> list[list[Chunk]]:
    """Unique chunks sorted by length, cut into batches.

    The grouping depends only on the set of chunks, never on which are already done, so a
    resumed run synthesises each batch with exactly the composition an uninterrupted run used.
    """
    unique = {c.key: c for c in chunks}
    return length_batches(list(unique.values()), batch_size, lambda c: (len(c.text), c.key))
