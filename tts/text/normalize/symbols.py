"""Symbols read aloud: & @ # + = % ° and the currency signs left over by the earlier rules,
"~" before a number ("about"), "<" and ">" between numbers, "/" between words ("and slash or")."""

from __future__ import annotations

from tts.text.normalize.rules import Rule, rule

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
    (r"₹", " rupees "),
    (r"¢", " cents "),
    (r"~\s?(?=\d)", " about "),
    (r"(?<=\d)\s?<\s?(?=\d)", " is less than "),
    (r"(?<=\d)\s?>\s?(?=\d)", " is greater than "),
    (r"(?<=[A-Za-z])/(?=[A-Za-z])", " slash "),
]
RULES: list[Rule] = [rule("symbol", pattern, spoken) for pattern, spoken in _SYMBOLS]
