"""Clock times and dates: "7:30 p.m." -> "seven thirty PM", "Dec. 25, 2024" -> "December
twenty-fifth, twenty twenty-four", "7 march" -> "the seventh of March".

- Times read "seven thirty PM", "seven o'clock", "seven oh five", "zero thirty" (0:30); a
  24-hour time on the hour past 12 reads "thirteen hundred". AM/PM stay capitals so espeak-ng
  spells them.
- Numeric dates are month/day/year unless the first field is over 12 (then day/month/year); a
  two-digit year below 50 is 20xx, otherwise 19xx. The day is an ordinal; a year after the
  day always follows a comma ("March seventh, nineteen twenty-one").
- Month names and abbreviations match in any case ("march 7th", "SEPT. 3"); the month is
  written capitalised. Lower-case "march", "may" and "mar" are verbs as often as months: they
  are read as months only with an ordinal suffix, a year, or after on/of/by/since/until/from/
  before/after/due/born/dated.
"""

from __future__ import annotations

import re

from tts.text.normalize.rules import Rule, before, rule, sentence_end
from tts.text.normalize.spoken import cardinal, ordinal, year

_MERIDIEM = r"(?:\s*([AaPp])\.?\s?[Mm](?![A-Za-z])\.?)"
MONTHS = "January February March April May June July August September October November December".split()
_BY_NAME = {m.lower(): m for m in MONTHS} | {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}
_MONTH = r"(?i:(" + "|".join(sorted(_BY_NAME, key=len, reverse=True)) + r"))\.?"
_VERB_LIKE = {"march", "may", "mar"}
_DATE_CUE = re.compile(r"\b(?:on|of|by|since|until|till|from|before|after|due|born|dated)\s+$", re.I)


def _time_words(hour: int, minute: int, meridiem: str | None) -> str:
    words = cardinal(str(hour))
    if minute == 0 and not meridiem:
        words += " hundred" if hour > 12 or hour == 0 else " o'clock"
    elif minute:
        words += " oh " + cardinal(str(minute)) if minute < 10 else " " + cardinal(str(minute))
    return words + (f" {meridiem.upper()}M" if meridiem else "")


def _time(m: re.Match) -> str:
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 24 or minute > 59 or (m.group(4) and hour > 12):
        return m.group(0)
    words = _time_words(hour, minute, m.group(4))
    if m.group(3):
        words += " and " + cardinal(m.group(3)) + (" second" if m.group(3) == "01" else " seconds")
    return words + (sentence_end(m) if m.group(4) else "")


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


def _month_number(m: re.Match, name: str, sure: bool) -> int | None:
    """The month's number, or None for a lower-case verb-like word without a date cue."""
    if name in _VERB_LIKE and not sure and not _DATE_CUE.search(before(m)):
        return None
    return MONTHS.index(_BY_NAME[name.lower()]) + 1


def _month_day(m: re.Match) -> str:
    number = _month_number(m, m.group(1), bool(m.group(3) or m.group(4)))
    return (number and _date_words(number, int(m.group(2)), m.group(4))) or m.group(0)


def _day_month(m: re.Match) -> str:
    number = _month_number(m, m.group(3), bool(m.group(2) or m.group(4)))
    words = number and _date_words(number, int(m.group(1)), m.group(4))
    if not words:
        return m.group(0)
    month, _, rest = words.partition(" ")
    day, comma, yr = rest.partition(",")
    the = "" if re.search(r"\bthe\s+$", before(m), re.I) else "the "
    return f"{the}{day} of {month}{comma}{yr}"


_YEAR_PART = r"(?:,?\s+(\d{4})\b)?"
_SUFFIX = r"(st|nd|rd|th)?"
RULES: list[Rule] = [
    rule("time", rf"\b(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?{_MERIDIEM}?", _time),
    rule("time", rf"\b(\d{{1,2}})()(){_MERIDIEM}", _time),
    rule("date.iso", r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", _iso_date),
    rule("date.numeric", r"\b(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})\b", _numeric_date),
    rule("date.numeric", r"\b(\d{1,2})(\.)(\d{1,2})\.(\d{4})\b", _numeric_date),
    rule("date.month_day", rf"\b{_MONTH}\s+(\d{{1,2}}){_SUFFIX}\b(?![.,]?\d){_YEAR_PART}", _month_day),
    rule("date.day_month", rf"\b(\d{{1,2}}){_SUFFIX}\s+(?:of\s+)?{_MONTH}(?![a-z]){_YEAR_PART}", _day_month),
]
