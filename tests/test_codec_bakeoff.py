"""benchmarks/codec_bakeoff.py on the tiny corpus: equal CPU budgets, scores at every mark, resume."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bakeoff():
    spec = importlib.util.spec_from_file_location("codec_bakeoff", ROOT / "benchmarks" / "codec_bakeoff.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_candidates_train_to_each_mark_and_a_rerun_resumes(bakeoff, tiny_corpus, tmp_path):
    threads = torch.get_num_threads()
    argv = ["--train", str(tiny_corpus / "train"), "--eval", str(tiny_corpus / "test-unseen"), "--out",
            str(tmp_path / "run"), "--preset", "tiny", "--hours", "0.0002,0.0005", "--candidates", "istft,mel-ceiling",
            "--batch-size", "2", "--crop-seconds", "0.2", "--limit", "2", "--wer-items", "0", "--no-sim"]  # fmt: skip
    rows = bakeoff.main(argv)
    torch.set_num_threads(threads)
    assert [(r["candidate"], r["cpu_hours"]) for r in rows] == [
        ("istft", 0.0002), ("mel-ceiling", 0.0002), ("istft", 0.0005), ("mel-ceiling", 0.0005)
    ]  # fmt: skip
    for name in ("istft", "mel-ceiling"):
        meta = json.loads((tmp_path / "run" / name / "bakeoff.json").read_text())
        assert meta["cpu_seconds"] >= 0.0005 * 3600 and meta["step"] >= 2  # it really trained to the budget
        mine = [r for r in rows if r["candidate"] == name]
        assert mine[1]["steps"] > mine[0]["steps"] and all(0 <= r["stoi"] <= 1 for r in mine)
    assert rows[1]["params"] < rows[0]["params"]  # the ceiling has no encoder
    table = (tmp_path / "run" / "results.md").read_text()
    assert "WORLD copy-synthesis" in table and table.count("| istft |") == 2
    assert (tmp_path / "run" / "results.png").read_bytes()[:4] == b"\x89PNG"
    again = bakeoff.main(argv)  # every mark is done: nothing trains again, the same rows come back
    torch.set_num_threads(threads)
    assert [r["steps"] for r in again] == [r["steps"] for r in rows]

    # --score: a saved checkpoint scored on the same items, nothing trained: the last mark's figures
    common = argv[argv.index("--eval") : argv.index("--hours")] + ["--limit", "2", "--wer-items", "0", "--no-sim"]
    (scored,) = bakeoff.main(common + ["--score", str(tmp_path / "run" / "istft")])
    torch.set_num_threads(threads)
    assert scored["stoi"] == pytest.approx(rows[2]["stoi"], abs=1e-6) and scored["mel"] == pytest.approx(rows[2]["mel"])
    assert str(tmp_path / "run" / "istft") in (tmp_path / "run" / "scored.md").read_text()
    meta = json.loads((tmp_path / "run" / "istft" / "bakeoff.json").read_text())
    assert meta["step"] == rows[2]["steps"]  # scoring trained nothing
    with pytest.raises(SystemExit):  # neither --train nor --score
        bakeoff.main(common)


def test_behind_needs_both_metrics_clearly_worse(bakeoff):
    leader = {"stoi": 0.85, "pesq": 1.6}
    assert bakeoff.behind({"stoi": 0.80, "pesq": 1.4}, leader)
    assert not bakeoff.behind({"stoi": 0.80, "pesq": 1.55}, leader)
    assert not bakeoff.behind({"stoi": 0.84, "pesq": 1.0}, leader)


def test_f0_rmse_is_zero_for_the_same_tone_and_grows_with_a_shift(bakeoff):
    sr = 24000
    t = np.arange(sr) / sr
    a = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    b = (0.3 * np.sin(2 * np.pi * 165 * t)).astype(np.float32)
    assert bakeoff.f0_rmse(a, a, sr) == pytest.approx(0.0, abs=1e-6)
    assert 10 < bakeoff.f0_rmse(a, b, sr) < 20
