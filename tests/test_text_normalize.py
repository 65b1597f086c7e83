"""English normalization: each case pins the exact spoken words."""

import logging
import re
from collections import Counter
from pathlib import Path

import pytest

from tts.text.normalize import normalize

TABLE = Path(__file__).parent / "data" / "normalization.tsv"
HELD_OUT = [Path(__file__).parent / "data" / f"normalization_{name}.tsv" for name in ("heldout", "heldout2")]
ISSUE_CLASSES = [
    "fraction_unit",
    "unit_abbreviation",
    "date_lowercase",
    "title",
    "digits",
    "time_year",
    "roman",
    "other",
]


def read_cases(path: Path) -> list[tuple[str, str, str]]:
    """(class, written, spoken) per line that is not blank or a '#' comment."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line.strip() and not line.startswith("#")]


CASES = read_cases(TABLE)


@pytest.mark.parametrize("cls, written, spoken", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_normalize(cls, written, spoken):
    assert normalize(written) == spoken


def test_the_table_has_400_cases_and_20_per_class():
    assert all(len(case) == 3 for case in CASES)
    assert len(CASES) >= 400
    counts = Counter(cls for cls, _, _ in CASES)
    assert {cls: counts[cls] for cls in ISSUE_CLASSES if counts[cls] < 20} == {}


@pytest.mark.parametrize("path", HELD_OUT, ids=lambda p: p.stem)
def test_the_held_out_tables_are_separate_and_well_formed(path):
    """Held-out cases are scored by benchmarks/normalize_accuracy.py, never asserted (nor tuned on)."""
    held_out = read_cases(path)
    assert len(held_out) >= 95 and all(len(case) == 3 for case in held_out)
    assert not {w for _, w, _ in held_out} & {w for _, w, _ in CASES}


def test_no_digits_survive():
    text = "Call 3 times, 12.5% of 1,024 items on 3/4/2021 at 10:15, route 66, 4x4, v2.0.1, 0xFF, 1e9"
    assert not re.search(r"\d", normalize(text))


def test_emoji_is_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="tts.text.normalize"):
        assert normalize("hello 😀 there 👍🏽") == "hello there"
    assert "😀" in caplog.text


def test_cjk_is_transliterated_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="tts.text.normalize"):
        assert normalize("你好 world") == "Ni Hao world"
    assert "transliterated" in caplog.text


def test_blank_text_normalizes_to_nothing():
    assert normalize("") == ""
    assert normalize(" \n\t ") == ""
