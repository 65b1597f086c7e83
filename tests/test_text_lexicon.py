"""The pronunciation lexicon: file format, one-line errors, and IPA that reaches the ids unchanged."""

import pytest

from latentlm_common.errors import InputError
from tts.cli.main import main
from tts.text import Lexicon, PhonemeTokenizer, explain, normalize, split_text, text_to_ids
from tts.text.words import written_words

IPA = "hɝmˈaɪəni"


@pytest.fixture
def lexicon_file(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text(f"# names\n\nHermione\t/{IPA}/\nnguyen\tWin\nSt. Kilda\tSaint Kilda\n", encoding="utf-8")
    return path


def test_plain_entries_are_read_by_the_rules(lexicon_file):
    lexicon = Lexicon.load(lexicon_file)
    assert normalize("Dr. Nguyen paid $5 on St. Kilda.", lexicon) == "Doctor Win paid five dollars on Saint Kilda."
    assert normalize("NGUYEN", lexicon) == "Win"  # an all-lowercase form matches any case
    assert normalize("Nguyenville", lexicon) == "Nguyenville"  # whole words only


def test_capitalised_forms_match_only_as_written():
    lexicon = Lexicon.parse("US\tUnited States\n")
    assert normalize("the US and us", lexicon) == "the United States and us"


def test_ipa_entry_reaches_the_phoneme_ids_unchanged(lexicon_file):
    tok = PhonemeTokenizer()
    lexicon = Lexicon.load(lexicon_file)
    ids = text_to_ids("Hermione waved.", tok, lexicon)
    assert tok.decode(ids).startswith(IPA + " ")
    assert ids[: len(IPA)] == tok.encode(IPA) and tok.unk_id not in ids
    chunks = split_text("Hermione's owl. Then Hermione left.", lexicon=lexicon)
    assert all(IPA in c.phonemes and "⟦" not in c.phonemes for c in chunks)


def test_ipa_survives_a_second_normalization(lexicon_file):
    lexicon = Lexicon.load(lexicon_file)
    once = normalize("Hermione, 3 owls.", lexicon)
    assert once == f"⟦{IPA}⟧, three owls."
    assert normalize(once, lexicon) == once and normalize(once) == once


def test_written_words_use_the_lexicon(lexicon_file):
    lexicon = Lexicon.load(lexicon_file)
    words = normalize("Nguyen paid $3", lexicon).split()
    assert written_words("Nguyen paid $3", words, lexicon) == [("Nguyen", 0), ("paid", 1), ("$3", 2), ("$3", 2)]


def test_explain_names_the_lexicon_and_the_rules(lexicon_file):
    text, rewrites = explain("Nguyen met Dr. Watson at 9:30 p.m.", Lexicon.load(lexicon_file))
    assert text == "Win met Doctor Watson at nine thirty PM."
    assert [(r.rule, r.written, r.spoken) for r in rewrites] == [
        ("lexicon", "Nguyen", "Win"),
        ("abbreviation.street_or_saint", "Dr.", "Doctor"),
        ("time", "9:30 p.m.", "nine thirty PM."),
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ("no tab here", "lexicon.tsv:2: expected 'written<TAB>replacement' (one tab)"),
        ("a\tb\tc", "lexicon.tsv:2: expected 'written<TAB>replacement' (one tab)"),
        ("\tword", "lexicon.tsv:2: both the written form and its replacement must be non-empty"),
        ("word\t/xyz£/", "lexicon.tsv:2: IPA '/xyz£/' has symbols outside the phoneme vocabulary: '£'"),
        ("word\t/abc", "lexicon.tsv:2: IPA must be written between two slashes"),
        ("ok\tfine", "lexicon.tsv:2: 'ok' is already in the lexicon"),
    ],
)
def test_malformed_lines_are_one_line_errors_with_the_line_number(tmp_path, line, message):
    path = tmp_path / "lexicon.tsv"
    path.write_text(f"ok\tfine\n{line}\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        Lexicon.load(path)
    assert str(e.value).startswith(f"{path.parent}/{message}") and "\n" not in str(e.value)


def test_missing_and_binary_files_are_errors(tmp_path):
    with pytest.raises(InputError, match="no such lexicon file"):
        Lexicon.load(tmp_path / "none.tsv")
    (tmp_path / "bin.tsv").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        Lexicon.load(tmp_path / "bin.tsv")


def test_cli_explain_and_lexicon(lexicon_file, capsys):
    assert main(["text", "--explain", "--lexicon", str(lexicon_file), "Hermione met Prof. Nguyen in 1066."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"normalized: ⟦{IPA}⟧ met Professor Win in ten sixty-six."
    assert lines[1].startswith(f"phonemes: {IPA} mˈɛt")
    assert lines[2:] == [
        f"  lexicon: 'Hermione' -> '⟦{IPA}⟧'",
        "  lexicon: 'Nguyen' -> 'Win'",
        "  abbreviation.title: 'Prof.' -> 'Professor'",
        "  number.year: 'in 1066' -> 'in ten sixty-six'",
    ]


def test_cli_bad_lexicon_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "bad.tsv").write_text("oops\n", encoding="utf-8")
    assert main(["text", "--lexicon", str(tmp_path / "bad.tsv"), "hello"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "bad.tsv:1:" in err


def test_the_synthesizer_takes_a_lexicon_file(tmp_path, lexicon_file):
    from tiny_model import make_tiny_checkpoint

    from tts.api import TTS

    make_tiny_checkpoint(tmp_path / "ckpt")
    tts = TTS.from_pretrained(tmp_path / "ckpt", lexicon=lexicon_file)
    chunks = tts._chunks("Nguyen waved at Hermione.")
    assert chunks[0].text == f"Win waved at ⟦{IPA}⟧." and chunks[0].phonemes.endswith(IPA + ".")
    audio = tts.synthesize("Hermione.", steps=1, seed=0)
    assert audio.samples.size > 0
    with pytest.raises(InputError, match="no such lexicon file"):
        TTS.from_pretrained(tmp_path / "ckpt", lexicon=tmp_path / "missing.tsv")
