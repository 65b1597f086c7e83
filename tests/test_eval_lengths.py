"""benchmarks/eval_lengths.py: too long, cut short and too short per setting and system."""

import sys
from pathlib import Path

from tts.eval.score import GROUND_TRUTH, Score, write_csv

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import eval_lengths  # noqa: E402


def score(id_, system, seconds, reference, hypothesis) -> Score:
    return Score(id_, "B", system, "1", seconds, 0.0, 0.9, reference, hypothesis)


def test_lengths_against_the_ground_truth(tmp_path):
    rows = [
        score("a", GROUND_TRUTH, 2.0, "ONE TWO THREE", "ONE TWO THREE"),
        score("b", GROUND_TRUTH, 3.0, "FOUR FIVE", "FOUR"),  # the ASR misses a word of the ground truth
        score("a", "LatentLM", 3.5, "ONE TWO THREE", "ONE TWO THREE FOUR"),  # 1.75x: too long
        score("b", "LatentLM", 1.5, "FOUR FIVE", "FOUR"),  # half the ground truth: too short, and cut short
    ]
    write_csv(rows, tmp_path / "run" / "scores_moonshine_resemblyzer.csv")
    lines = eval_lengths.summary(tmp_path / "run", "moonshine", "resemblyzer")
    cells = {line.split(" | ")[2]: line.strip("| ").split(" | ")[5:] for line in lines}
    assert cells["LatentLM"] == ["50.0", "50.0", "50.0"]  # too long, cut short, too short
    assert cells[GROUND_TRUTH] == ["0.0", "50.0", "0.0"]
