"""σ-VAE training: a tiny model overfits a few seconds of speech; a 2-process DDP run resumes exactly."""

import json
import os
import subprocess
import sys

import pytest
import soundfile as sf
import torch
from test_vae_model import SR, speechlike

from vae_audio import train
from vae_audio.checkpoint import read_config
from vae_audio.data import AudioSource
from vae_audio.losses import MultiScaleMelLoss
from vae_audio.model import SigmaVAE


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Three 2 s utterances of speech-like audio in a directory tree."""
    root = tmp_path_factory.mktemp("corpus")
    for i in range(3):
        (root / f"spk{i}").mkdir()
        sf.write(root / f"spk{i}" / f"utt{i}.wav", speechlike(2.0, seed=i), SR)
    return root


def reconstruction_mel(model: SigmaVAE, x: torch.Tensor) -> float:
    with torch.no_grad():
        return float(MultiScaleMelLoss(SR)(model.decode(model.encode(x)), x))


def test_tiny_model_halves_its_mel_loss_on_a_few_seconds_of_speech(corpus, tmp_path, one_thread):
    source = AudioSource(corpus, SR, -25.0)
    x = torch.stack([torch.from_numpy(source.load(i)) for i in range(len(source))])  # (3, 2 s)
    torch.manual_seed(0)  # the same initial weights train.py draws with --seed 0
    before = reconstruction_mel(SigmaVAE.from_preset("tiny"), x)
    out = train.main(
        [
            "--data",
            str(corpus),
            "--out",
            str(tmp_path / "run"),
            "--preset",
            "tiny",
            "--steps",
            "300",
            "--batch-size",
            "2",
            "--crop-seconds",
            "0.5",
            "--num-workers",
            "0",
            "--lr",
            "2e-3",
            "--log-every",
            "10",
            "--no-tensorboard",
            "--set",
            'loss={"warmup_steps": 100000}',
        ]
    )
    trained = SigmaVAE.from_pretrained(out)
    after = reconstruction_mel(trained, x)
    assert after <= 0.5 * before, (before, after)


def torchrun(corpus, out, *extra):
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "vae_audio.train",
        "--data",
        str(corpus),
        "--out",
        str(out),
        "--preset",
        "tiny",
        "--steps",
        "6",
        "--batch-size",
        "2",
        "--crop-seconds",
        "0.5",
        "--num-workers",
        "0",
        "--threads",
        "1",
        "--log-every",
        "1",
        "--save-every",
        "100",
        "--no-tensorboard",
        "--set",
        'loss={"warmup_steps": 2}',
        *extra,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in (out / train.LOG_NAME).read_text().splitlines()]


def test_two_process_gloo_run_resumes_to_the_same_loss_trajectory(corpus, tmp_path):
    whole = torchrun(corpus, tmp_path / "whole")
    torchrun(corpus, tmp_path / "split", "--stop-at", "3")
    assert torch.load(tmp_path / "split" / "train_state.pt", weights_only=False)["step"] == 3
    resumed = torchrun(corpus, tmp_path / "split")
    assert [r["step"] for r in whole] == [r["step"] for r in resumed] == list(range(6))
    assert "disc" in whole[-1]  # the GAN phase (after 2 warm-up steps) was part of the run
    for a, b in zip(whole, resumed):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), (a["step"], key)
    assert read_config(tmp_path / "whole") == read_config(tmp_path / "split")


def test_decoder_fine_tune_from_a_checkpoint_keeps_the_latent_space(corpus, tmp_path, one_thread):
    common = [
        "--data",
        str(corpus),
        "--preset",
        "tiny",
        "--batch-size",
        "2",
        "--crop-seconds",
        "0.5",
        "--num-workers",
        "0",
        "--no-tensorboard",
        "--set",
        'loss={"warmup_steps": 1000}',
    ]
    base = train.main([*common, "--out", str(tmp_path / "base"), "--steps", "3"])
    tuned = train.main(
        [
            *common,
            "--out",
            str(tmp_path / "tuned"),
            "--steps",
            "3",
            "--lr",
            "1e-2",
            "--init",
            str(base),
            "--freeze-encoder",
        ]
    )
    a, b = SigmaVAE.from_pretrained(base), SigmaVAE.from_pretrained(tuned)
    for (name, p), q in zip(a.encoder.state_dict().items(), b.encoder.state_dict().values()):
        assert torch.equal(p, q), name
    assert any(not torch.equal(p, q) for p, q in zip(a.decoder.state_dict().values(), b.decoder.state_dict().values()))


def test_set_is_repeatable_merges_objects_and_names_unknown_fields():
    args = train.build_parser().parse_args(
        [
            "--data",
            "d",
            "--out",
            "o",
            "--set",
            'head="upsample"',
            "--set",
            'loss={"mel": 5}',
            "--set",
            'loss={"stft": 2}',
        ]
    )
    assert args.overrides == {"head": "upsample", "loss": {"mel": 5, "stft": 2}} and args.stop_at is None
    config = train.apply_overrides(train.VAE_PRESETS["tiny"], args.overrides)
    assert config.head == "upsample" and (config.loss.mel, config.loss.stft) == (5, 2)
    assert config.loss.warmup_steps == train.VAE_PRESETS["tiny"].loss.warmup_steps  # merged, not replaced
    with pytest.raises(SystemExit, match="unknown VAEConfig field"):
        train.apply_overrides(config, {"latent_scale": 1.0})
    with pytest.raises(SystemExit):  # not JSON: argparse's one-line error
        train.build_parser().parse_args(["--data", "d", "--out", "o", "--set", "head=upsample"])
