"""`latentlm-tts vae ...` on real files: encode/decode/eval/stats, and one clear line for bad input."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
from test_vae_model import SR, D, speechlike

from tts.cli import vae as vae_cli
from tts.cli.main import main
from tts.data import latent_stats
from vae_audio.data import AudioSource
from vae_audio.model import SigmaVAE


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("vae")
    SigmaVAE.from_preset("tiny").save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "speech.wav"
    sf.write(path, speechlike(1.0), SR)
    return path


def test_encode_then_decode(ckpt, wav, tmp_path, capsys):
    z_path, out = tmp_path / "z.npy", tmp_path / "out.wav"
    assert main(["vae", "encode", str(wav), "-o", str(z_path), "--ckpt", str(ckpt)]) == 0
    z = np.load(z_path)
    assert z.shape == (15, D) and z.dtype == np.float32
    assert main(["vae", "decode", str(z_path), "-o", str(out), "--ckpt", str(ckpt)]) == 0
    y, sr = sf.read(out)
    assert sr == SR and len(y) == SR
    assert "15 frames" in capsys.readouterr().out


def test_eval_prints_the_table_and_stats_prints_the_latent_statistics(ckpt, tmp_path, capsys):
    data = tmp_path / "corpus" / "spk"
    data.mkdir(parents=True)
    for i in range(2):
        sf.write(data / f"u{i}.flac", speechlike(1.5, seed=i), SR)
    assert main(["vae", "eval", "--ckpt", str(ckpt), str(tmp_path / "corpus")]) == 0
    header, _, row = capsys.readouterr().out.strip().splitlines()[-3:]
    assert header.split("|")[1:] == [" Mel dist ", "   PESQ ", "   STOI ", " Compression"]
    assert row.split("|")[0].strip() == "2" and row.strip().endswith("1600x")
    before = {p.name: p.read_bytes() for p in ckpt.iterdir()}
    assert main(["vae", "stats", "--ckpt", str(ckpt), str(tmp_path / "corpus")]) == 0
    vae = SigmaVAE.from_pretrained(ckpt)
    source = AudioSource(tmp_path / "corpus", SR, vae.config.audio.target_dbfs)
    with torch.no_grad():
        scale, bias = latent_stats(vae.encode(torch.from_numpy(source.load(i))[None])[0].numpy() for i in range(2))
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert printed == f"latent_scale={scale:.6g} latent_bias={bias:.6g} over 2 utterances"
    assert {p.name: p.read_bytes() for p in ckpt.iterdir()} == before  # it writes nothing


def test_stats_requires_a_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["vae", "stats", str(tmp_path)])
    assert e.value.code == 2 and "--ckpt" in capsys.readouterr().err


def bad_input_cases(tmp_path, wav):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((10, D + 3), dtype=np.float32))
    not_npy = tmp_path / "z.npy.txt"
    not_npy.write_text("1 2 3")
    out = str(tmp_path / "o.x")
    return {
        "missing audio": (["encode", str(tmp_path / "nope.wav"), "-o", out], "no such audio file"),
        "non-audio file": (["encode", str(text), "-o", out], "cannot read this file as audio"),
        "wrong latent shape": (["decode", str(wrong), "-o", out], f"must have shape (frames, {D})"),
        "not a .npy": (["decode", str(not_npy), "-o", out], "not a NumPy .npy file"),
        "missing latents": (["decode", str(tmp_path / "nope.npy"), "-o", out], "no such latent file"),
    }


def test_bad_input_gives_one_clear_line(ckpt, wav, tmp_path, capsys):
    for name, (argv, message) in bad_input_cases(tmp_path, wav).items():
        assert main(["vae", *argv, "--ckpt", str(ckpt)]) == 2, name
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, (name, err)


def test_missing_checkpoint_is_a_clear_error(wav, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(vae_cli, "BUNDLED_VAE", tmp_path / "no-bundled-vae")
    assert main(["vae", "encode", str(wav), "-o", str(tmp_path / "z.npy")]) == 2
    assert "no --ckpt given and no bundled σ-VAE" in capsys.readouterr().err
    assert main(["vae", "encode", str(wav), "-o", str(tmp_path / "z.npy"), "--ckpt", str(tmp_path / "x")]) == 2
    assert "no such checkpoint directory" in capsys.readouterr().err


def test_console_command_exits_non_zero_without_traceback(ckpt, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tts.cli.main",
            "vae",
            "decode",
            str(tmp_path / "nope.npy"),
            "-o",
            "x.wav",
            "--ckpt",
            str(ckpt),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"latentlm-tts vae: error: {tmp_path / 'nope.npy'}: no such latent file."
    ]
