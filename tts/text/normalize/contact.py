"""Phone numbers, ZIP codes, card and PIN numbers, web addresses and e-mail addresses: strings
read character by character, never as amounts.

- Digits are read one by one and the groups as written are separated by commas (a pause):
  "555-123-4567" -> "five five five, one two three, four five six seven".
- A phone number is 3-3-4 digits (with "(212) ", "+1 " or "1-" before it, "-", "." or " "
  between the groups), or 3-4 digits after call/dial/ring/phone/tel/fax/mobile/cell/line
  (otherwise "555-1234" would be a range).
- A ZIP code is five digits (or five and four) after a US state's two capitals, or after
  "zip (code)"; card numbers are four groups of four digits; digits after PIN, code,
  extension, account, card, serial or ID are read one by one.
- Web and e-mail addresses: "." is "dot", "@" "at", "/" "slash", "-" "dash", "_" "underscore",
  "www" and the scheme are spelled ("w w w", "h t t p s colon slash slash"), digits one by one.
"""

from __future__ import annotations

import re

from tts.text.normalize.rules import Rule, rule
from tts.text.normalize.spoken import digits

_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
_TLDS = "com|org|net|edu|gov|mil|int|io|co|uk|us|ca|au|de|fr|es|it|nl|eu|info|biz|ai|dev|app|me|tv|ly|gg"
_PHONE_CUE = r"(?i:call|dial|ring|phone|telephone|tel\.?|fax|mobile|cell|line|number)"
_DIGIT_CUE = r"(?i:PIN|code|ext\.?|extension|account|acct\.?|card|serial|ID)"


def _groups(*parts: str | None) -> str:
    return ", ".join(digits(p) for p in parts if p)


def _phone(m: re.Match) -> str:
    country = m.group(1)
    lead = ("plus " if country.startswith("+") else "") + digits(country) + ", " if country else ""
    return lead + _groups(*m.groups()[1:])


def _spell_cue(cue: str) -> str:
    """'ext. ' -> 'extension ', 'serial no. ' -> 'serial number ' (the abbreviation rules come later,
    and only read "No." before a digit)."""
    names = {"ext": "extension", "acct": "account", "no": "number"}
    return re.sub(r"\b(ext|acct|no)\.", lambda m: names[m.group(1)], cue)


def _spell_address(text: str) -> str:
    out = []
    for piece in re.split(r"([./@:_-])", text):
        if piece in ("", None):
            continue
        names = {".": "dot", "/": "slash", "@": "at", ":": "colon", "_": "underscore", "-": "dash"}
        if piece in names:
            out.append(names[piece])
        elif piece.lower() in ("www", "http", "https", "ftp"):
            out.append(" ".join(piece.lower()))
        else:
            out.append(" ".join(re.sub(r"(\d+)", lambda d: f" {digits(d.group(1))} ", piece).split()))
    return " ".join(out)


def _address(m: re.Match) -> str:
    trailing = re.search(r"[.,;:!?)]+$", m.group(0))
    core = m.group(0)[: trailing.start()] if trailing else m.group(0)
    return _spell_address(core) + (trailing.group(0) if trailing else "")


RULES: list[Rule] = [
    rule("contact.email", rf"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS})\b", _address),
    rule(
        "contact.web",
        rf"\b(?:https?://|ftp://|www\.)[^\s<>\"]*[\w/]|\b[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS})\b(?:/[^\s<>\"]*[\w/])?",
        _address,
    ),
    rule("contact.card", r"\b(\d{4})[ -](\d{4})[ -](\d{4})[ -](\d{4})\b", lambda m: _groups(*m.groups())),
    rule(
        "contact.phone",
        r"(?<![\w-])(\+\d{1,3}[ .-]|1-)?\(?(\d{3})(?:\)\s?|[ .-])(\d{3})[ .-](\d{4})\b",
        _phone,
    ),
    rule(
        "contact.phone",
        rf"(\b{_PHONE_CUE}(?!\w)[^\d\n]{{0,20}}?)(?<![\w-])(\d{{3}})-(\d{{4}})\b",
        lambda m: m.group(1) + _groups(m.group(2), m.group(3)),
    ),
    rule(
        "contact.zip",
        rf"\b({'|'.join(_STATES)}|(?i:zip|zip code|postcode))(,?\s+)(\d{{5}})(?:-(\d{{4}}))?\b",
        lambda m: m.group(1) + m.group(2) + _groups(m.group(3), m.group(4)),
    ),
    rule(
        "contact.digits",
        rf"(\b{_DIGIT_CUE}(?!\w)(?:\s+(?:number|no\.|is|#))?:?\s*)(\d[\d -]*\d|\d)\b",
        lambda m: _spell_cue(m.group(1)) + _groups(*re.split(r"[ -]+", m.group(2))),
    ),
]
