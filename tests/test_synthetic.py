"""The synthetic corpus builder: LibriSpeech layout read by Lhotse, determinism, metadata, skipping."""

import csv
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recipes.synthetic.build import SPLITS, main
from recipes.synthetic.engines import CATALOG, ESPEAK, BaseVoice, resolve_voices
from recipes.synthetic.speakers import plan_speakers
from recipes.synthetic.text import is_usable, librispeech_transcript
from recipes.synthetic.tiny import build_tiny_corpus

ESPEAK_US = next(v for v in CATALOG if v.key == "espeak:en-us")


def read_table(path: Path, sep=" ") -> dict[str, str]:
    return dict(line.rstrip("\n").split(sep, 1) for line in path.read_text().splitlines())


def all_transcripts(corpus: Path, split: str, suffix: str = "trans.txt") -> dict[str, str]:
    out = {}
    for path in sorted((corpus / split).rglob(f"*.{suffix}")):
        out.update(read_table(path))
    return out


def test_lhotse_prepare_librispeech_reads_tiny_corpus(tiny_corpus, tmp_path):
    from lhotse import CutSet
    from lhotse.recipes import prepare_librispeech

    manifests = prepare_librispeech(tiny_corpus, dataset_parts=list(SPLITS), output_dir=tmp_path)
    counts = {}
    for split in SPLITS:
        expected = all_transcripts(tiny_corpus, split)
        cuts = CutSet.from_manifests(**manifests[split])
        counts[split] = len(cuts)
        assert len(cuts) == len(expected) > 0
        for cut in cuts:
            assert cut.supervisions[0].text == expected[cut.recording_id]
            assert 2.0 <= cut.duration <= 15.0
            assert cut.sampling_rate == 24000
            assert cut.duration == pytest.approx(cut.load_audio().shape[-1] / 24000)
    assert counts == {"train": 12, "dev": 4, "test": 4, "test-unseen": 6}


def test_tiny_corpus_speakers_and_splits(tiny_corpus):
    with open(tiny_corpus / "speakers.tsv") as f:
        rows = {int(r["speaker"]): r for r in csv.DictReader(f, delimiter="\t")}
    on_disk = {split: {int(p.name) for p in (tiny_corpus / split).iterdir()} for split in SPLITS}
    assert set().union(*on_disk.values()) == set(rows)
    assert on_disk["test-unseen"].isdisjoint(on_disk["train"])
    unseen_bases = {rows[s]["base_voice"] for s in on_disk["test-unseen"]}
    train_bases = {rows[s]["base_voice"] for s in on_disk["train"]}
    assert len(unseen_bases - train_bases) >= 2  # whole base voices never heard in training
    warped = [r for r in rows.values() if float(r["f0_scale"]) != 1.0 or float(r["formant_scale"]) != 1.0]
    assert warped and all(r["engine"] == "espeak" and r["base_voice"] for r in rows.values())
    for r in rows.values():
        assert int(r["speaker"]) // 100 == next(v.code for v in CATALOG if v.key == f"espeak:{r['base_voice']}")


def test_normalized_side_file_matches_transcripts(tiny_corpus):
    for split in SPLITS:
        trans = all_transcripts(tiny_corpus, split)
        normalized = all_transcripts(tiny_corpus, split, "normalized.txt")
        assert normalized.keys() == trans.keys()
        for utt, text in normalized.items():
            assert text != trans[utt] and librispeech_transcript(text) == trans[utt]


def file_digests(corpus: Path) -> dict[str, bytes]:
    paths = [p for p in corpus.rglob("*") if p.is_file() and p.name != "DATA.md"]  # DATA.md holds the build time
    return {str(p.relative_to(corpus)): p.read_bytes() for p in paths}


def test_same_seed_same_corpus_other_seed_differs(tiny_corpus, tmp_path):
    again = file_digests(build_tiny_corpus(tmp_path / "again", seed=0))
    assert again == file_digests(tiny_corpus)
    other = file_digests(build_tiny_corpus(tmp_path / "other", seed=1))
    assert other != again


def test_interrupted_build_resumes_to_the_same_corpus(tiny_corpus, tmp_path):
    from recipes.synthetic.build import build
    from recipes.synthetic.tiny import tiny_config

    out = tmp_path / "resumed"
    shutil.copytree(tiny_corpus, out)
    (out / ".build" / "speaker-1001.json").unlink()  # as if stopped while speaker 1001 was being spoken
    (out / "train" / "1001" / "10010" / "1001-10010-0001.flac").unlink()
    (out / "DATA.md").unlink()
    build(tiny_config(out, seed=0))
    assert file_digests(out) == file_digests(tiny_corpus)
    with pytest.raises(FileExistsError, match="not empty"):
        build(tiny_config(out, seed=1))


def test_idle_jobs_resume_to_the_same_corpus(tiny_corpus, tmp_path):
    from dataclasses import replace

    from recipes.synthetic.build import build
    from recipes.synthetic.tiny import tiny_config

    out = tmp_path / "idle"
    shutil.copytree(tiny_corpus, out)
    for speaker in ("1000", "1001", "1100"):  # three speakers left to do, for two worker slots
        (out / ".build" / f"speaker-{speaker}.json").unlink()
    (out / "DATA.md").unlink()
    build(replace(tiny_config(out, seed=0), jobs=1, idle_jobs=1))
    assert file_digests(out) == file_digests(tiny_corpus)


def test_idle_worker_runs_at_the_lowest_priority():
    from recipes.synthetic.build import IDLE_NICE, worker_pool

    with worker_pool(IDLE_NICE) as pool:
        assert pool.apply(os.getpriority, (os.PRIO_PROCESS, 0)) == IDLE_NICE
    with worker_pool() as pool:
        assert pool.apply(os.getpriority, (os.PRIO_PROCESS, 0)) == os.getpriority(os.PRIO_PROCESS, 0)


def test_unknown_and_broken_engines_are_skipped_with_a_message(caplog):
    broken = BaseVoice(99, "espeak", "xx-no-such-voice", "M", ESPEAK)
    missing = BaseVoice(98, "festival", "no_such_festival_voice", "F", ESPEAK)
    with caplog.at_level(logging.WARNING):
        usable, skipped = resolve_voices(["espeak", "festival", "nonsense"], [ESPEAK_US, broken, missing])
    assert usable == [ESPEAK_US]
    assert any("'nonsense' is unknown" in m for m in skipped)
    assert any("espeak:xx-no-such-voice" in m and "probe" in m for m in skipped)
    assert any("festival:no_such_festival_voice" in m for m in skipped)
    assert all(m in caplog.text for m in skipped)


def test_cli_with_no_usable_engine_fails_with_one_line(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "c"), "--engines", "nonsense", "--no-qc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "base voices" in err[0]


def test_speaker_ids_and_warps_do_not_move_with_other_voices():
    espeak = [v for v in CATALOG if v.engine == "espeak"]
    full = {s.id: s for s in plan_speakers(CATALOG, 2 * len(CATALOG), seed=3)}
    part = {s.id: s for s in plan_speakers(espeak, 2 * len(espeak), seed=3)}
    assert set(part) <= set(full)
    assert all(full[i].warp == part[i].warp for i in part)
    held = {s.base.key for s in full.values() if s.unseen and s.k == 0}
    assert len(held) >= 2


def test_warp_changes_pitch_and_length():
    import pyworld

    from recipes.synthetic.engines import synthesize
    from recipes.synthetic.warp import Warp, apply_warp

    x, sr = synthesize(ESPEAK_US, "The morning train left the station before the rain began.")
    y = apply_warp(x, sr, Warp(f0_scale=1.5, formant_scale=1.0, rate=1.25))
    assert len(y) == pytest.approx(len(x) / 1.25, rel=0.05)

    def median_f0(a):
        f0, _ = pyworld.dio(a.astype(np.float64), sr)
        return np.median(f0[f0 > 0])

    assert median_f0(y) / median_f0(x) == pytest.approx(1.5, rel=0.1)
    assert apply_warp(x, sr, Warp()) is x


def test_text_filter_and_librispeech_transcript():
    assert is_usable("She opened the window and listened to the birds.")
    assert not is_usable("Too short here.")
    assert not is_usable("He was drunk again when he finally came home.")
    assert not is_usable("The caf\u00e9 was closed on Monday afternoon again.")
    assert (
        librispeech_transcript("It's a test, Doctor O'Neil -- 'quoted' too!") == "IT'S A TEST DOCTOR O'NEIL QUOTED TOO"
    )


def test_moonshine_transcribes_an_espeak_sentence():
    from recipes.synthetic.engines import synthesize
    from recipes.synthetic.qc import Transcriber, word_error_rate

    text = "The engineer checked each bolt on the bridge before the road reopened."
    x, sr = synthesize(ESPEAK_US, text)
    asr = Transcriber()
    try:
        hyp = asr(x, sr)
    finally:
        asr.close()
    assert asr.name.startswith("moonshine")
    assert word_error_rate(librispeech_transcript(text), hyp) < 0.3
    assert word_error_rate("A B C D", "A B X") == pytest.approx(0.5)


def test_similarity_statistics_separate_relations():
    from recipes.synthetic.qc import distinct_fraction, similarity_stats

    rng = np.random.default_rng(0)
    centers = {1000: rng.normal(size=8), 1001: rng.normal(size=8), 1100: rng.normal(size=8)}

    def utts(spk):
        e = centers[spk] + 0.1 * rng.normal(size=(3, 8))
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    emb = {(s, split): utts(s) for s in centers for split in ("train", "dev")}
    base_of = {1000: "espeak:en-us", 1001: "espeak:en-us", 1100: "espeak:en-us+f2"}
    stats = similarity_stats(emb, base_of)
    assert stats["same speaker, same split"][0] > 0.9 > stats["different speaker, same base voice"][0]
    assert stats["same speaker, across splits"][1] == 3 * 9
    assert distinct_fraction(emb, base_of) == (2, 2)


def test_data_card_command_rebuilds_the_same_options(tmp_path):
    from recipes.synthetic.build import BuildConfig
    from recipes.synthetic.card import build_command

    cfg = BuildConfig(
        out=tmp_path, hours=20.0, speakers=120, engines=("espeak", "mbrola"), qc=False, similarity=False, jobs=2
    )
    args = build_command(cfg).split()
    assert args[:3] == ["python", "-m", "recipes.synthetic.build"]
    for flag in ["--no-qc", "--no-similarity", "--speakers", "--engines", "--hours"]:
        assert flag in args
    assert args[args.index("--engines") + 1] == "espeak,mbrola"
    assert "--max-wer" in build_command(BuildConfig(out=tmp_path)).split()


def test_transcripts_are_written_whole_so_stale_lines_cannot_survive(tmp_path):
    from recipes.synthetic.build import write_transcripts

    records = [
        {"id": f"7-70-{i:04d}", "speaker": 7, "split": "train", "transcript": f"WORD {i}", "text": f"word {i}"}
        for i in range(3)
    ]
    folder = tmp_path / "train" / "7" / "70"
    folder.mkdir(parents=True)
    (folder / "7-70.trans.txt").write_text("7-70-0002 STALE LINE OF A KILLED RUN\n")
    write_transcripts(records, tmp_path)
    write_transcripts(records, tmp_path)
    lines = (folder / "7-70.trans.txt").read_text().splitlines()
    assert lines == ["7-70-0000 WORD 0", "7-70-0001 WORD 1", "7-70-0002 WORD 2"]
    assert (folder / "7-70.normalized.txt").read_text().splitlines()[0] == "7-70-0000 word 0"


def test_reuse_copies_an_earlier_builds_audio_and_adds_the_rest(tiny_corpus, tmp_path):
    from dataclasses import replace

    from recipes.synthetic.build import build
    from recipes.synthetic.tiny import tiny_config

    earlier = tmp_path / "earlier"
    shutil.copytree(tiny_corpus, earlier)
    marked = earlier / "train" / "1001" / "10010" / "1001-10010-0000.flac"
    x, sr = sf.read(marked, dtype="float32")
    sf.write(marked, 0.5 * x, sr)  # so a copy can be told from a fresh synthesis
    bigger = build(replace(tiny_config(tmp_path / "bigger"), hours=0.02, reuse=earlier))
    copied = tmp_path / "bigger" / marked.relative_to(earlier)
    assert np.array_equal(sf.read(copied, dtype="float32")[0], sf.read(marked, dtype="float32")[0])
    assert len(bigger["records"]) > len(list(tiny_corpus.rglob("*.flac")))
    untouched = "train/1000/10000/1000-10000-0000.flac"
    assert file_digests(tmp_path / "bigger")[untouched] == file_digests(tiny_corpus)[untouched]


def test_a_speaker_whose_takes_keep_failing_the_check_stops_at_the_rejection_cap(tmp_path, monkeypatch):
    """A voice the ASR check rejects take after take stops after MAX_REJECTED rejections instead of
    saying every candidate sentence; the takes that passed before are kept."""
    from recipes.synthetic import build as b

    speaker = plan_speakers([ESPEAK_US, *CATALOG[:2]], 3, seed=0, n_unseen_bases=0)[0]
    said = []

    def fake_utterance(spk, text, *args):
        said.append(text)
        return np.zeros(3 * 24000, np.float32)

    monkeypatch.setattr(b, "make_utterance", fake_utterance)
    monkeypatch.setattr(b, "transcriber", lambda: lambda x, sr: "one" if len(said) <= 2 else "something else")
    monkeypatch.setattr(b, "MAX_REJECTED", 5)
    cfg = b.BuildConfig(out=tmp_path, n_dev=0, n_test=0)
    records, rejected = b.speak_speaker(b.SpeakerJob(speaker, ["one"] * 40, 60.0, cfg))
    assert len(records) == 2 and len(rejected) == 5 and len(said) == 7  # not all 40 candidates
    assert all(r["reason"] == "wer" for r in rejected)


def test_reuse_keeps_the_earlier_builds_verdicts_so_its_takes_are_neither_said_nor_heard_again(tmp_path, monkeypatch):
    """A grown build (--reuse) copies the earlier build's kept takes with their ASR transcripts and
    refuses again, unsaid, the takes it refused, when both builds judge takes the same way; it ends
    with the same utterances as a build from scratch. With another check, the audio is copied but
    judged again."""
    from dataclasses import replace

    from recipes.synthetic import build as b
    from recipes.synthetic.resume import mark_done, open_output

    speaker = plan_speakers([ESPEAK_US, *CATALOG[:2]], 3, seed=0, n_unseen_bases=0)[0]
    words = "apple bread chair dance eagle fable giant honey island jolly kettle lemon magic noble ocean".split()
    texts = [f"the {w} sentence" for w in words + [w + "s" for w in words]]
    said, heard = [], []
    monkeypatch.setattr(b, "make_utterance", lambda spk, text, *a: said.append(text) or np.full(3 * 24000, 0.1, "f4"))
    garbled = {texts[2], texts[5], texts[9]}

    def asr(x, sr):  # the transcript of the take most recently said (the fake audio does not carry it)
        heard.append(said[-1])
        return "garbled" if said[-1] in garbled else said[-1]

    monkeypatch.setattr(b, "transcriber", lambda: asr)
    cfg = b.BuildConfig(out=tmp_path / "earlier", n_dev=0, n_test=0, min_utts=1)
    open_output(cfg.out, b.build_key(cfg, [speaker]))
    earlier = b.speak_speaker(b.SpeakerJob(speaker, texts, 15.0, cfg))
    mark_done(cfg.out, speaker.id, earlier)
    assert len(earlier[0]) == 5 and len(earlier[1]) == 2  # sentences 0-6 tried, 2 and 5 refused

    said.clear(), heard.clear()
    scratch = b.speak_speaker(b.SpeakerJob(speaker, texts, 30.0, replace(cfg, out=tmp_path / "scratch")))
    said.clear(), heard.clear()
    grown = b.speak_speaker(b.SpeakerJob(speaker, texts, 30.0, replace(cfg, out=tmp_path / "grown", reuse=cfg.out)))
    assert [r["text"] for r in grown[0]] == [r["text"] for r in scratch[0]]
    assert [r["text"] for r in grown[1]] == [r["text"] for r in scratch[1]] == [texts[2], texts[5], texts[9]]
    assert said == heard == texts[7:13]  # only what the earlier build never tried
    assert all(r["asr"] == r["text"] for r in grown[0])

    said.clear(), heard.clear()
    monkeypatch.setattr(b, "transcriber", lambda: lambda x, sr: heard.append(x) or "")  # refuses every take
    stricter = replace(cfg, out=tmp_path / "stricter", reuse=cfg.out, max_wer=0.2)
    b.speak_speaker(b.SpeakerJob(speaker, texts, 30.0, stricter))
    assert said[:2] == [texts[1], texts[2]] and len(heard) == len(texts)  # take 0 copied, then judged again
