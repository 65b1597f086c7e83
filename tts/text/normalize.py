"""English text normalization: turn what is written into the words that are spoken.

`normalize(text)` spells out numbers (cardinals, decimals, negatives, ordinals, years, decades,
fractions, ranges), currency ($ £ € ¥ ¢, with cents/pence), percentages, times with AM/PM,
dates (numeric and written), units after a number (km, kg, °F, GB, ...), common abbreviations
(Dr., Mr., Mrs., St., e.g., etc., vs., No., ...) and the symbols & @ + = # %. The result has
no digits left, so espeak-ng never guesses how to read a number.

Choices where English is ambiguous (tests pin each one):
- A bare whole number from 1100 to 2099 without a thousands comma is read as a year
  ("1999" -> "nineteen ninety-nine"); write "1,999" for the cardinal.
- Numeric dates are month/day/year unless the first field is over 12 (then day/month/year);
  a two-digit year below 50 is 20xx, otherwise 19xx.
- "N-M" between digits is a range ("pages 10-20" -> "ten to twenty"), so phone numbers are
  not supported; a number with a leading zero ("007") is read digit by digit.
- Times are read "seven thirty PM", "seven o'clock", "seven oh five"; AM/PM stay capitals so
  espeak-ng spells them.
- Letters with accents from the Latin blocks are kept (espeak-ng reads "café", "Zürich" better
  than their ASCII forms); any other non-ASCII character is transliterated with `unidecode`
  (CJK, Cyrillic, Greek, ...). Characters with no reading (emoji, most symbols) are dropped
  and the drop is logged as a warning. Text may normalize to nothing; callers decide
  (`tts.text.prepare` raises `InputError`).
- Dashes become a comma pause; markup characters such as * _ ~ ^ | < > are dropped.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata

from num2words import num2words
from unidecode import unidecode

log = logging.getLogger(__name__)

NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"  # 12 / 1,234,567 / 3.14 / .5
_DIGITS = "zero one two three four five six seven eight nine".split()
_KEEP = set("£€¥¢°")  # non-ASCII symbols the rules below read
_REPLACE = {"×": " times ", "÷": " divided by ", "±": " plus or minus ", "−": "-", "№": " number "}


@functools.lru_cache(maxsize=1)
def _inflect():
    import inflect

    return inflect.engine()


def _plural(word: str) -> str:
    return _inflect().plural_noun(word)


# ---------------------------------------------------------------- number words


def cardinal(digits: str) -> str:
    """'1,234' -> 'one thousand two hundred and thirty-four'; '007' -> 'zero zero seven'."""
    digits = digits.replace(",", "")
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > 15:
        return " ".join(_DIGITS[int(d)] for d in digits)
    return num2words(int(digits)).replace(",", "")  # num2words puts commas between groups


def decimal(number: str) -> str:
    """'3.14' -> 'three point one four'; '1,000' -> 'one thousand'."""
    whole, _, frac = number.partition(".")
    words = cardinal(whole) if whole else ""
    if frac:
        words += " point " + " ".join(_DIGITS[int(d)] for d in frac)
    return words.strip()


def year(n: int) -> str:
    """1999 -> 'nineteen ninety-nine', 2005 -> 'two thousand and five', 1905 -> 'nineteen oh-five'."""
    return num2words(n, to="year").replace(",", "")


def ordinal(digits: str) -> str:
    """'21' -> 'twenty-first'."""
    return num2words(int(digits.replace(",", "")), to="ordinal").replace(",", "")


def _signed(sign: str, words: str) -> str:
    return f"minus {words}" if sign else words


def _is_one(number: str) -> bool:
    return number in ("1", "1.0", "1.00")


def _sentence_end(m: re.Match) -> str:
    """'.' when the abbreviation just matched (ending in '.') also ended its sentence."""
    return "." if m.group(0).endswith(".") and re.match(r"\s*$|\s+[A-Z\"]", m.string[m.end() :]) else ""


# ---------------------------------------------------------------- characters


def _is_latin_letter(ch: str) -> bool:
    return "\u00c0" <= ch <= "\u024f" and ch.isalpha()  # Latin-1 Supplement .. Latin Extended-B


def to_ascii(text: str) -> str:
    """Keep ASCII, Latin letters and the symbols read later; transliterate the rest."""
    out, dropped, transliterated = [], [], []
    for ch in unicodedata.normalize("NFC", text):
        if ch.isascii() or ch in _KEEP or _is_latin_letter(ch):
            out.append(ch)
        elif ch in _REPLACE:
            out.append(_REPLACE[ch])
        else:
            ascii_ = unidecode(ch)
            if not ascii_.strip() and unicodedata.category(ch)[0] in "LNSP":
                dropped.append(ch)
            elif ascii_.strip() and ch.isalpha():
                transliterated.append(ch)
            out.append(ascii_)
    if dropped:
        log.warning("dropped characters that have no English reading: %s", "".join(dropped))
    if transliterated:
        log.warning("transliterated non-Latin characters to ASCII: %s", "".join(transliterated))
    return "".join(out)


# ---------------------------------------------------------------- abbreviations

_TITLES = {
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Dr": "Doctor",
    "Prof": "Professor",
    "Capt": "Captain",
    "Gen": "General",
    "Lt": "Lieutenant",
    "Col": "Colonel",
    "Sgt": "Sergeant",
    "Rev": "Reverend",
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
    (r"\bapprox\.", "approximately", False),
    (r"\bJr\.", "Junior", True),
    (r"\bSr\.", "Senior", True),
    (r"\bInc\.", "Incorporated", True),
    (r"\bLtd\.", "Limited", True),
    (r"\bCorp\.", "Corporation", True),
    (r"\bDept\.", "Department", True),
    (r"\bAve\.", "Avenue", True),
    (r"\bBlvd\.", "Boulevard", True),
    (r"\bFig\.", "Figure", False),
    (r"\bSt\.(?=\s+[A-Z])", "Saint", False),  # "St. Louis" (so "Main St. Then" reads Saint too)
    (r"\bSt\.", "Street", True),
    (r"\bDr\.", "Drive", True),  # "Dr." not followed by a name
]


def expand_abbreviations(text: str) -> str:
    titles = "|".join(_TITLES)
    text = re.sub(rf"\b({titles})\.(?=\s+[A-Z])", lambda m: _TITLES[m.group(1)], text)
    text = re.sub(r"\b(Mr|Mrs|Ms|Dr)(?=\s+[A-Z])", lambda m: _TITLES[m.group(1)], text)
    for pattern, spoken, may_end in _ABBREVIATIONS:
        text = re.sub(
            pattern, lambda m, spoken=spoken, may_end=may_end: spoken + (_sentence_end(m) if may_end else ""), text
        )
    return text


# ---------------------------------------------------------------- times and dates

_MERIDIEM = r"(?:\s*([AaPp])\.?\s?[Mm](?![A-Za-z])\.?)"


def _time_words(hour: int, minute: int, meridiem: str | None) -> str:
    words = cardinal(str(hour))
    if minute == 0 and not meridiem:
        words += " o'clock"
    elif minute:
        words += " oh " + cardinal(str(minute)) if minute < 10 else " " + cardinal(str(minute))
    return words + (f" {meridiem.upper()}M" if meridiem else "")


def _time(m: re.Match) -> str:
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 24 or minute > 59:
        return m.group(0)
    words = _time_words(hour, minute, m.group(4))
    if m.group(3):
        words += " and " + cardinal(m.group(3)) + (" second" if m.group(3) == "01" else " seconds")
    return words + (_sentence_end(m) if m.group(4) else "")


def expand_times(text: str) -> str:
    text = re.sub(rf"\b(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?{_MERIDIEM}?", _time, text)
    return re.sub(rf"\b(\d{{1,2}})()(){_MERIDIEM}", _time, text)


MONTHS = "January February March April May June July August September October November December".split()
_MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"Sept": "September"}
_MONTH = r"(" + "|".join(MONTHS + list(_MONTH_ABBR)) + r")\.?"


def _month(name: str) -> str:
    return _MONTH_ABBR.get(name, name)


def _date_words(month: int, day: int, yr: str | None) -> str | None:
    """'December twenty-fifth, twenty twenty-four', or None if the fields are not a date."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    words = f"{MONTHS[month - 1]} {ordinal(str(day))}"
    if yr:
        y = int(yr) if len(yr) == 4 else (2000 if int(yr) < 50 else 1900) + int(yr)
        words += ", " + year(y)
    return words


def _numeric_date(m: re.Match) -> str:
    a, b = int(m.group(1)), int(m.group(3))
    month, day = (b, a) if a > 12 else (a, b)  # month first unless that is impossible
    return _date_words(month, day, m.group(4)) or m.group(0)


def _iso_date(m: re.Match) -> str:
    return _date_words(int(m.group(2)), int(m.group(3)), m.group(1)) or m.group(0)


def _month_day(m: re.Match) -> str:
    return _date_words(MONTHS.index(_month(m.group(1))) + 1, int(m.group(2)), m.group(3)) or m.group(0)


def _day_month(m: re.Match) -> str:
    words = _date_words(MONTHS.index(_month(m.group(2))) + 1, int(m.group(1)), m.group(3))
    if words is None:
        return m.group(0)
    month, _, rest = words.partition(" ")
    day, comma, yr = rest.partition(",")
    the = "" if re.search(r"\bthe\s+$", m.string[: m.start()], re.I) else "the "
    return f"{the}{day} of {month}{comma}{yr}"


def expand_dates(text: str) -> str:
    text = re.sub(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", _iso_date, text)
    text = re.sub(r"\b(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})\b", _numeric_date, text)
    text = re.sub(r"\b(\d{1,2})(\.)(\d{1,2})\.(\d{4})\b", _numeric_date, text)
    year_part = r"(?:,?\s+(\d{4})\b)?"
    text = re.sub(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b{year_part}", _month_day, text)
    return re.sub(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?![a-z]){year_part}", _day_month, text)


# ---------------------------------------------------------------- money, percent, units

# symbol: (unit, units, subunit, subunits)
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", None, None),
}
_MAGNITUDES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion"}


def _amount(number: str, names: tuple) -> str:
    unit, units, sub, subs = names
    whole, _, frac = number.replace(",", "").partition(".")
    if sub is None or len(frac) > 2:
        return f"{decimal(number)} {unit if _is_one(number) else units}"
    main, cents = int(whole or 0), int(frac.ljust(2, "0") or 0)
    parts = [f"{cardinal(whole or '0')} {unit if main == 1 else units}"] if main or not cents else []
    if cents:
        parts.append(f"{cardinal(str(cents))} {sub if cents == 1 else subs}")
    return " and ".join(parts)


def _money(m: re.Match) -> str:
    sign, symbol, number, magnitude = m.groups()
    names = _CURRENCIES[symbol]
    if magnitude:
        magnitude = _MAGNITUDES.get(magnitude.lower(), magnitude.lower())
        return _signed(sign, f"{decimal(number)} {magnitude} {names[1]}")
    return _signed(sign, _amount(number, names))


def expand_money(text: str) -> str:
    magnitude = r"(?:\s?(?i:(thousand|million|billion|trillion|bn|mn|k|m|b))(?![A-Za-z]))?"
    text = re.sub(rf"(-)?([$£€¥])\s?({NUMBER}){magnitude}", _money, text)
    cents = lambda m: decimal(m.group(1)) + (" cent" if _is_one(m.group(1)) else " cents")  # noqa: E731
    return re.sub(rf"\b({NUMBER})\s?¢", cents, text)


def expand_percent(text: str) -> str:
    return re.sub(
        rf"(?<![\w.])(-)?({NUMBER})\s?%", lambda m: _signed(m.group(1), decimal(m.group(2))) + " percent", text
    )


# unit: (singular, plural)
_UNITS = {
    "km": ("kilometer", "kilometers"),
    "m": ("meter", "meters"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "yd": ("yard", "yards"),
    "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "m/s": ("meter per second", "meters per second"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "L": ("liter", "liters"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "°": ("degree", "degrees"),
    "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "ms": ("millisecond", "milliseconds"),
    "s": ("second", "seconds"),
    "sec": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "W": ("watt", "watts"),
    "kW": ("kilowatt", "kilowatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "V": ("volt", "volts"),
    "mAh": ("milliamp hour", "milliamp hours"),
    "dB": ("decibel", "decibels"),
}


def _unit(m: re.Match) -> str:
    sign, number, unit = m.groups()
    singular, plural = _UNITS[unit]
    return _signed(sign, f"{decimal(number)} {singular if _is_one(number) and not sign else plural}")


def _feet_inches(m: re.Match) -> str:
    feet, inches = m.groups()
    foot, inch = ("foot" if feet == "1" else "feet"), ("inch" if inches == "1" else "inches")
    return f"{cardinal(feet)} {foot} {cardinal(inches)} {inch}"


def expand_units(text: str) -> str:
    text = re.sub(r"\b(\d+)'\s?(\d+)(?:\"|'')", _feet_inches, text)  # 6'2"
    units = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    return re.sub(rf"(?<![\w.])(-)?({NUMBER})\s?({units})(?![\w°])", _unit, text)


# ---------------------------------------------------------------- numbers


def _decade(m: re.Match) -> str:
    digits = m.group(1)
    words = year(int(digits)) if len(digits) == 4 else cardinal(digits)
    head, _, last = words.rpartition(" ")
    first, dash, tens = last.rpartition("-")
    return f"{head} {first}{dash}{_plural(tens)}".strip()


def expand_decades(text: str) -> str:
    """'1990s' -> 'nineteen nineties', "'80s" / '80s' -> 'eighties' (before units read 's' as seconds)."""
    return re.sub(r"(?<![\w'])'?([1-9]0|1\d{2}0|20\d0)'?s\b", _decade, text)


def _fraction(numerator: str, denominator: str, mixed: bool = False) -> str:
    den = int(denominator)
    if den < 2:
        return f"{cardinal(numerator)} over {cardinal(denominator)}"
    name = {2: "half", 4: "quarter"}.get(den) or ordinal(denominator)
    if numerator == "1":
        return f"{'a' if mixed else 'one'} {name}"
    return f"{cardinal(numerator)} {_plural(name)}"


def expand_fractions(text: str) -> str:
    text = re.sub(r"\b24/7\b", "twenty-four seven", text)  # an idiom, not a fraction
    mixed = lambda m: f"{cardinal(m.group(1))} and {_fraction(*m.group(2, 3), mixed=True)}"  # noqa: E731
    text = re.sub(r"\b(\d+)\s+(\d+)/(\d+)\b", mixed, text)
    return re.sub(r"\b(\d+)/(\d+)\b", lambda m: _fraction(*m.group(1, 2)), text)


def _number(m: re.Match) -> str:
    sign, number = m.groups()
    if re.fullmatch(r"\d{4}", number) and 1100 <= int(number) <= 2099 and not sign:
        words = year(int(number))
    else:
        words = _signed(sign, decimal(number))
    before, after = m.string[m.start() - 1 : m.start()], m.string[m.end() : m.end() + 1]
    return (" " if before.isalpha() else "") + words + (" " if after.isalpha() else "")


def expand_numbers(text: str) -> str:
    text = re.sub(r"\b(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b", lambda m: ordinal(m.group(1)), text, flags=re.I)
    text = expand_fractions(text)
    text = re.sub(r"(\d)-(?=\d)", r"\1 to ", text)  # ranges
    return re.sub(rf"(?:(?<![\w.])(-))?({NUMBER})", _number, text)


# ---------------------------------------------------------------- symbols and tidying

_SYMBOLS = [
    (r"#\s?(?=\d)", " number "),
    (r"#", " hash "),
    (r"&", " and "),
    (r"@", " at "),
    (r"\+", " plus "),
    (r"=", " equals "),
    (r"%", " percent "),
    (r"°", " degrees "),
    (r"\$", " dollars "),
    (r"£", " pounds "),
    (r"€", " euros "),
    (r"¥", " yen "),
    (r"¢", " cents "),
    (r"(?<=[A-Za-z])/(?=[A-Za-z])", " slash "),
]


def expand_symbols(text: str) -> str:
    for pattern, spoken in _SYMBOLS:
        text = re.sub(pattern, spoken, text)
    return text


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


def normalize(text: str) -> str:
    """Written English -> spoken words (see the module docstring for the choices made)."""
    text = to_ascii(text)
    for rule in (
        expand_abbreviations,
        expand_times,
        expand_dates,
        expand_money,
        expand_percent,
        expand_decades,
        expand_units,
    ):
        text = rule(text)
    text = expand_numbers(expand_symbols(text))
    return tidy(text)
