"""Characters: what reaches the rules (`to_ascii`) and the final tidying (`tidy`).

Letters with accents from the Latin blocks are kept (espeak-ng reads "café" better than "cafe");
any other non-ASCII character is transliterated with `unidecode` (CJK, Cyrillic, Greek, ...).
Characters with no reading (emoji, most symbols) are dropped and the drop is logged as a warning.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from unidecode import unidecode

from tts.text.normalize.rules import Rewrite

log = logging.getLogger("tts.text.normalize")

KEEP = set("£€¥¢°₹")  # non-ASCII symbols the rules read
_REPLACE = {
    "×": " times ",
    "÷": " divided by ",
    "±": " plus or minus ",
    "−": "-",
    "№": " number ",
    "§": " section ",
    "¶": " paragraph ",
    "²": " squared ",
    "³": " cubed ",
}


def _is_latin_letter(ch: str) -> bool:
    return "\u00c0" <= ch <= "\u024f" and ch.isalpha()  # Latin-1 Supplement .. Latin Extended-B


def to_ascii(text: str, trace: list[Rewrite] | None = None) -> str:
    """Keep ASCII, Latin letters and the symbols read later; transliterate the rest (each
    change recorded in `trace` when given)."""
    out, dropped, transliterated = [], [], []
    for ch in unicodedata.normalize("NFC", text):
        if unicodedata.category(ch) == "Cc" and not ch.isspace():  # NUL, BEL, ...: a space
            out.append(" ")
        elif ch.isascii() or ch in KEEP or _is_latin_letter(ch):
            out.append(ch)
        elif ch in _REPLACE:
            out.append(_REPLACE[ch])
        else:
            out.append(unidecode(ch))
            if not out[-1].strip() and unicodedata.category(ch)[0] in "LNSP":
                dropped.append(ch)
            elif out[-1].strip() and ch.isalpha():
                transliterated.append(ch)
        if trace is not None and out[-1] != ch:
            trace.append(Rewrite("characters", ch, out[-1]))
    if dropped:
        log.warning("dropped characters that have no English reading: %s", "".join(dropped))
    if transliterated:
        log.warning("transliterated non-Latin characters to ASCII: %s", "".join(transliterated))
    return "".join(out)


def tidy(text: str) -> str:
    """Dashes to commas, drop markup and stray quotes, one space between words."""
    text = re.sub(r"-{2,}|(?<![A-Za-z0-9])-|-(?![A-Za-z0-9])", ", ", text)  # keeps in-word hyphens
    text = re.sub(r"[*_~^|\\<>`/]", " ", text)
    text = re.sub(r"(?<![A-Za-z])'|'(?![A-Za-z])", " ", text)  # quotes, not apostrophes
    text = " ".join(text.split())
    text = re.sub(r" (?=[,.;:!?)\]}])", "", text)
    text = re.sub(r"([,;:.!?])[,;:]+", r"\1", text)  # ",," left by a dash next to a comma
    text = re.sub(r"([,;:])(?=[A-Za-z])", r"\1 ", text)
    return re.sub(r"^[,;:.\s]+", "", text)
