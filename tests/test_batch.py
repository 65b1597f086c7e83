"""`latentlm-tts batch`: bad manifest lines reported and skipped, byte-identical files from one
process and from two under torchrun (gloo), and a resumed run after SIGKILL equal to a whole one."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from conftest import tone
from tiny_model import make_tiny_checkpoint

from latentlm_common.jobs import deal, length_batches
from tts.batch.manifest import item_seed
from tts.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("batch") / "tiny")


def write_manifest(folder: Path, n: int, extra_lines: tuple[str, ...] = ()) -> Path:
    """n items over two voices (relative paths), texts of 1 to 5 words."""
    for name, freq in (("a.wav", 220.0), ("b.wav", 330.0)):
        sf.write(folder / name, tone(1.5, 24000, freq), 24000)
    items = [
        {"id": f"utt-{i:03d}", "text": " ".join(WORDS[i % 7 : i % 7 + 1 + i % 5]), "voice": "ab"[i % 2] + ".wav"}
        for i in range(n)
    ]
    path = folder / "items.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in items) + "".join(f"{x}\n" for x in extra_lines))
    return path


def batch_args(manifest: Path, out: Path, ckpt: Path) -> list[str]:
    return [
        "batch", str(manifest), "--out-dir", str(out), "--ckpt", str(ckpt), "--steps", "2", "--retries", "0",
        "--batch-size", "4", "--threads", "1", "--no-progress",
    ]  # fmt: skip


def run_cli(args: list[str], torchrun: int = 0, **kw) -> subprocess.Popen:
    launch = ["-m", "torch.distributed.run", "--nproc-per-node", str(torchrun), "--master-port", "29541"]
    cmd = [sys.executable, *(launch if torchrun else []), "-m", "tts.cli.main", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def audio_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.wav"))}


def test_batches_do_not_depend_on_the_number_of_ranks_and_are_dealt_by_length():
    items = [(f"id{i}", "x" * (i * 7 % 23)) for i in range(40)]
    plan = length_batches(items, 4, lambda it: (len(it[1]), it[0]))
    costs = [sum(len(t) for _, t in b) for b in plan]
    for world in (1, 2, 4):
        shares = deal(costs, world)
        assert sorted(i for s in shares for i in s) == list(range(len(plan)))  # every batch once, whole
        loads = [sum(costs[i] for i in s) for s in shares]
        assert max(loads) - min(loads) <= max(costs)  # balanced within one batch
        assert shares == deal(costs, world)
    assert item_seed("utt-001") == item_seed("utt-001") != item_seed("utt-002")


def test_bad_lines_are_reported_and_skipped_and_the_job_finishes(tmp_path, ckpt, one_thread, capsys):
    (tmp_path / "broken.wav").write_bytes(b"not audio")
    sf.write(tmp_path / "silent.wav", tone(1.5, 24000, amp=0.0), 24000)
    bad = (
        '{"id": "no-voice", "text": "hello"}',
        "{not json",
        '{"id": "../escape", "text": "hello", "voice": "a.wav"}',
        '{"id": "UTT-000", "text": "hello", "voice": "a.wav"}',
        '{"id": "empty", "text": "   ", "voice": "a.wav"}',
        '{"id": "missing", "text": "hello", "voice": "nowhere.wav"}',
        '{"id": "broken", "text": "hello", "voice": "broken.wav"}',
        '{"id": "steps", "text": "hello", "voice": "a.wav", "steps": 0}',
        '{"id": "silent", "text": "hello", "voice": "silent.wav"}',
    )
    manifest = write_manifest(tmp_path, 3, bad)
    assert main(batch_args(manifest, tmp_path / "out", ckpt)) == 0
    err = capsys.readouterr().err
    rows = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rows] == list(range(1, 13))  # every line listed, none dropped
    assert [r["id"] for r in rows if "file" in r] == ["utt-000", "utt-001", "utt-002"]
    errors = {r["line"]: r["error"] for r in rows if "error" in r}
    expected = {
        4: "missing field 'voice'", 5: "not JSON", 6: "not a safe file name", 7: "duplicate id", 8: "empty text",
        9: "no such file", 10: "not a readable audio file", 11: "steps", 12: "silent",
    }  # fmt: skip
    for line, words in expected.items():
        assert words in errors[line]
        if line != 12:  # refused when its voice is encoded, reported then
            assert f"line {line}: " in err
    assert "silent" in err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.wav")) == ["utt-000.wav", "utt-001.wav", "utt-002.wav"]


def test_one_and_two_processes_write_identical_files(tmp_path, ckpt):
    manifest = write_manifest(tmp_path, 40)
    one = run_cli(batch_args(manifest, tmp_path / "one", ckpt))
    two = run_cli(batch_args(manifest, tmp_path / "two", ckpt), torchrun=2)
    for p in (one, two):
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    files = audio_files(tmp_path / "one")
    assert len(files) == 40 and files == audio_files(tmp_path / "two")
    assert (tmp_path / "one" / "manifest.jsonl").read_text() == (tmp_path / "two" / "manifest.jsonl").read_text()


def test_a_run_killed_partway_resumes_to_identical_files(tmp_path, ckpt, one_thread):
    manifest = write_manifest(tmp_path, 40)
    assert main(batch_args(manifest, tmp_path / "whole", ckpt)) == 0
    out = tmp_path / "resumed"
    p = run_cli(batch_args(manifest, out, ckpt))
    deadline = time.monotonic() + 300
    while not list((out / ".batches").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    done = len(list((out / ".batches").glob("*.json")))
    assert 1 <= done < 10 and not (out / "manifest.jsonl").exists()  # killed after the first batch, before the end
    rerun = run_cli(batch_args(manifest, out, ckpt))
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err[-2000:]
    assert audio_files(out) == audio_files(tmp_path / "whole")
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"utt-{i:03d}" for i in range(40)] and all(r["duration"] > 0 for r in rows)
