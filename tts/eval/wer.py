"""Word error rate with one fixed English text normaliser, applied to references and hypotheses alike.

`normalize_for_wer`: our TTS normaliser first (numbers, currency, abbreviations become words, so
"3" and "three" agree), then lower case, hyphens and slashes become spaces, every character that
is not a letter, digit, apostrophe or space is removed, apostrophes not inside a word are removed,
and white space is collapsed.
"""

from __future__ import annotations

import re

import jiwer

from tts.text import normalize


def normalize_for_wer(text: str) -> str:
    text = normalize(text).lower()
    text = re.sub(r"[-/]", " ", text)
    text = re.sub(r"[^\w' ]", " ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def wer(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER (errors / reference words) after `normalize_for_wer`, as a fraction."""
    refs = [normalize_for_wer(r) for r in references]
    hyps = [normalize_for_wer(h) for h in hypotheses]
    if not any(refs):
        raise ValueError("WER needs at least one non-empty reference")
    pairs = [(r, h) for r, h in zip(refs, hyps) if r]
    return float(jiwer.wer([r for r, _ in pairs], [h or "<empty>" for _, h in pairs]))
