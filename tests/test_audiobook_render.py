"""Resume, invalidation and accounting logic of the audiobook renderer, with a deterministic stand-in synthesizer.

The end-to-end tests with a real (tiny) model are in test_audiobook_cli.py.
"""

import json
import zlib

import numpy as np

from tts.audiobook.render import render_book
from tts.synthesis import Audio

SR = 8000


class FakeTTS:
    """Audio is a tone whose pitch and length depend on the text and seed. The retries are
    `Synthesizer.synthesize_batch`'s (tested in test_engine_api.py); here 'SILENT' texts come out
    clean on their second take, 'RUNAWAY' texts are ended by the length guard on every take, and
    'SKIP' texts keep a flag after one retry."""

    sample_rate = SR

    def __init__(self):
        self.calls, self.retries = [], []

    def synthesize_batch(self, texts, seeds, retries):
        self.calls.append(list(texts))
        self.retries.append(retries)
        out = []
        for text, seed in zip(texts, seeds):
            rng = np.random.default_rng(zlib.crc32(f"{text}|{seed}".encode()))
            n = 400 + 40 * len(text)
            x = 0.3 * np.sin(np.arange(n) * rng.uniform(0.05, 0.2)).astype(np.float32)
            takes = 2 if "SILENT" in text else 1 + retries if "RUNAWAY" in text or "SKIP" in text else 1
            out.append(Audio(x, SR, "RUNAWAY" in text, [], ["skipped"] if "SKIP" in text else [], takes))
        return out


def split(text):
    return [s.strip() + "." for s in text.split(".") if s.strip()]


BOOK = (
    "# One\n\nFirst sentence. Second sentence.\n\nNew paragraph here.\n\n"
    "# Two\n\nSILENT one. RUNAWAY two. SKIP three.\n"
)


def render(tmp_path, tts, book_text=BOOK, out="out", **kw):
    p = tmp_path / "book.md"
    p.write_text(book_text)
    return render_book(
        tts, p, tmp_path / out, split=split, settings={"v": 1}, seed=3, batch_size=2, progress=False, **kw
    )


def test_every_sentence_is_in_the_manifest(tmp_path):
    m = render(tmp_path, FakeTTS())
    texts = [[e["text"] for e in ch["chunks"]] for ch in m["chapters"]]
    assert texts == [
        ["One."] + split("First sentence. Second sentence.") + ["New paragraph here."],
        ["Two."] + split("SILENT one. RUNAWAY two. SKIP three."),
    ]
    on_disk = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert on_disk["chapters"] == m["chapters"]
    assert [ch["file"] for ch in m["chapters"]] == ["01-one.wav", "02-two.wav"]


def test_offsets_and_pauses(tmp_path):
    m = render(tmp_path, FakeTTS())
    chunks = m["chapters"][0]["chunks"]
    for a, b in zip(chunks, chunks[1:]):
        assert b["start"] > a["start"] + a["duration"]  # a pause separates every pair
    gap_sentence = chunks[2]["start"] - chunks[1]["start"] - chunks[1]["duration"]
    gap_paragraph = chunks[3]["start"] - chunks[2]["start"] - chunks[2]["duration"]
    assert gap_paragraph > gap_sentence


def test_bad_chunks_are_retried_then_flagged_not_dropped(tmp_path):
    tts = FakeTTS()
    m = render(tmp_path, tts, retries=1)
    assert set(tts.retries) == {1}
    entries = {e["text"]: e for e in m["chapters"][1]["chunks"]}
    assert entries["SILENT one."]["flag"] == "" and entries["SILENT one."]["tries"] == 2  # fine on the retry
    assert entries["RUNAWAY two."]["flag"] == "length_guard"  # bad on every seed: kept and flagged
    assert entries["RUNAWAY two."]["tries"] == 2 and entries["RUNAWAY two."]["duration"] > 0
    assert entries["SKIP three."]["flag"] == "skipped" and entries["SKIP three."]["tries"] == 2
    clean = m["chapters"][0]["chunks"][1]
    assert clean["text"] == "First sentence." and clean["tries"] == 1 and clean["flag"] == ""
    assert m["summary"]["flagged_chunks"] == 2


def test_rerun_skips_finished_chunks_and_gives_identical_files(tmp_path):
    tts = FakeTTS()
    render(tmp_path, tts)
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").glob("*.wav")}
    tts.calls.clear()
    render(tmp_path, tts)
    assert tts.calls == []
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").glob("*.wav")} == first


def test_lost_chunk_resynthesises_its_whole_batch_identically(tmp_path):
    tts = FakeTTS()
    render(tmp_path, tts, out="a")
    chunk = sorted((tmp_path / "a" / "chunks").glob("*.npz"))[0]
    before = chunk.read_bytes()
    chunk.unlink()
    tts.calls.clear()
    render(tmp_path, tts, out="a")
    assert len(tts.calls[0]) == 2  # the batch it belonged to, whole
    assert chunk.read_bytes() == before


def test_edited_book_resynthesises_only_changed_chunks(tmp_path):
    tts = FakeTTS()
    render(tmp_path, tts)
    tts.calls.clear()
    render(tmp_path, tts, book_text=BOOK.replace("New paragraph here.", "A changed paragraph."))
    synthesized = [t for call in tts.calls for t in call]
    assert "A changed paragraph." in synthesized
    assert len(synthesized) <= 2  # the changed chunk and at most its batch mate


def test_joined_file(tmp_path):
    m = render(tmp_path, FakeTTS(), joined=True, fmt="flac")
    assert (tmp_path / "out" / "book.flac").exists()
    assert m["chapters"][1]["start_in_book"] > m["chapters"][0]["duration"]
