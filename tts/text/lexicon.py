"""A user's pronunciation lexicon: one-off fixes applied before the normalizer's rules.

File format (UTF-8), one entry per line, `#` starts a comment line, blank lines are skipped:

    Nguyen<TAB>win
    Hermione<TAB>/hɝmˈaɪəni/
    St. Kilda<TAB>Saint Kilda

The written form is matched as a whole word (or phrase); a form with a capital letter matches
only as written, an all-lowercase form matches in any case. A replacement is plain text, read by
the rules like any other text (so keep a name's capital: "Dr. Nguyen" -> "Dr. Win" still reads
"Doctor"), or IPA between slashes, which bypasses the rules and espeak-ng:
its symbols reach the phoneme ids unchanged (each must be in the tokenizer's vocabulary). A
malformed line is an `InputError` naming the file and line.

In normalized text an IPA entry stands as ⟦ipa⟧ (`IPA_OPEN`, `IPA_CLOSE`); `tts.text.g2p`
splices it into espeak-ng's output. The brackets cannot come from user text: the normalizer
transliterates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from latentlm_common.errors import InputError
from tts.text.tokenizer import SYMBOLS

IPA_OPEN, IPA_CLOSE = "⟦", "⟧"
IPA_SPAN = re.compile(f"({IPA_OPEN}[^{IPA_CLOSE}]*{IPA_CLOSE})")


@dataclass(frozen=True)
class Lexicon:
    entries: dict[str, str]  # written form -> plain text, or ⟦ipa⟧

    def __post_init__(self):
        keys = sorted(self.entries, key=len, reverse=True)  # longest first: "St. Kilda" before "St."
        alts = [re.escape(k) if not k.islower() else f"(?i:{re.escape(k)})" for k in keys]
        object.__setattr__(self, "_pattern", re.compile(rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)") if keys else None)
        object.__setattr__(self, "_folded", {k.lower(): v for k, v in self.entries.items() if k.islower()})

    def apply(self, text: str, record: list[tuple[str, str]] | None = None) -> str:
        """`text` with every entry's written form replaced; each (written, replacement) appended
        to `record` when given."""
        if self._pattern is None:
            return text

        def replace(m: re.Match) -> str:
            spoken = self.entries.get(m.group(0)) or self._folded[m.group(0).lower()]
            if record is not None:
                record.append((m.group(0), spoken))
            return spoken

        return self._pattern.sub(replace, text)

    @classmethod
    def parse(cls, text: str, source: str = "lexicon") -> Lexicon:
        entries: dict[str, str] = {}
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            written, spoken = _entry(line, f"{source}:{n}")
            if written in entries:
                raise InputError(f"{source}:{n}: {written!r} is already in the lexicon")
            entries[written] = spoken
        return cls(entries)

    @classmethod
    def load(cls, lexicon: Lexicon | str | Path | None) -> Lexicon | None:
        """A lexicon, a lexicon file's path, or None (no lexicon)."""
        if lexicon is None or isinstance(lexicon, Lexicon):
            return lexicon
        path = Path(lexicon)
        if not path.is_file():
            raise InputError(f"{path}: no such lexicon file")
        try:
            return cls.parse(path.read_text(encoding="utf-8"), str(path))
        except UnicodeDecodeError as e:
            raise InputError(f"{path}: the lexicon is not UTF-8 text ({e.reason} at byte {e.start})") from None


def _entry(line: str, where: str) -> tuple[str, str]:
    """(written, replacement) of one line, or an InputError naming `where`."""
    if line.count("\t") != 1:
        raise InputError(f"{where}: expected 'written<TAB>replacement' (one tab), got {line.strip()[:60]!r}")
    written, spoken = (part.strip() for part in line.split("\t"))
    if not written or not spoken:
        raise InputError(f"{where}: both the written form and its replacement must be non-empty")
    if len(spoken) > 1 and spoken.startswith("/") and spoken.endswith("/"):
        ipa = " ".join(spoken[1:-1].split())
        unknown = sorted({ch for ch in ipa if ch not in SYMBOLS})
        if not ipa or unknown:
            raise InputError(
                f"{where}: IPA {spoken!r} has symbols outside the phoneme vocabulary: {''.join(unknown)!r}"
            )
        return written, f"{IPA_OPEN}{ipa}{IPA_CLOSE}"
    if spoken.startswith("/") or spoken.endswith("/"):
        raise InputError(f"{where}: IPA must be written between two slashes, got {spoken!r}")
    return written, spoken
