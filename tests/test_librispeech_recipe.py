"""The LibriSpeech recipe end to end on the tiny synthetic corpus: run.sh stages 0-4 (manifests, latents
from a random tiny σ-VAE, a few LM training steps, synthesis of both settings, scoring) print a table."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tts.data import LatentDataset, latent_stats
from tts.eval.protocol import read_items
from vae_audio.model import SigmaVAE

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "librispeech"


def run_recipe(tmp_path, corpus, *options) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(RECIPE.parent.parent)}
    cmd = [
        "bash",
        str(RECIPE / "run.sh"),
        "--corpus",
        str(corpus),
        "--vae",
        str(tmp_path / "vae"),
        "--manifests",
        str(tmp_path / "manifests"),
        "--latents",
        str(tmp_path / "latents"),
        "--exp",
        str(tmp_path / "exp"),
        "--preset",
        "tiny",
        "--steps",
        "3",
        "--batch-size",
        "4",
        "--extra-train-args",
        "--no-tensorboard --threads 1",
        "--test-part",
        "test-unseen",
        "--min-seconds",
        "0",
        "--max-seconds",
        "30",
        "--prefix-seconds",
        "1.5",
        "--eval-limit",
        "2",
        "--asr",
        "pocketsphinx",
        *options,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)


@pytest.fixture(scope="module")
def recipe_run(tiny_corpus, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("librispeech_recipe")
    torch.manual_seed(0)
    SigmaVAE.from_preset("tiny").save_pretrained(tmp / "vae")
    return tmp, run_recipe(tmp, tiny_corpus)


def test_stages_0_to_4_print_the_evaluation_table(recipe_run):
    tmp, done = recipe_run
    assert done.returncode == 0, done.stderr[-3000:]
    for stage in range(5):
        assert f"stage {stage}:" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("| A:") or line.startswith("| B:")]
    assert len(rows) == 4  # ground truth and LatentLM for each setting
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert re.fullmatch(r"\d\.\d{3}", cells[3]) and re.fullmatch(r"\d+\.\d", cells[4]), row
    assert {c[1] for c in (r.strip("|").split("|") for r in rows)} == {" ground truth ", " LatentLM "}


def test_stage_outputs_are_a_dataset_a_checkpoint_and_per_utterance_scores(recipe_run):
    tmp, done = recipe_run
    assert done.returncode == 0, done.stderr[-3000:]
    meta = json.loads((tmp / "latents" / "train" / "meta.json").read_text())
    assert "latent_scale" not in meta and (tmp / "latents" / "train" / "data.safetensors").is_file()
    exp = tmp / "exp"
    lm = json.loads((exp / "config.json").read_text())["lm"]  # the one stored pair: the dataset's statistics
    scale, bias = latent_stats([LatentDataset(tmp / "latents" / "train").latents])
    assert (lm["latent_scale"], lm["latent_bias"]) == pytest.approx((scale, bias), rel=1e-9)
    assert (exp / "vae" / "model.safetensors").is_file() and (exp / "train_state.pt").is_file()
    b_items = read_items(exp / "eval" / "B.limit2.jsonl")  # --eval-limit 2: a list built for 2 items
    assert b_items and all(it.prompt.end == it.target.start and it.prompt_text for it in b_items)
    with open(exp / "eval" / "scores_pocketsphinx_resemblyzer.csv") as f:
        scores = list(csv.DictReader(f))
    assert len(scores) == 8  # 2 items x 2 settings x (ground truth, LatentLM)
    assert all(0 <= float(s["wer"]) and -1 <= float(s["sim"]) <= 1 for s in scores)
    assert len(list((exp / "eval" / "A").glob("*.wav"))) == 2


def test_stages_have_help():
    for script in ("prepare", "extract", "train", "synthesize", "score"):
        done = subprocess.run(
            [sys.executable, str(RECIPE / f"{script}.py"), "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(RECIPE.parent.parent)},
        )
        assert done.returncode == 0 and "usage" in done.stdout, (script, done.stderr[-500:])


def test_resynthesis_writes_the_codecs_reconstruction_of_each_target(recipe_run, tmp_path):
    import numpy as np
    import soundfile as sf

    from recipes.librispeech.synthesize import main as synthesize
    from tts.eval.protocol import read_lists

    tmp, done = recipe_run
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "ceiling"
    synthesize(
        [
            "--resynthesis",
            str(tmp / "exp"),
            "--manifest",
            str(tmp / "manifests" / "cuts_test-unseen.jsonl.gz"),
            "--out",
            str(out),
            "--settings",
            "A",
            "--min-seconds",
            "0",
            "--max-seconds",
            "30",
            "--limit",
            "2",
        ]
    )
    items = read_lists(out, ("A",), 2)["A"]
    vae = SigmaVAE.from_pretrained(tmp / "exp" / "vae")
    for item in items:
        y, sr = sf.read(out / "A" / f"{item.id}.wav", dtype="float32")
        x = item.target.load(sr)
        assert sr == 24000 and len(y) == len(x) and np.isfinite(y).all()
        with torch.inference_mode():  # the same weights as the checkpoint's vae/, level aside
            ref = vae.decode(vae.encode(torch.from_numpy(x)[None]))[0, : len(x)].numpy()
        assert np.corrcoef(y, ref)[0, 1] > 0.99


def test_scored_training_scores_each_mark_and_a_rerun_only_fills_what_is_missing(recipe_run, tmp_path):
    """recipes/synthetic/scored_lm.sh (the campaign's LatentLM step) on the recipe's latents."""
    tmp, done = recipe_run
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "lm"
    cmd = ["bash", str(RECIPE.parent / "synthetic" / "scored_lm.sh"), "--out", str(out), "--vae", str(tmp / "vae"),
           "--data", str(tmp / "latents" / "train"), "--init", str(tmp / "exp"), "--steps", "4",
           "--eval-manifest", str(tmp / "manifests" / "cuts_test-unseen.jsonl.gz"), "--eval-every", "2",
           "--eval-limit", "1", "--eval-args", "--min-seconds 0 --max-seconds 30", "--asr", "pocketsphinx",
           "--train-args", "--preset tiny --batch-size 4 --save-every 100 --no-tensorboard --threads 1"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(RECIPE.parent.parent)}

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)

    def scores(step: int) -> Path:
        return out / "eval" / f"step-{step}" / "scores_pocketsphinx_resemblyzer.csv"

    first = run()
    assert first.returncode == 0, first.stderr[-3000:]
    assert json.loads((out / "config.json").read_text())["training"]["steps"] == 4
    for step in (2, 4):  # each mark scored: one setting-A item of the model as it was at that step
        with open(scores(step)) as f:
            rows = list(csv.DictReader(f))
        assert [(r["setting"], r["system"]) for r in rows] == [("A", "lm")]  # the system is named after --out
    assert first.stdout.count("| A: reference utterance as prompt | lm | 1 |") == 2
    assert not list((out / "eval").glob("step-*/lm"))  # each copy scored was removed

    scores(4).unlink()  # as if killed while scoring: the rerun scores step 4 again and trains no further
    snapshot = out / "eval" / "step-2" / "lm"  # and a copy a killed run left unscored is scored, then removed
    snapshot.mkdir()
    for part in ("config.json", "model.safetensors", "vae"):
        (shutil.copytree if part == "vae" else shutil.copy)(out / part, snapshot / part)
    scores(2).unlink()
    state = (out / "train_state.pt").stat().st_mtime_ns
    again = run()
    assert again.returncode == 0, again.stderr[-3000:]
    assert scores(2).is_file() and scores(4).is_file() and again.stdout.count("| lm | 1 |") == 2
    assert not snapshot.exists() and (out / "train_state.pt").stat().st_mtime_ns == state

    bad = subprocess.run(cmd[:2] + ["--out", str(out)], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.strip() == "scored_lm.sh: --vae is required"
