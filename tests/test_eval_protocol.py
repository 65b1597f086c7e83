"""The zero-shot protocol: test lists of settings A and B, word-boundary prefix cuts from a real forced
alignment, the score table, and `latentlm-tts eval` (ground truth scored for real, bad input)."""

import numpy as np
import pytest

from latentlm_common.errors import InputError
from tts.cli.main import main
from tts.eval.protocol import (
    Clip,
    Utterance,
    align_words,
    load_or_build_lists,
    prefix_cut,
    select,
    setting_a,
    setting_b,
    utterances_from_cuts,
)
from tts.eval.score import GROUND_TRUTH, Score, format_table, read_csv, summarize, write_csv


@pytest.fixture(scope="module")
def unseen(tiny_corpus, tmp_path_factory):
    """The tiny corpus's test-unseen part (2 speakers x 3 utterances) as a Lhotse manifest."""
    from recipes.librispeech.prepare import prepare

    out = tmp_path_factory.mktemp("manifests")
    prepare(tiny_corpus, out, parts=["test-unseen"])
    return out / "cuts_test-unseen.jsonl.gz"


def utt(uid, speaker, seconds):
    return Utterance(uid, speaker, "SOME WORDS HERE", Clip(f"{uid}.flac", 0.0, seconds))


def test_setting_a_prompts_with_the_previous_utterance_of_the_same_speaker():
    utts = select(
        [
            utt("1-0", "1", 5),
            utt("1-1", "1", 6),
            utt("1-2", "1", 12),
            utt("2-0", "2", 5),
            utt("3-0", "3", 4.5),
            utt("3-1", "3", 9),
        ]
    )
    assert [u.id for u in utts] == ["1-0", "1-1", "2-0", "3-0", "3-1"]  # 12 s is outside 4-10 s
    items = setting_a(utts)
    prompts = {it.id: it.prompt.path for it in items}
    assert prompts == {"1-0": "1-1.flac", "1-1": "1-0.flac", "3-0": "3-1.flac", "3-1": "3-0.flac"}  # 2-0 is alone
    assert all(it.prompt_text is None and it.setting == "A" for it in items)


def test_prefix_cut_takes_the_word_boundary_closest_to_the_prefix_length():
    words = [("a", 0.1, 0.9), ("b", 1.0, 2.2), ("c", 2.4, 3.4), ("d", 3.5, 4.0)]
    assert prefix_cut(words, 2.5) == 2  # boundaries at 0.95, 2.3, 3.45: 2.3 is closest to 2.5
    assert prefix_cut(words, 3.3) == 3
    assert prefix_cut(words[:1], 3.0) is None


def test_setting_b_cuts_real_speech_at_an_aligned_word_boundary(unseen):
    utts = utterances_from_cuts(unseen)
    items, skipped = setting_b(utts, prefix_seconds=1.5)
    assert items and len(items) + len(skipped) == len(utts)
    by_id = {u.id: u for u in utts}
    for it in items:
        u = by_id[it.id]
        assert f"{it.prompt_text} {it.text}" == u.text  # the prefix words and the rest make the transcript
        assert it.prompt.end == it.target.start and 0.5 < it.prompt.end < u.duration
        words = align_words(u.clip.load(16000), 16000, u.text)
        assert [w for w, _, _ in words] == u.text.lower().split()
        assert all(a[1] <= a[2] <= b[1] + 1e-6 for a, b in zip(words, words[1:]))  # in order, no overlap
    assert align_words(np.zeros(1600, np.float32), 16000, "hello world") is None


def test_the_table_has_the_ground_truth_first_and_a_corpus_wer():
    def score(sid, system, ref, hyp, sim):
        return Score(sid, "A", system, "1", 5.0, 0.0, sim, ref, hyp)

    scores = [
        score("x", "LatentLM", "one two three four", "one two three", 0.5),
        score("y", "LatentLM", "five six", "five six", 0.7),
        score("x", GROUND_TRUTH, "one two three four", "one two three four", 0.9),
    ]
    rows = summarize(scores, {"A": 3})
    assert [r["system"] for r in rows] == [GROUND_TRUTH, "LatentLM"]
    assert rows[1]["wer"] == pytest.approx(100 / 6) and rows[1]["sim"] == pytest.approx(0.6)
    table = format_table(rows, "moonshine", "resemblyzer")
    assert "| A: reference utterance as prompt | LatentLM | 2 of 3 | 0.600 | 16.7 |" in table


def test_eval_command_scores_the_ground_truth(unseen, tmp_path, capsys):
    code = main(
        [
            "eval",
            "--manifest",
            str(unseen),
            "--out",
            str(tmp_path),
            "--settings",
            "A",
            "--limit",
            "2",
            "--min-seconds",
            "0",
            "--max-seconds",
            "30",
            "--asr",
            "pocketsphinx",
            "--threads",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    row = next(line for line in out.splitlines() if "ground truth" in line)
    sim = float(row.split("|")[4])
    assert 0.6 < sim <= 1.0  # two utterances of the same voice
    assert (tmp_path / "scores_pocketsphinx_resemblyzer.csv").read_text().count("\n") == 3
    assert (tmp_path / "A.limit2.jsonl").is_file() and not (tmp_path / "A.jsonl").exists()
    assert load_or_build_lists(unseen, tmp_path, ("A",), limit=2)["A"][0].id == "1900-19003-0000"  # kept on disk


def test_eval_command_rejects_bad_input(tmp_path, unseen, capsys):
    assert main(["eval", "--manifest", str(tmp_path / "missing.jsonl.gz"), "--out", str(tmp_path)]) == 2
    assert "no such manifest" in capsys.readouterr().err
    assert main(["eval", "--manifest", str(unseen), "--out", str(tmp_path / "o"), "--settings", "A"]) == 2
    assert "no utterance of 4-10 s" in capsys.readouterr().err


def test_eval_command_names_every_backend():
    from tts.cli.eval import ASR_NAMES, SIM_NAMES
    from tts.eval import ASR_BACKENDS, SIM_BACKENDS

    assert set(ASR_NAMES) == set(ASR_BACKENDS) and set(SIM_NAMES) == set(SIM_BACKENDS)


def test_spread_takes_items_round_robin_over_speakers():
    from tts.eval.protocol import Clip, TestItem, spread

    items = [TestItem(f"{s}-{i}", "A", s, "w", Clip("x.wav"), Clip("y.wav"), None) for s in "abc" for i in range(4)]
    picked = spread(items, 5)
    assert [it.id for it in picked] == ["a-0", "a-1", "b-0", "b-1", "c-0"]
    assert spread(items, None) == items and spread(items, 99) == items


def test_limited_setting_b_aligns_only_what_it_keeps_round_robin_over_speakers(monkeypatch):
    import tts.eval.protocol as protocol

    calls = []

    def fake_align(audio, sample_rate, text):
        calls.append(text)
        return None if text == "fails" else [("one", 0.0, 1.0), ("two", 2.9, 3.5), ("three", 3.6, 5.0)]

    monkeypatch.setattr(protocol, "align_words", fake_align)
    monkeypatch.setattr(Clip, "load", lambda self, sample_rate: np.zeros(8, np.float32))
    utts = [
        Utterance(f"{spk}-{i}", spk, "fails" if (spk, i) == ("s1", 0) else "one two three", Clip("x.flac", 0.0, 5.0))
        for spk in ("s1", "s2", "s3")
        for i in range(4)
    ]
    items, skipped = protocol.setting_b(utts, 3.0, limit=4)
    assert [it.id for it in items] == ["s1-1", "s2-0", "s2-1", "s3-0"]  # s1-0 fails; the next round takes s1-1
    assert skipped == ["s1-0"] and len(calls) == 5  # not all 12
    assert [it.prompt_text for it in items] == ["one two"] * 4
    assert len(protocol.setting_b(utts, 3.0)[0]) == 11


def test_scores_csv_round_trip_and_a_missing_file_is_input_error(tmp_path):
    scores = [Score("u1", "A", "LatentLM", "s1", 2.5, 0.25, 0.8125, "one two", "one too")]
    write_csv(scores, tmp_path / "scores.csv")
    assert read_csv(tmp_path / "scores.csv") == scores
    with pytest.raises(InputError, match="no scores there"):
        read_csv(tmp_path / "none.csv")
