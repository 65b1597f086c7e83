"""Words in capitals: Roman numerals and acronyms.

- A Roman numeral after a heading word (Chapter, Book, Part, Volume, Act, Scene, Section,
  Article, Appendix, Canto, Psalm, Episode, Phase, Stage, Level, War, Bowl, Apollo) is a
  cardinal: "Chapter IV" -> "Chapter four", "World War II" -> "World War two".
- A numeral of I, V and X after a capitalised name is regnal: "Henry VIII" -> "Henry the
  Eighth", "Pope John XXIII" -> "Pope John the Twenty-third". A lone "I" counts only after a
  monarch's or pope's name ("Elizabeth I"), since "Then I" is the pronoun.
- An acronym of two to five capitals is spelled letter by letter ("FBI" -> "F B I", "the BBC's"
  -> "the B B C's") when it has three letters or fewer, or no vowel, or is in SPELLED; one read
  as a word (NASA, NATO, ...) stays. Common words in capitals (OK, NO, THE, ...), AM/PM, and
  any word in a run of capitals (a shouted line, a heading) are left alone.
"""

from __future__ import annotations

import re

from tts.text.normalize.rules import Rule, rule
from tts.text.normalize.spoken import cardinal, is_roman, ordinal, roman

_HEADINGS = (
    "Chapter|Book|Part|Volume|Vol|Act|Scene|Section|Article|Appendix|Canto|Psalm|Episode|Phase|Stage|Level|War|Bowl"
    "|Apollo|Type|Class|Grade|Round|Title|Unit|Form|Vatican"
)
_MONARCHS = (
    "Henry|Edward|George|William|Charles|James|Elizabeth|Mary|Richard|Louis|Philip|Peter|John|Paul|Pius|Leo|Gregory"
    "|Benedict|Frederick|Catherine|Napoleon|Alexander|Nicholas|Ivan|Victoria|Anne|Stephen|Ferdinand|Isabella|Clement"
    "|Urban|Innocent|Boniface|Alfonso|Carlos|Juan|Gustav|Olaf|Harald|Constantine|Justinian|Otto|Wilhelm|Franz|Joseph"
    "|Malcolm|Robert|David|Ramesses|Rameses|Francis|Sixtus|Julius|Alexios|Manuel|Haakon|Christian|Umberto|Selim"
)
_WORDS = frozenset(
    "A I AM PM OK NO GO SO OH HI MY BE WE HE ME DO UP TO OF IN ON AT BY IS IT AN OR IF AS THE AND YOU NOT BUT FOR"
    " ALL YES NOW OUT WHO HOW WHY CAN GET HER HIS OUR SHE WAS HAS HAD ARE ONE TWO SEE SAW MAN MEN BOY RUN OFF TOO"
    " BIG BAD NEW OLD DAY WAY GOD SIR END ART ITS LET PUT SAY SET AGO ANY FEW GOT HIM OWN TRY USE WAR WIN YET".split()
)
WORD_ACRONYMS = frozenset(
    "NASA NATO UNESCO UNICEF OPEC FIFA NAFTA ASEAN AIDS COVID LASER RADAR SCUBA SWAT GIF JPEG PIN RAM ROM SIM"
    " WAN LAN ASCII OSHA FEMA NOAA ZIP".split()
)
SPELLED = frozenset("USSR IEEE NAACP OECD NCAA UEFA AARP".split())


def _heading(m: re.Match) -> str:
    if not is_roman(m.group(2)):
        return m.group(0)
    return f"{m.group(1)}{cardinal(str(roman(m.group(2))))}"


def _regnal(m: re.Match) -> str:
    numeral = m.group(2)
    if not is_roman(numeral) or numeral == "I" and not re.search(rf"\b(?:{_MONARCHS})\s+$", m.group(1)):
        return m.group(0)
    return f"{m.group(1)}the {ordinal(str(roman(numeral))).capitalize()}"


def _shouted(m: re.Match) -> bool:
    """A neighbouring word is a common word in capitals: the acronym is part of a shouted run."""
    left = re.search(r"\b([A-Z]{2,})\s+$", m.string[max(0, m.start() - 12) : m.start()])
    right = re.match(r"\s+([A-Z]{2,})\b", m.string[m.end() : m.end() + 12])
    return any(x is not None and x.group(1) in _WORDS for x in (left, right))


def _acronym(m: re.Match) -> str:
    word, suffix = m.group(1), m.group(2) or ""
    if word in _WORDS or word in WORD_ACRONYMS or _shouted(m):
        return m.group(0)
    if word in SPELLED or len(word) <= 3 or not re.search(r"[AEIOUY]", word):
        return " ".join(word) + suffix
    return m.group(0)


RULES: list[Rule] = [
    rule("roman.heading", rf"(\b(?i:{_HEADINGS})\.?\s+)([IVXLCDM]+|[ivxlc]+)\b(?!')", _heading),
    rule("roman.regnal", r"(\b[A-Z][a-z]+\s+)([IVX]+)\b(?![a-z'])", _regnal),
    rule("acronym", r"\b([A-Z]{2,5})('s|s)?\b", _acronym),
]
