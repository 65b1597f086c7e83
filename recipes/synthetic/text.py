"""Sentences the corpus speaks: offline, freely licensed English text, filtered and normalised.

Sources, in order:
- `wordnet`: the usage examples in WordNet 3.0 (Debian `wordnet-base`, WordNet licence: free use
  and redistribution with the copyright notice);
- `fortunes`: a decent subset of the BSD fortune files (Debian `fortunes`, `fortunes-min`);
- `bundled`: `sentences.txt` beside this file, written for this project (MIT), always present.
Every sentence goes through `tts.text.normalize`, so the transcript is what the model will read.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

WORDNET_DIR = Path("/usr/share/wordnet")
FORTUNES_DIR = Path("/usr/share/games/fortunes")
FORTUNE_FILES = (
    "fortunes",
    "wisdom",
    "literature",
    "science",
    "food",
    "kids",
    "pets",
    "platitudes",
    "people",
    "education",
    "work",
    "humorists",
)
BUNDLED = Path(__file__).with_name("sentences.txt")
SOURCES = ("wordnet", "fortunes", "bundled")

MIN_WORDS, MAX_WORDS, MAX_CHARS = 8, 32, 220  # under 8 words most voices speak for less than 2 s
# Words that keep a sentence out of the corpus (decency filter; matched as whole words, any case).
BLOCKLIST = frozenset(
    """
sex sexy sexual sexually rape raped rapist porn pornography nude naked whore slut bitch bastard damn
goddamn hell fuck fucking shit crap piss ass asshole dick cock pussy penis vagina breasts tits boobs
nigger negro fag faggot queer dyke retard retarded kill killed killing murder murdered suicide corpse
drunk drunken cocaine heroin marijuana kike spic chink gook jap wop cunt screw screwed orgasm genitals
""".split()
)
ALLOWED = re.compile(r"^[A-Za-z0-9 ,.;:'?!\-\"()]+$")


def wordnet_examples(root: Path = WORDNET_DIR) -> list[str]:
    """The quoted usage examples in WordNet's data.* files, as sentences."""
    out = []
    for path in sorted(root.glob("data.*")):
        for line in path.read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue  # licence header lines start with two spaces
            for quote in re.findall(r'"([^"]+)"', line.split("|", 1)[1]):
                quote = quote.strip()
                out.append(quote[:1].upper() + quote[1:] + ("" if quote[-1:] in ".?!" else "."))
    return out


def fortune_sentences(root: Path = FORTUNES_DIR) -> list[str]:
    """Fortune cookies from a fixed set of the gentler fortune files, attributions removed."""
    out = []
    for name in FORTUNE_FILES:
        path = root / name
        if not path.is_file():
            continue
        for entry in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            if re.search(r"^\s*\w+:", entry, re.M):
                continue  # dialogue ("A: ... B: ...") does not read as one sentence
            out.append(re.sub(r"\s+", " ", entry.split("--")[0]).strip())
    return out


def bundled_sentences(path: Path = BUNDLED) -> list[str]:
    return [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip() and not s.startswith("#")]


def is_usable(sentence: str) -> bool:
    """Length and decency filter on raw text: plain ASCII prose of MIN_WORDS..MAX_WORDS words."""
    words = sentence.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS) or len(sentence) > MAX_CHARS or not ALLOWED.match(sentence):
        return False
    return not any(w.strip(".,;:'?!\"()-").lower() in BLOCKLIST for w in words)


def librispeech_transcript(text: str) -> str:
    """LibriSpeech style: upper case, letters and apostrophes only, single spaces."""
    text = re.sub(r"[^A-Z']+", " ", text.upper())
    return re.sub(r"\s+", " ", re.sub(r"(?<![A-Z])'|'(?![A-Z])", " ", text)).strip()


def load_sentences(sources: tuple[str, ...] = SOURCES) -> tuple[list[str], dict[str, int]]:
    """Normalised, filtered, de-duplicated sentences (in a fixed order) and a count per source."""
    from tts.text import normalize

    readers = {"wordnet": wordnet_examples, "fortunes": fortune_sentences, "bundled": bundled_sentences}
    seen, sentences, counts = set(), [], {}
    for source in sources:
        if source not in readers:
            log.warning(f"text source {source!r} is unknown (known: {', '.join(SOURCES)}); skipped")
            continue
        raw = readers[source]()
        if not raw:
            log.warning(f"text source {source!r} is not installed; skipped")
        kept = 0
        for s in raw:
            if not is_usable(s):
                continue
            norm = re.sub(r"\s+", " ", normalize(s)).strip()
            key = librispeech_transcript(norm)
            if key and key not in seen and len(key.split()) >= MIN_WORDS:
                seen.add(key)
                sentences.append(norm)
                kept += 1
        counts[source] = kept
    return sentences, counts
