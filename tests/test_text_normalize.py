"""English normalization: each case pins the exact spoken words."""

import logging
import re

import pytest

from tts.text.normalize import normalize

CASES = [
    # cardinals
    ("I have 3 apples.", "I have three apples."),
    ("0", "zero"),
    ("42", "forty-two"),
    ("103 dogs", "one hundred and three dogs"),
    ("1,000,000 stars", "one million stars"),
    ("1,234,567", "one million two hundred and thirty-four thousand five hundred and sixty-seven"),
    ("1,999 people", "one thousand nine hundred and ninety-nine people"),
    ("agent 007", "agent zero zero seven"),
    ("1,2,3", "one, two, three"),
    ("mp3 files", "mp three files"),
    ("COVID-19", "COVID-nineteen"),
    # decimals and negatives
    ("pi is 3.14", "pi is three point one four"),
    ("0.5 liters", "zero point five liters"),
    (".5", "point five"),
    ("It was -5 outside.", "It was minus five outside."),
    ("-3.5", "minus three point five"),
    # ordinals
    ("the 1st place", "the first place"),
    ("the 22nd floor", "the twenty-second floor"),
    ("the 103rd time", "the one hundred and third time"),
    ("the 21st century", "the twenty-first century"),
    # years and decades
    ("in 1999", "in nineteen ninety-nine"),
    ("in 2024.", "in twenty twenty-four."),
    ("in 2005", "in two thousand and five"),
    ("in 1905", "in nineteen oh-five"),
    ("in 1066", "in one thousand and sixty-six"),
    ("since 1900", "since nineteen hundred"),
    ("the 1990s", "the nineteen nineties"),
    ("the '80s", "the eighties"),
    ("the 2000s", "the two thousands"),
    ("the 1800s", "the eighteen hundreds"),
    # currency
    ("It costs $5.", "It costs five dollars."),
    ("$1", "one dollar"),
    ("$5.50", "five dollars and fifty cents"),
    ("$0.99", "ninety-nine cents"),
    ("$1.01", "one dollar and one cent"),
    ("$1,000", "one thousand dollars"),
    ("$2.5 million", "two point five million dollars"),
    ("$5M", "five million dollars"),
    ("£3.20", "three pounds and twenty pence"),
    ("£1", "one pound"),
    ("€2.50", "two euros and fifty cents"),
    ("€1", "one euro"),
    ("¥500", "five hundred yen"),
    ("50¢", "fifty cents"),
    # percentages
    ("50% off", "fifty percent off"),
    ("3.5%", "three point five percent"),
    ("-2%", "minus two percent"),
    # times
    ("at 7:30 p.m.", "at seven thirty PM."),
    ("at 7:30 pm today", "at seven thirty PM today"),
    ("7:05", "seven oh five"),
    ("at 7:00", "at seven o'clock"),
    ("at 19:45", "at nineteen forty-five"),
    ("6 a.m. sharp", "six AM sharp"),
    ("at 11AM", "at eleven AM"),
    # dates
    ("12/25/2024", "December twenty-fifth, twenty twenty-four"),
    ("25/12/2024", "December twenty-fifth, twenty twenty-four"),
    ("2024-12-25", "December twenty-fifth, twenty twenty-four"),
    ("1/2/24", "January second, twenty twenty-four"),
    ("December 25, 2024", "December twenty-fifth, twenty twenty-four"),
    ("on Dec. 25", "on December twenty-fifth"),
    ("March 3rd", "March third"),
    ("25 December 2024", "the twenty-fifth of December, twenty twenty-four"),
    ("the 4th of July", "the fourth of July"),
    # units
    ("5 km", "five kilometers"),
    ("1 km", "one kilometer"),
    ("2.5 kg", "two point five kilograms"),
    ("98.6°F", "ninety-eight point six degrees Fahrenheit"),
    ("-40 °C", "minus forty degrees Celsius"),
    ("1 °C", "one degree Celsius"),
    ("100 mph", "one hundred miles per hour"),
    ("60 km/h", "sixty kilometers per hour"),
    ("16 GB", "sixteen gigabytes"),
    ("a 5 min walk", "a five minutes walk"),
    ("a 100m sprint", "a one hundred meters sprint"),
    ("6 ft", "six feet"),
    ("wait 5s", "wait five seconds"),
    ("He's 6'2\" tall.", "He's six feet two inches tall."),
    # abbreviations
    ("Dr. Smith met Mr. Jones and Mrs. Brown.", "Doctor Smith met Mister Jones and Missus Brown."),
    ("Ms. Lee", "Miz Lee"),
    ("Mr Smith", "Mister Smith"),
    ("St. Louis", "Saint Louis"),
    ("on Main St.", "on Main Street."),
    ("fruit, e.g. apples", "fruit, for example apples"),
    ("i.e. this one", "that is this one"),
    ("cats, dogs, etc. Then we left.", "cats, dogs, et cetera. Then we left."),
    ("cats, dogs, etc., all of them", "cats, dogs, et cetera, all of them"),
    ("cats vs. dogs", "cats versus dogs"),
    ("No. 5", "number five"),
    ("Mt. Everest", "Mount Everest"),
    ("Martin Luther King Jr.", "Martin Luther King Junior."),
    # symbols
    ("salt & pepper", "salt and pepper"),
    ("me@example", "me at example"),
    ("1 + 1 = 2", "one plus one equals two"),
    ("#1 hit", "number one hit"),
    ("#AI", "hash AI"),
    ("and/or", "and slash or"),
    ("5 × 3", "five times three"),
    # fractions and ranges
    ("1/2", "one half"),
    ("3/4 cup", "three quarters cup"),
    ("2/3", "two thirds"),
    ("1/3", "one third"),
    ("5/8", "five eighths"),
    ("5 1/2", "five and a half"),
    ("½ cup", "one half cup"),
    ("1½ hours", "one and a half hours"),
    ("pages 10-20", "pages ten to twenty"),
    ("24/7 service", "twenty-four seven service"),
    # punctuation, markup and characters
    ("hello -- world", "hello, world"),
    ("hello — world", "hello, world"),
    ("well-known", "well-known"),
    ("*bold* and _under_", "bold and under"),
    ("“Hi,” she said…", '"Hi," she said...'),
    ("don’t", "don't"),
    ("café in Zürich", "café in Zürich"),
    ("Привет, world", "Privet, world"),
    ("  spaced   out  ", "spaced out"),
]


@pytest.mark.parametrize("written, spoken", CASES, ids=[c[0] for c in CASES])
def test_normalize(written, spoken):
    assert normalize(written) == spoken


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60


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
