"""Numbers as words: cardinals, decimals, ordinals, years, digit strings, fractions, Roman numerals.

Readings follow the normalizer's conventions (see `tts.text.normalize`): "one hundred and three",
"three point one four", "nineteen oh-five", "zero zero seven" for a leading zero.
"""

from __future__ import annotations

import functools
import re

NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"  # 12 / 1,234,567 / 3.14 / .5
DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
ROMAN = r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}


@functools.lru_cache(maxsize=1)
def _inflect():
    import inflect

    return inflect.engine()


def plural(word: str) -> str:
    return _inflect().plural_noun(word)


def with_article(phrase: str) -> str:
    """'inch' -> 'an inch', 'mile' -> 'a mile'."""
    return _inflect().a(phrase)


_NOT_PLURAL_NOUNS = frozenset("was is has as this his its us thus does yes always perhaps across unless plus".split())


@functools.lru_cache(maxsize=4096)
def is_plural_noun(word: str) -> bool:
    """'soldiers', 'men', 'people': True; 'was', 'the': False (inflect's guess, minus a few
    common words it takes for plurals)."""
    if not word.isalpha() or not word.islower() or word in _NOT_PLURAL_NOUNS:
        return False
    singular = _inflect().singular_noun(word)
    return bool(singular) and singular != word


def _words(n: int, to: str = "cardinal") -> str:
    """num2words' reading of `n` without the commas it puts between groups. Imported on first use:
    num2words loads every language it knows, 40 ms of the start of `say`, for text without numbers."""
    from num2words import num2words

    return num2words(n, to=to).replace(",", "")


def digits(text: str) -> str:
    """'4921' -> 'four nine two one' (non-digits are skipped)."""
    return " ".join(DIGIT_WORDS[int(d)] for d in text if d.isdigit())


def cardinal(number: str) -> str:
    """'1,234' -> 'one thousand two hundred and thirty-four'; '007' -> 'zero zero seven'."""
    number = number.replace(",", "")
    if (len(number) > 1 and number[0] == "0") or len(number) > 15:
        return digits(number)
    return _words(int(number))


def decimal(number: str) -> str:
    """'3.14' -> 'three point one four'; '1,000' -> 'one thousand'."""
    whole, _, frac = number.partition(".")
    words = cardinal(whole) if whole else ""
    if frac:
        words += " point " + digits(frac)
    return words.strip()


def year(n: int) -> str:
    """1999 -> 'nineteen ninety-nine', 2005 -> 'two thousand and five', 1066 -> 'ten sixty-six'."""
    return _words(n, to="year")


def ordinal(number: str) -> str:
    """'21' -> 'twenty-first'."""
    return _words(int(number.replace(",", "")), to="ordinal")


def signed(sign: str | None, words: str) -> str:
    return f"minus {words}" if sign else words


def is_one(number: str) -> bool:
    return number in ("1", "1.0", "1.00")


def fraction(numerator: str, denominator: str, mixed: bool = False) -> str:
    """('3', '4') -> 'three quarters'; ('1', '2', mixed) -> 'a half' (as in 'five and a half')."""
    den = int(denominator)
    if den < 2:
        return f"{cardinal(numerator)} over {cardinal(denominator)}"
    name = {2: "half", 4: "quarter"}.get(den) or ordinal(denominator)
    if numerator == "1":
        return f"{'a' if mixed else 'one'} {name}"
    return f"{cardinal(numerator)} {plural(name)}"


def roman(numeral: str) -> int:
    """'XIV' -> 14 (the caller has checked it against ROMAN)."""
    values = [_ROMAN_VALUES[ch] for ch in numeral.upper()]
    return sum(-v if v < w else v for v, w in zip(values, values[1:] + [0]))


def is_roman(token: str) -> bool:
    return bool(token) and re.fullmatch(ROMAN, token.upper()) is not None
