"""Numbers left after the rules for dates, money and units: ordinals, years, decades, fractions,
ranges and scores, and plain cardinals and decimals.

Years against cardinals (a four-digit number without a thousands comma):
- after in/since/by/until/till/before/after/from/circa/around, or before AD/BC/CE/BCE, a number
  from 1000 to 2099 is a year ("in 1066" -> "in ten sixty-six");
- before a plural noun it is a count ("1066 soldiers", "1200 men": inflect's guess of a plural);
- otherwise 1100 to 2099 is a year ("1999" -> "nineteen ninety-nine"): write "1,999" for the count.
"N-M" and "N–M" between digits is a range or a score, read "N to M" ("won 3-1" -> "won three to one").
"""

from __future__ import annotations

import re

from tts.text.normalize.rules import Rule, after, rule
from tts.text.normalize.spoken import NUMBER, cardinal, decimal, fraction, is_plural_noun, ordinal, plural, signed, year

_YEAR_CUE = r"\b(?:[Ii]n|[Ss]ince|[Bb]y|[Uu]ntil|[Tt]ill|[Bb]efore|[Aa]fter|[Ff]rom|[Cc]irca|[Aa]round)"
_ERA = {"AD": "A D", "BC": "B C", "CE": "C E", "BCE": "B C E", "A.D.": "A D", "B.C.": "B C"}


def _counts(m: re.Match) -> bool:
    """The number is followed by a plural noun ("1066 soldiers")."""
    word = re.match(r"\s+([a-z]+)", after(m, 30))
    return word is not None and is_plural_noun(word.group(1))


def _cued_year(m: re.Match) -> str:
    n = int(m.group(2))
    if not 1000 <= n <= 2099 or _counts(m):
        return m.group(0)
    return f"{m.group(1)}{year(n)}"


def _era(m: re.Match) -> str:
    n, era = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    words = year(int(n)) if len(n) > 2 else cardinal(n)
    return f"{words} {_ERA[era]}" if m.group(1) else f"{_ERA[era]} {words}"


def _decade(m: re.Match) -> str:
    number = m.group(1)
    words = year(int(number)) if len(number) == 4 else cardinal(number)
    head, _, last = words.rpartition(" ")
    first, dash, tens = last.rpartition("-")
    return f"{head} {first}{dash}{plural(tens)}".strip()


def _number(m: re.Match) -> str:
    sign, number = m.groups()
    if re.fullmatch(r"\d{4}", number) and 1100 <= int(number) <= 2099 and not sign and not _counts(m):
        words = year(int(number))
    else:
        words = signed(sign, decimal(number))
    before, next_ = m.string[m.start() - 1 : m.start()], m.string[m.end() : m.end() + 1]
    return (" " if before.isalpha() else "") + words + (" " if next_.isalpha() else "")


_ERA_WORD = r"(AD|BC|BCE|CE|A\.D\.|B\.C\.)"
EARLY_RULES: list[Rule] = [  # eras before the abbreviations (which spell "A.D."), decades before units ("s")
    rule("number.decade", r"(?<![\w'])'?([1-9]0|1\d{2}0|20\d0)'?s\b", _decade),
    rule("number.year", rf"\b(\d{{1,4}})\s?{_ERA_WORD}(?!\w)|\b{_ERA_WORD}\s?(\d{{1,4}})\b", _era),
]
RULES: list[Rule] = [
    rule("number.year", rf"({_YEAR_CUE}\s+)(\d{{4}})\b(?![.,]\d)", _cued_year),
    rule(
        "number.ordinal",
        r"\b(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b",
        lambda m: ordinal(m.group(1)),
        re.I,
    ),
    rule("number.fraction", r"\b24/7\b", "twenty-four seven"),  # an idiom, not a fraction
    rule(
        "number.fraction",
        r"\b(\d+)\s+(\d+)/(\d+)\b",
        lambda m: f"{cardinal(m.group(1))} and {fraction(*m.group(2, 3), mixed=True)}",
    ),
    rule("number.fraction", r"\b(\d+)/(\d+)\b", lambda m: fraction(*m.group(1, 2))),
    rule("number.range", r"(\d)-(?=\d)", r"\1 to "),
    rule("number", rf"(?:(?<![\w.])(-))?({NUMBER})", _number),
]
