"""`latentlm-tts audiobook` end to end with a tiny random model: accounting, a run killed midway,
and the same book from one process and from two under torchrun (gloo)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import tone
from tiny_model import make_tiny_checkpoint

from tts.cli.main import main
from tts.text import normalize

SR = 24000
BOOK = """# The First Chapter

It was a bright cold day in April. The clocks were striking thirteen.

Dr. Smith paid $3.50 for 2 apples.

# The Second Chapter

~ ~ ~

A short paragraph here. Another one follows it.

# The Third Chapter

The end came on March 3rd, 2021, at 7:45 a.m.
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("book")
    make_tiny_checkpoint(d / "ckpt", stop_bias=2.0)  # stops after a few frames on average
    sf.write(d / "voice.wav", tone(2.0, SR), SR)
    (d / "book.md").write_text(BOOK)
    return d


def args(d, out, *extra):
    return [
        "audiobook",
        str(d / "book.md"),
        "--voice",
        str(d / "voice.wav"),
        "--ckpt",
        str(d / "ckpt"),
        "--out-dir",
        str(out),
        "--batch-size",
        "2",
        "--steps",
        "2",
        "--no-progress",
        *extra,
    ]


def words(text):
    return normalize(text).replace(".", " ").replace(",", " ").split()


def test_every_sentence_of_the_book_is_in_the_manifest(setup, capsys):
    out = setup / "out"
    assert main(args(setup, out)) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert [c["title"] for c in m["chapters"]] == ["The First Chapter", "The Second Chapter", "The Third Chapter"]
    for ch in m["chapters"]:
        info = sf.info(out / ch["file"])
        assert info.samplerate == SR and abs(info.frames / SR - ch["duration"]) < 1e-2
    spoken = [w for ch in m["chapters"] for c in ch["chunks"] for w in words(c["text"])]
    expected = [w for block in BOOK.replace("#", "").split("\n\n") if block.strip() != "~ ~ ~" for w in words(block)]
    assert spoken == expected
    assert m["not_spoken"] == ["~ ~ ~"]
    assert "wrote 3 chapters" in capsys.readouterr().out
    for ch in m["chapters"]:  # word times lie inside their chunk, in the chapter file's time
        for c in ch["chunks"]:
            assert c["words"] and all(
                c["start"] - 1e-3 <= a <= b <= c["start"] + c["duration"] + 0.07 for _, a, b in c["words"]
            )


def test_bad_input_is_one_line(setup, capsys):
    assert (
        main(
            ["audiobook", str(setup / "missing.md"), "--voice", str(setup / "voice.wav"), "--ckpt", str(setup / "ckpt")]
        )
        == 2
    )
    assert "no such file" in capsys.readouterr().err
    assert (
        main(["audiobook", str(setup / "book.md"), "--voice", str(setup / "nope.wav"), "--ckpt", str(setup / "ckpt")])
        == 2
    )
    err = capsys.readouterr().err
    assert "no such voice prompt file" in err and len(err.strip().splitlines()) == 1
    book, voice = str(setup / "book.md"), str(setup / "voice.wav")
    assert main(["audiobook", book, "--voice", voice, "--ckpt", str(setup / "ckpt"), "--retries", "11"]) == 2
    err = capsys.readouterr().err
    assert "retries must be a whole number from 0 to 10" in err and len(err.strip().splitlines()) == 1


def outputs(out):
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".wav"}
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop("summary")
    return files, manifest


def test_killed_run_resumes_to_identical_files(setup):
    cli = [sys.executable, "-m", "tts.cli.main"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    whole = setup / "whole"
    subprocess.run(cli + args(setup, whole), check=True, env=env, capture_output=True)
    total = len(list((whole / "chunks").glob("*.npz")))

    killed = setup / "killed"
    proc = subprocess.Popen(cli + args(setup, killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((killed / "chunks").glob("*.npz")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((killed / "chunks").glob("*.npz")))
    assert 0 < done < total, "the run was not interrupted midway"
    assert not (killed / "manifest.json").exists()

    subprocess.run(cli + args(setup, killed), check=True, env=env, capture_output=True)
    assert outputs(killed) == outputs(whole)


TXT_BOOK = """Chapter 1

The rain fell all night. The river rose. A boat came loose.

Nobody saw it go.

Chapter 2

Morning was quiet. The boat was gone. Birds sang on the bank.
"""


def chunk_audio(out: Path) -> dict[str, np.ndarray]:
    """Every chunk's audio by key (a .npz file embeds the time it was written, so its bytes differ)."""
    audio = {}
    for p in sorted((out / "chunks").glob("*.npz")):
        with np.load(p) as z:
            audio[p.stem] = z["audio"]
    return audio


def test_one_and_two_processes_write_identical_chapters(setup, tmp_path):
    (tmp_path / "book.txt").write_text(TXT_BOOK)
    launch = ["-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29547"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for out, nproc in (("one", 1), ("two", 2)):
        cli = args(setup, tmp_path / out, "--threads", "1")
        cli[1] = str(tmp_path / "book.txt")
        done = subprocess.run(
            [sys.executable, *(launch if nproc > 1 else []), "-m", "tts.cli.main", *cli],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    (files, one), (files_two, two) = outputs(tmp_path / "one"), outputs(tmp_path / "two")
    assert sorted(files) == ["01-chapter-1.wav", "02-chapter-2.wav"] and files == files_two
    assert one == two
    a, b = chunk_audio(tmp_path / "one"), chunk_audio(tmp_path / "two")
    assert len(a) > 2 and a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)  # 2+ batches of 2
    summaries = [json.loads((tmp_path / o / "manifest.json").read_text())["summary"] for o in ("one", "two")]
    for s in summaries:  # wall time, and the audio made by rank 0 alone, differ by design
        del s["wall_seconds"], s["real_time_factor"], s["synthesized_seconds_this_run"]
    assert summaries[0] == summaries[1]
