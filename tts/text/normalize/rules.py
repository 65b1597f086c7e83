"""The rule engine: a rule is a named regular expression and a function from its match to the
spoken words. Rules run in a fixed order over the whole text; `apply` can record each rewrite
(rule name, the span as it stood, what replaced it) for `latentlm-tts text --explain`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Replace = Callable[[re.Match], str]


@dataclass(frozen=True)
class Rule:
    name: str  # "family.rule", shown by --explain
    pattern: re.Pattern
    replace: Replace


@dataclass(frozen=True)
class Rewrite:
    rule: str
    written: str  # the span as it stood when the rule ran (earlier rules may have changed it)
    spoken: str


def rule(name: str, pattern: str, replace: Replace | str, flags: int = 0) -> Rule:
    """A `Rule`; a string `replace` is a template (r"\\1 to \\2")."""
    fn = (lambda m, t=replace: m.expand(t)) if isinstance(replace, str) else replace
    return Rule(name, re.compile(pattern, flags), fn)


def apply(rules: list[Rule], text: str, trace: list[Rewrite] | None = None) -> str:
    """`text` with every rule applied in order; each change appended to `trace` when given."""
    for r in rules:
        if trace is None:
            text = r.pattern.sub(r.replace, text)
        else:
            text = r.pattern.sub(lambda m, r=r: _traced(r, m, trace), text)
    return text


def _traced(r: Rule, m: re.Match, trace: list[Rewrite]) -> str:
    out = r.replace(m)
    if out != m.group(0):
        trace.append(Rewrite(r.name, m.group(0), out))
    return out


def sentence_end(m: re.Match) -> str:
    """'.' when the abbreviation just matched (ending in '.') also ended its sentence."""
    return "." if m.group(0).endswith(".") and re.match(r"\s*$|\s+[A-Z\"]", m.string[m.end() :]) else ""


def before(m: re.Match, chars: int = 40) -> str:
    """Up to `chars` characters of the text before the match."""
    return m.string[max(0, m.start() - chars) : m.start()]


def after(m: re.Match, chars: int = 40) -> str:
    return m.string[m.end() : m.end() + chars]
