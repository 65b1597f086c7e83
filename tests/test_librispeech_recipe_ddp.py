"""Stages 1 and 2 of the LibriSpeech recipe under torchrun with 2 CPU processes (gloo): latent
extraction writes the same dataset as one process; training trains, stops, resumes from its
checkpoint, and leaves a complete TTS checkpoint (σ-VAE attached).
Exact resume itself is tested in a single process in test_train_lm.py::test_resume_is_exact."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.numpy import load_file as load_arrays
from safetensors.torch import load_file
from test_train_lm import make_corpus

from recipes.librispeech.prepare import prepare
from vae_audio.model import SigmaVAE

TRAIN = Path(__file__).resolve().parent.parent / "recipes" / "librispeech" / "train.py"
EXTRACT = TRAIN.with_name("extract.py")


def torchrun(tmp_path, *extra) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        str(TRAIN),
        "--vae",
        str(tmp_path / "vae"),
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "lm"),
        "--preset",
        "tiny",
        "--steps",
        "4",
        "--batch-size",
        "2",
        "--threads",
        "1",
        "--no-tensorboard",
        *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(TRAIN.parents[2])}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


def test_two_process_gloo_training_stops_and_resumes(tmp_path):
    make_corpus(tmp_path / "data", n_utts=4)
    SigmaVAE.from_preset("tiny").save_pretrained(tmp_path / "vae")
    first = torchrun(tmp_path, "--stop-at", "2")
    assert first.returncode == 0, first.stderr[-2000:]
    state = torch.load(tmp_path / "lm" / "train_state.pt", weights_only=False)
    assert state["step"] == 2
    weights = load_file(str(tmp_path / "lm" / "model.safetensors"))
    second = torchrun(tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert torch.load(tmp_path / "lm" / "train_state.pt", weights_only=False)["step"] == 4
    resumed = load_file(str(tmp_path / "lm" / "model.safetensors"))
    assert any(not torch.equal(weights[k], resumed[k]) for k in weights)
    assert "2/4" in second.stderr  # the progress bar starts at the saved step
    assert SigmaVAE.from_pretrained(tmp_path / "lm" / "vae").config.audio.latent_dim == 32


def extract(tmp_path, out: str, nproc: int) -> subprocess.CompletedProcess:
    launch = ["-m", "torch.distributed.run", "--nproc-per-node", str(nproc), "--master-port", "29535"]
    cmd = [
        sys.executable, *(launch if nproc > 1 else []), str(EXTRACT),
        "--manifest", str(tmp_path / "manifests" / "cuts_train.jsonl.gz"), "--vae", str(tmp_path / "vae"),
        "--out", str(tmp_path / out), "--batch-size", "2", "--shard-size", "3",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(TRAIN.parents[2])}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


def test_one_and_two_process_extraction_write_the_same_dataset(tiny_corpus, tmp_path):
    prepare(tiny_corpus, tmp_path / "manifests")  # stage 0, as run.sh runs it
    torch.manual_seed(0)
    SigmaVAE.from_preset("tiny").save_pretrained(tmp_path / "vae")
    for out, nproc in (("one", 1), ("two", 2)):
        done = extract(tmp_path, out, nproc)
        assert done.returncode == 0, done.stderr[-2000:]
    one, two = tmp_path / "one", tmp_path / "two"
    shards = sorted(p.name for p in (one / "shards").iterdir())
    assert len(shards) >= 6 and shards == sorted(p.name for p in (two / "shards").iterdir())  # >= 3 shards each
    for name in ("meta.json", "index.jsonl", "data.safetensors", *(f"shards/{s}" for s in shards)):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    arrays = load_arrays(str(one / "data.safetensors"))
    index = [json.loads(line) for line in (one / "index.jsonl").read_text().splitlines()]
    assert len(index) >= 9 and sum(r["frames"] for r in index) == len(arrays["latents"]) > 0
