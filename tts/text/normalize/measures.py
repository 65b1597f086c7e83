"""Money, percentages and units after a number: "$5.50" -> "five dollars and fifty cents",
"10-15%" -> "ten to fifteen percent", "2 1/2 km" -> "two and a half kilometers".

- Money reads "five dollars and fifty cents", "ninety-nine cents", "two point five million
  dollars"; currency codes (USD, EUR, GBP, JPY, INR) before or after the number read like
  their symbols.
- A unit takes its plural after anything but exactly one ("a five minutes walk"), a mixed number
  included ("one and a half hours"); after a fraction below one it reads "three quarters of a
  mile". Informal plurals (mins, secs, kms, kgs, yds, hrs, yrs) read like the unit, and a scale
  word may stand between number and unit ("250 thousand km").
- "in" is inches only after a fraction or before wide/long/tall/high/deep/thick/across.
"""

from __future__ import annotations

import re

from tts.text.normalize.rules import Rule, rule
from tts.text.normalize.spoken import NUMBER, cardinal, decimal, fraction, is_one, signed, with_article

# symbol: (unit, units, subunit, subunits)
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", None, None),
    "₹": ("rupee", "rupees", None, None),
}
_CODES = {"USD": "$", "US$": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
_MAGNITUDES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion"}
_SCALE = r"(?:thousand|million|billion|trillion)"

# unit: (singular, plural)
UNITS = {
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
    "oz": ("ounce", "ounces"),
    "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "m/s": ("meter per second", "meters per second"),
    "mpg": ("mile per gallon", "miles per gallon"),
    "rpm": ("revolution per minute", "revolutions per minute"),
    "psi": ("pound per square inch", "pounds per square inch"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "L": ("liter", "liters"),
    "gal": ("gallon", "gallons"),
    "qt": ("quart", "quarts"),
    "pt": ("pint", "pints"),
    "tsp": ("teaspoon", "teaspoons"),
    "tbsp": ("tablespoon", "tablespoons"),
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
    "yr": ("year", "years"),
    "W": ("watt", "watts"),
    "kW": ("kilowatt", "kilowatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "V": ("volt", "volts"),
    "mAh": ("milliamp hour", "milliamp hours"),
    "dB": ("decibel", "decibels"),
    "kcal": ("kilocalorie", "kilocalories"),
    "in": ("inch", "inches"),  # only in the contexts of _INCH (see the module docstring)
}
_PLURAL_FORMS = {"kms", "kgs", "mins", "secs", "hrs", "yrs", "yds", "lbs", "ozs", "mis", "gals", "qts", "pts", "tsps"}
_INCH_AFTER = r"(?=\s+(?:wide|long|tall|high|deep|thick|across)\b)"


def _unit_names(unit: str) -> tuple[str, str]:
    return UNITS.get(unit) or UNITS[unit[:-1]]


_UNIT = "|".join(re.escape(u) for u in sorted({*UNITS, *_PLURAL_FORMS} - {"in"}, key=len, reverse=True))
_UNIT_END = r"(?![\w°/])(\.(?=\s+[a-z]))?"  # "5 min. later": the period goes with the unit


def _amount(number: str, names: tuple) -> str:
    unit, units, sub, subs = names
    whole, _, frac = number.replace(",", "").partition(".")
    if sub is None or len(frac) > 2:
        return f"{decimal(number)} {unit if is_one(number) else units}"
    main, cents = int(whole or 0), int(frac.ljust(2, "0") or 0)
    parts = [f"{cardinal(whole or '0')} {unit if main == 1 else units}"] if main or not cents else []
    if cents:
        parts.append(f"{cardinal(str(cents))} {sub if cents == 1 else subs}")
    return " and ".join(parts)


def _money(m: re.Match) -> str:
    sign, symbol, number, magnitude = m.groups()
    names = CURRENCIES[_CODES.get(symbol.strip(), symbol)]
    if magnitude:
        magnitude = _MAGNITUDES.get(magnitude.lower(), magnitude.lower())
        return signed(sign, f"{decimal(number)} {magnitude} {names[1]}")
    return signed(sign, _amount(number, names))


def _money_after(m: re.Match) -> str:
    return _amount(m.group(1), CURRENCIES[_CODES[m.group(2)]])


def _unit(m: re.Match) -> str:
    sign, number, scale, unit = m.groups()[:4]
    singular, plural = _unit_names(unit)
    one = is_one(number) and not sign and not scale
    return signed(sign, f"{decimal(number)}{' ' + scale if scale else ''} {singular if one else plural}")


def _mixed_unit(m: re.Match) -> str:
    whole, num, den, unit = m.groups()[:4]
    return f"{cardinal(whole)} and {fraction(num, den, mixed=True)} {_unit_names(unit)[1]}"


def _fraction_unit(m: re.Match) -> str:
    num, den, unit = m.groups()[:3]
    singular, plural = _unit_names(unit)
    if int(num) < int(den):
        return f"{fraction(num, den)} of {with_article(singular)}"
    return f"{fraction(num, den)} {plural}"


def _feet_inches(m: re.Match) -> str:
    feet, inches = m.groups()
    foot, inch = ("foot" if feet == "1" else "feet"), ("inch" if inches == "1" else "inches")
    return f"{cardinal(feet)} {foot} {cardinal(inches)} {inch}"


_MONEY_MAGNITUDE = r"(?:\s?(?i:(thousand|million|billion|trillion|bn|mn|k|m|b))(?![A-Za-z]))?"
_CODE = "|".join(re.escape(c) for c in _CODES)
_UNIT_OR_INCH = rf"({_UNIT}|in(?=\.?\s)(?!\s+(?:the|a|an|his|her|my|our|their|its|this|that)\b))"
RULES: list[Rule] = [
    rule("money", rf"(-)?([$£€¥₹]|\b(?:{_CODE})\s)\s?({NUMBER}){_MONEY_MAGNITUDE}", _money),
    rule("money", rf"\b({NUMBER})\s?({_CODE})\b", _money_after),
    rule(
        "money.cents",
        rf"\b({NUMBER})\s?¢",
        lambda m: decimal(m.group(1)) + (" cent" if is_one(m.group(1)) else " cents"),
    ),
    rule(
        "percent.range",
        rf"(?<![\w.])({NUMBER})\s?%?\s?(?:-|to)\s?({NUMBER})\s?%",
        lambda m: f"{decimal(m.group(1))} to {decimal(m.group(2))} percent",
    ),
    rule("percent", rf"(?<![\w.])(-)?({NUMBER})\s?%", lambda m: signed(m.group(1), decimal(m.group(2))) + " percent"),
    rule("unit.fraction", rf"\b(\d+)\s+(\d+)/(\d+)\s?{_UNIT_OR_INCH}{_UNIT_END}", _mixed_unit),
    rule("unit.fraction", rf"(?<![\d/])(\d+)/(\d+)\s?{_UNIT_OR_INCH}{_UNIT_END}", _fraction_unit),
    rule("unit.feet_inches", r"\b(\d+)'\s?(\d+)(?:\"|'')", _feet_inches),
    rule("unit", rf"(?<![\w.])(-)?({NUMBER})(?:\s({_SCALE}))?\s?({_UNIT}|in{_INCH_AFTER}){_UNIT_END}", _unit),
]
