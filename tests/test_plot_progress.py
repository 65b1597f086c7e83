"""The model card's progress curve (recipes/synthetic/plot_progress.py) from score.py's CSVs."""

import csv

import pytest

from recipes.synthetic.plot_progress import main, setting_a

FIELDS = ["id", "setting", "system", "speaker", "seconds", "wer", "sim", "reference", "hypothesis"]


def write_scores(run, rows):
    run.mkdir()
    with open(run / "scores_moonshine_resemblyzer.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        w.writerows(rows)


def test_setting_a_counts_only_the_systems_setting_a_rows_and_the_png_is_written(tmp_path, capsys):
    write_scores(
        tmp_path / "v1",
        [
            ["a", "A", "ground truth", "s", 2, 0, 0.9, "one two three four", "one two three four"],
            ["a", "A", "LatentLM", "s", 2, 0.5, 0.7, "one two three four", "one too three for"],
            ["b", "B", "LatentLM", "s", 2, 1, 0.1, "five six", "nothing like it"],
        ],
    )
    assert setting_a(tmp_path / "v1") == (50.0, 0.7, 1)
    main(["--out", str(tmp_path / "p.png"), f"v1:100:{tmp_path / 'v1'}"])
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert "v1: 100 examples, setting A WER 50.0 %, SIM 0.700 (1 items)" in capsys.readouterr().out


def test_a_run_without_scores_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--out", str(tmp_path / "p.png"), f"v1:100:{tmp_path}"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "no scores there" in err and "\n" not in err
