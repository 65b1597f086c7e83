"""English text normalization: turn what is written into the words that are spoken.

`normalize(text)` spells out numbers, money, percentages, units, times, dates, phone numbers,
web addresses, titles, Roman numerals, acronyms and symbols, so espeak-ng never guesses how to
read a number. `explain(text)` also returns which rule rewrote which span. A `Lexicon`
(`tts.text.lexicon`) of the user's own fixes is applied before any rule.

Reading conventions (the case tables in tests/data pin each one):
- Numbers are British-style cardinals with "and": "one hundred and twenty", "two thousand and
  five"; decimals "three point one four"; a leading zero is read digit by digit ("zero zero seven").
- Money: "five dollars and fifty cents", "ninety-nine cents", "two point five million dollars".
- Years: "nineteen ninety-nine", "nineteen oh-five", "two thousand and five", "ten sixty-six";
  which four-digit numbers are years is decided in `numbers` (a cue word before, a plural noun
  after, else 1100-2099).
- Dates: "December twenty-fifth, twenty twenty-four"; "the twenty-fifth of December".
- Times: "seven thirty PM", "seven o'clock", "seven oh five", "thirteen hundred".
- Fractions: "three quarters", "five and a half"; with a unit "one and a half hours",
  "three quarters of a mile"; units take the plural after anything but exactly one.
- Ranges and scores: "ten to twelve". Phone numbers, ZIP codes, card numbers: digit by digit,
  groups separated by commas.
- Titles and regnal numerals: "Doctor Watson", "Saint Paul", "Baker Street", "Henry the Eighth",
  "Chapter four"; acronyms "F B I" but "NASA".
- Characters: Latin letters with accents are kept, other scripts transliterated with unidecode,
  characters with no reading (emoji) dropped with a logged warning; dashes become a comma
  pause; markup characters * _ ~ ^ | < > are dropped. Text may normalize to nothing; callers
  decide (`tts.text.prepare` raises `InputError`).

Rule order (each family's module says what it reads): contact strings (their digits and dots
must not reach the number rules) -> eras and decades -> abbreviations -> times and dates -> money, percent
and units (fractions with units before plain units) -> Roman numerals and acronyms -> symbols ->
numbers -> tidy.
"""

from __future__ import annotations

from tts.text.lexicon import IPA_OPEN, IPA_SPAN, Lexicon
from tts.text.normalize import abbreviations, capitals, contact, dates, measures, numbers, symbols
from tts.text.normalize.chars import tidy, to_ascii
from tts.text.normalize.rules import Rewrite, apply
from tts.text.normalize.spoken import cardinal, decimal, ordinal, year

__all__ = ["RULES", "Rewrite", "cardinal", "decimal", "explain", "normalize", "ordinal", "year"]

RULES = [
    *contact.RULES,
    *numbers.EARLY_RULES,
    *abbreviations.RULES,
    *dates.RULES,
    *measures.RULES,
    *capitals.RULES,
    *symbols.RULES,
    *numbers.RULES,
]


def _normalize(text: str, trace: list[Rewrite] | None) -> str:
    return tidy(apply(RULES, to_ascii(text, trace), trace))


def explain(text: str, lexicon: Lexicon | None = None) -> tuple[str, list[Rewrite]]:
    """(normalized text, the rewrites that made it, in order: lexicon entries, then rules)."""
    trace: list[Rewrite] = []
    return _run(text, lexicon, trace), trace


def normalize(text: str, lexicon: Lexicon | None = None) -> str:
    """Written English -> spoken words (see the module docstring for the conventions)."""
    return _run(text, lexicon, None)


def _run(text: str, lexicon: Lexicon | None, trace: list[Rewrite] | None) -> str:
    found: list[tuple[str, str]] = []
    replaced = lexicon.apply(text, found) if lexicon is not None else text
    if trace is not None:
        trace += [Rewrite("lexicon", written, spoken) for written, spoken in found]
    if IPA_OPEN not in replaced:
        return _normalize(replaced, trace)
    spans = IPA_SPAN.findall(replaced)  # IPA entries bypass the rules, also on a second pass:
    for i, span in enumerate(spans):  # each stands as a lower-case word no rule reads, then returns
        replaced = replaced.replace(span, _placeholder(i), 1)
    out = _normalize(replaced, trace)
    for i, span in enumerate(spans):
        out = out.replace(_placeholder(i), span, 1)
    return out


def _placeholder(i: int) -> str:
    return "zzipa" + "".join(chr(ord("a") + int(d)) for d in str(i)) + "zz"
