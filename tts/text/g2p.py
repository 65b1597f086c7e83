"""Grapheme-to-phoneme conversion: espeak-ng's IPA, called through ctypes.

The espeak-ng library and its data come from the `espeakng-loader` wheel, so no system package
is needed. Output is IPA with primary/secondary stress marks (ˈ ˌ), the length mark (ː) and the
punctuation of the input kept (`tts.text.tokenizer.PUNCTUATION`); words are separated by one
space. Language-switch flags such as "(fr)" are removed, the word itself is kept as espeak-ng
reads it. IPA from the user's lexicon (⟦...⟧ in normalized text, `tts.text.lexicon`) bypasses
espeak-ng and is spliced in as is.

How a text is read: it is cut at its runs of punctuation (with the spaces around them); each
piece between goes to espeak-ng on its own (`espeak_TextToPhonemes`, clause by clause), and the
runs are put back between the pieces' IPA. A "." or "," between two digits is not punctuation
("3.5" is read "three point five"). This is what the `phonemizer` package's espeak backend does
(preserve_punctuation, with_stress, language_switch="remove-flags"), which the bundled model's
training data was phonemized with; tests/data/g2p_reference.tsv holds its output for a few
hundred texts and `tests/test_text_frontend.py` checks that this module still gives it.
Hand-written rather than through `phonemizer`: importing that package (it loads joblib) took
0.1-0.2 s of the one second `latentlm-tts say` has.

espeak-ng keeps one global state, voice included. This module loads a private copy of the library
once per process, on first use (as phonemizer does), so other users of espeak-ng in the process
(the synthetic corpus's synthesis, which switches voices) cannot change its voice; its calls are
serialised by a lock. One language: English, which the phoneme vocabulary of `tts.text.tokenizer`
is made for.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import shutil
import tempfile
import threading

from tts.text.lexicon import IPA_SPAN
from tts.text.tokenizer import PUNCTUATION

LANGUAGE = "en-us"

_OTHER_MARKS = re.escape("".join(m for m in PUNCTUATION if m not in ",."))
# runs of marks with the spaces around them; "." and "," count only when not between digits
_PUNCTUATION_RUN = re.compile(rf"(\s*(?:[{_OTHER_MARKS}]|(?<![0-9])[,.]|[,.](?![0-9]))+\s*)+")
_FLAG = re.compile(r"\(.+?\)")  # espeak-ng's language-switch flags: "(fr)", "(en)"

_TEXT_UTF8 = 1  # espeakCHARS_UTF8
_IPA_WITH_SEPARATOR = ord("_") << 8 | 0x02  # IPA, phonemes separated by "_" (removed below)
_SYNCHRONOUS = 0x02  # AUDIO_OUTPUT_SYNCHRONOUS: no audio device is opened
_lock = threading.Lock()


class _Espeak:
    """A private instance of the espeak-ng library, initialised with the wheel's data and set to
    `LANGUAGE`'s voice."""

    def __init__(self):
        import espeakng_loader

        lib = _private_library(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        data = espeakng_loader.get_data_path()
        if lib.espeak_Initialize(_SYNCHRONOUS, 0, data.encode(), 0) <= 0:
            raise RuntimeError(f"espeak-ng could not start with its data at {data}")
        if lib.espeak_SetVoiceByName(LANGUAGE.encode()) != 0:
            raise RuntimeError(f"espeak-ng has no voice for language {LANGUAGE!r}")
        self.lib = lib

    def ipa(self, text: str) -> str:
        """The IPA of a text without punctuation marks: its clauses' IPA, flags and separators removed."""
        if not text:
            return ""
        pointer = ctypes.pointer(ctypes.c_char_p(text.encode()))
        clauses = []
        while pointer.contents.value is not None:  # each call reads one clause and moves the pointer on
            clauses.append((self.lib.espeak_TextToPhonemes(pointer, _TEXT_UTF8, _IPA_WITH_SEPARATOR) or b"").decode())
        return " ".join(_FLAG.sub("", " ".join(clauses)).replace("_", "").split())


def _private_library(path: str) -> ctypes.CDLL:
    """The library loaded from a copy of its file: the dynamic loader shares one instance per file."""
    folder = tempfile.mkdtemp(prefix="latentlm-espeak-")
    copy = shutil.copy(path, folder)
    try:
        return ctypes.CDLL(copy)
    finally:  # the loaded mapping outlives the file on POSIX; Windows keeps the file until exit
        try:
            os.remove(copy)
            os.rmdir(folder)
        except OSError:
            pass


@functools.cache
def _espeak() -> _Espeak:
    """The library, loaded once per process (one voice: espeak-ng keeps a single global state)."""
    return _Espeak()


def phonemize(texts: list[str]) -> list[str]:
    """IPA for each text (see the module docstring).

    Texts are expected to be normalized (numbers, symbols already spelled out, see
    `tts.text.normalize`); an empty text gives an empty string. A lexicon's ⟦ipa⟧ span is kept
    as its IPA, a word of its own.
    """
    out = []
    with _lock:
        espeak = _espeak()
        for text in texts:  # a text piece keeps the spaces it had around it ("⟦ipa⟧." stays joined)
            pieces = IPA_SPAN.split(text)  # odd pieces are ⟦ipa⟧ spans
            words = [p[1:-1] if i % 2 else _spaced(p, _read(espeak, p)) for i, p in enumerate(pieces)]
            out.append(" ".join("".join(words).split()))
    return out


def _read(espeak: _Espeak, text: str) -> str:
    """`text`'s IPA with its punctuation runs kept between the pieces espeak-ng reads."""
    text, parts, start = " ".join(text.replace("\0", " ").split()), [], 0  # a C string ends at NUL
    for run in _PUNCTUATION_RUN.finditer(text):
        parts += [espeak.ipa(text[start : run.start()]), run.group()]
        start = run.end()
    parts.append(espeak.ipa(text[start:]))
    return "".join(parts)  # single spaces already: the pieces' IPA is stripped, the runs keep the text's


def _spaced(text: str, phonemes: str) -> str:
    if not phonemes:
        return " " if text[:1].isspace() or text[-1:].isspace() else ""
    return (" " if text[:1].isspace() else "") + phonemes + (" " if text[-1:].isspace() else "")


def phonemize_one(text: str) -> str:
    """IPA for one text (see `phonemize`)."""
    return phonemize([text])[0]
