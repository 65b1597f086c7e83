"""Grapheme-to-phoneme conversion: espeak-ng through `phonemizer`.

The espeak-ng library and its data come from the `espeakng-loader` wheel, so no system package
is needed. Output is IPA with primary/secondary stress marks (ˈ ˌ), the length mark (ː) and the
punctuation of the input kept (`phonemizer`'s default marks: ;:,.!?¡¿—…"«»“”(){}[]); words are
separated by one space. Language-switch flags such as "(fr)" are removed, so a foreign word is
read with English rules instead of leaking a flag into the phoneme string. IPA from the user's
lexicon (⟦...⟧ in normalized text, `tts.text.lexicon`) bypasses espeak-ng and is spliced in as is.

The backend is created on first use and then reused by the process (`_backend` is a cached
factory); creating it loads the shared library, which is too slow to repeat per call.
"""

from __future__ import annotations

import functools
import logging

from tts.text.lexicon import IPA_SPAN

LANGUAGE = "en-us"

log = logging.getLogger(__name__)


@functools.cache
def _backend(language: str = LANGUAGE):
    """The espeak-ng backend for `language`, created once per process."""
    import espeakng_loader
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    # phonemizer warns whenever espeak-ng joins words ("in the" -> "ɪnðə"), which is normal here
    quiet = logging.getLogger(f"{__name__}.phonemizer")
    quiet.setLevel(logging.ERROR)
    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    return EspeakBackend(
        language,
        preserve_punctuation=True,
        with_stress=True,
        language_switch="remove-flags",
        logger=quiet,
    )


def phonemize(texts: list[str], language: str = LANGUAGE) -> list[str]:
    """IPA for each text, in one call to espeak-ng (much faster than one call per text).

    Texts are expected to be normalized (numbers, symbols already spelled out, see
    `tts.text.normalize`); an empty text gives an empty string. A lexicon's ⟦ipa⟧ span is kept
    as its IPA, a word of its own.
    """
    pieces = [IPA_SPAN.split(t) for t in texts]  # odd pieces are ⟦ipa⟧ spans
    spoken = iter(_espeak([p for ps in pieces for p in ps[::2]], language))
    out = []
    for ps in pieces:  # a text piece keeps the spaces it had around it ("⟦ipa⟧." stays joined)
        words = [p[1:-1] if i % 2 else _spaced(p, next(spoken)) for i, p in enumerate(ps)]
        out.append(" ".join("".join(words).split()))
    return out


def _spaced(text: str, phonemes: str) -> str:
    if not phonemes:
        return " " if text[:1].isspace() or text[-1:].isspace() else ""
    return (" " if text[:1].isspace() else "") + phonemes + (" " if text[-1:].isspace() else "")


def _espeak(texts: list[str], language: str) -> list[str]:
    """espeak-ng's IPA for each text (no lexicon spans), in one call."""
    from phonemizer.separator import Separator

    lines = [" ".join(t.split()) for t in texts]  # a newline inside a text would split it in two
    todo = [i for i, line in enumerate(lines) if line]  # phonemizer drops empty lines, shifting the rest
    separator = Separator(phone="", syllable="", word=" ")
    done = (
        _backend(language).phonemize([lines[i] for i in todo], separator=separator, strip=True, njobs=1) if todo else []
    )
    if len(done) != len(todo):
        raise RuntimeError(f"espeak-ng returned {len(done)} results for {len(todo)} texts")
    out = [""] * len(texts)
    for i, phonemes in zip(todo, done):
        out[i] = phonemes
    return out


def phonemize_one(text: str, language: str = LANGUAGE) -> str:
    """IPA for one text (see `phonemize`)."""
    return phonemize([text], language)[0]
