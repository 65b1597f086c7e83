"""recipes/synthetic/sprint.py: a schedule sized from timed steps to a wall-clock budget, kept for a rerun."""

import json

from test_train_lm import checkpoint_of_other_latents, make_corpus

from recipes.synthetic.sprint import SCHEDULE, main
from tts.checkpoint import load_checkpoint


def test_sprint_sizes_one_schedule_to_the_budget_and_a_rerun_keeps_it(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    out = tmp_path / "run"
    argv = ["--data", str(tmp_path / "data"), "--out", str(out), "--minutes", "0.25", "--preset", "tiny",
            "--batch-size", "3", "--warmup", "2", "--workers", "0"]  # fmt: skip
    main(argv)
    schedule = json.loads((out / SCHEDULE).read_text())
    assert schedule["steps"] >= 3 and schedule["seconds_per_step"] > 0
    losses = [json.loads(line) for line in (out / "losses.jsonl").read_text().splitlines()]
    assert [r["step"] for r in losses] == list(range(1, schedule["steps"] + 1))
    assert (out / "model.safetensors").is_file()
    main(argv)  # the same command again: the run is complete, nothing is timed or trained anew
    assert json.loads((out / SCHEDULE).read_text()) == schedule
    assert len((out / "losses.jsonl").read_text().splitlines()) == schedule["steps"]


def test_a_given_step_time_sizes_the_schedule_without_timing(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    out = tmp_path / "run"
    main(["--data", str(tmp_path / "data"), "--out", str(out), "--minutes", "0.5", "--preset", "tiny",
          "--batch-size", "3", "--warmup", "2", "--workers", "0", "--seconds-per-step", "0.5"])  # fmt: skip
    schedule = json.loads((out / SCHEDULE).read_text())
    assert schedule["seconds_per_step"] == 0.5 and 50 <= schedule["steps"] <= 54  # 0.9 * 30 s / 0.5 s


def test_data_latent_stats_normalises_by_the_data_not_the_init(tmp_path):
    """Latents of another σ-VAE than --init's: the sprint takes their own scale and bias."""
    data_stats = checkpoint_of_other_latents(tmp_path)
    argv = ["--data", str(tmp_path / "data"), "--init", str(tmp_path / "base"), "--minutes", "0.05", "--preset",
            "tiny", "--batch-size", "3", "--warmup", "2", "--workers", "0", "--seconds-per-step", "1"]  # fmt: skip
    main([*argv, "--out", str(tmp_path / "kept")])
    assert load_checkpoint(tmp_path / "kept")[0].cfg.latent_scale == 0.5  # without the flag: --init's
    main([*argv, "--out", str(tmp_path / "recoded"), "--data-latent-stats"])
    recoded = load_checkpoint(tmp_path / "recoded")[0].cfg
    assert (recoded.latent_scale, recoded.latent_bias) == (data_stats.latent_scale, data_stats.latent_bias)
