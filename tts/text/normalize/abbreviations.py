"""Titles and abbreviations: "Dr. Watson" -> "Doctor Watson", "Baker St." -> "Baker Street".

Context rules for the ambiguous ones:
- A title ("Prof.", "Gen.", "Capt.", ...) is expanded only before a capitalised name.
- "St." and "Dr." right after a capitalised word that does not open its sentence, or after a
  number ("Baker St.", "42nd St.", "Mulholland Dr."), are Street and Drive; otherwise, before a
  capitalised word, they are Saint and Doctor ("St. Paul", "Dr. Watson"); otherwise Street and
  Drive.
- Letters with dots ("U.S.", "Ph.D.") are spelled letter by letter ("U S", "P H D").
"""

from __future__ import annotations

import re

from tts.text.normalize.rules import Rule, rule, sentence_end

TITLES = {
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Prof": "Professor",
    "Capt": "Captain",
    "Gen": "General",
    "Lt": "Lieutenant",
    "Col": "Colonel",
    "Sgt": "Sergeant",
    "Cpl": "Corporal",
    "Pvt": "Private",
    "Maj": "Major",
    "Adm": "Admiral",
    "Cmdr": "Commander",
    "Rev": "Reverend",
    "Fr": "Father",
    "Sen": "Senator",
    "Rep": "Representative",
    "Gov": "Governor",
    "Pres": "President",
    "Hon": "Honorable",
    "Insp": "Inspector",
    "Supt": "Superintendent",
    "Messrs": "Messieurs",
    "Mme": "Madame",
    "Mlle": "Mademoiselle",
    "Mt": "Mount",
    "Ft": "Fort",
}
# (pattern, spoken form, may end a sentence)
_ABBREVIATIONS = [
    (r"\be\.g\.", "for example", False),
    (r"\bi\.e\.", "that is", False),
    (r"\betc\.", "et cetera", True),
    (r"\bvs\.?(?!\w)", "versus", False),
    (r"\b[Nn]o\.(?=\s?\d)", "number", False),
    (r"\b[Nn]os\.(?=\s?\d)", "numbers", False),
    (r"\bpp\.(?=\s?\d)", "pages", False),
    (r"\bp\.(?=\s?\d)", "page", False),
    (r"\b[Vv]ol\.(?=\s?[\dIVXLC])", "volume", False),
    (r"\b[Cc]h\.(?=\s?[\dIVXLC])", "chapter", False),
    (r"\b(?:c|ca)\.(?=\s?\d)", "circa", False),
    (r"\bext\.(?=\s?\d)", "extension", False),
    (r"\bapprox\.", "approximately", False),
    (r"~\s?(?=\d)", "about ", False),
    (r"\bJr\.?(?!\w)", "Junior", True),
    (r"\bSr\.(?!\w)", "Senior", True),
    (r"\bEsq\.", "Esquire", True),
    (r"\bInc\.", "Incorporated", True),
    (r"\bLtd\.", "Limited", True),
    (r"\bCorp\.", "Corporation", True),
    (r"\bCo\.(?=\s+[a-z]|\s*$)", "Company", True),
    (r"\bDept\.", "Department", True),
    (r"\bAve\.", "Avenue", True),
    (r"\bBlvd\.", "Boulevard", True),
    (r"\bRd\.", "Road", True),
    (r"\bFig\.", "Figure", False),
    (r"\bPh\.\s?D\.", "P H D", True),
]
_WORD_BEFORE = re.compile(r"(?:^|([.!?][\"')]*)?\s+)([A-Z][a-z]+|\d+[A-Za-z]*)\s+$")


def _after_street_name(m: re.Match) -> bool:
    """A capitalised word that does not open its sentence, or a number, right before the match."""
    start = max(0, m.start() - 60)
    w = _WORD_BEFORE.search(m.string[start : m.start()])
    if w is None:
        return False
    opens_sentence = w.group(1) is not None or (w.start(2) == 0 and start == 0)
    return w.group(2)[0].isdigit() or not opens_sentence


def _street_or_person(m: re.Match) -> str:
    street, person = {"St": ("Street", "Saint"), "Dr": ("Drive", "Doctor")}[m.group(1)]
    on_street, dot = _after_street_name(m), m.group(2) or ""
    if not on_street and re.match(r"\s+[A-Z]", m.string[m.end() : m.end() + 2]):
        return person
    if not dot and not on_street:
        return m.group(0)  # a bare "St" with nothing to go by
    return street + (sentence_end(m) if dot else "")


def _spoken(spoken: str, may_end: bool):
    return lambda m: spoken + (sentence_end(m) if may_end else "")


def _initials(m: re.Match) -> str:
    """'U.S.' -> 'U S'; the last period stays only at the end of the text ("the U.S. Navy")."""
    return " ".join(m.group(0).replace(".", "")) + ("." if not m.string[m.end() :].strip() else "")


RULES: list[Rule] = [
    rule("abbreviation.title", rf"\b({'|'.join(TITLES)})\.(?=\s+[A-Z])", lambda m: TITLES[m.group(1)]),
    rule("abbreviation.title", r"\b(Mr|Mrs|Ms)(?=\s+[A-Z])", lambda m: TITLES[m.group(1)]),
    rule("abbreviation.street_or_saint", r"\b(St|Dr)(\.)?(?=\s|$|[,;:!?])", _street_or_person),
    *(rule("abbreviation", p, _spoken(s, e)) for p, s, e in _ABBREVIATIONS),
    rule("abbreviation.initials", r"\b(?:[A-Z]\.){2,}", _initials),
]
