"""`latentlm-tts say` as a user runs it: speaking rate, standard output, playing, engines, no PyTorch."""

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
from tiny_model import make_tiny_checkpoint

from latentlm_common.errors import InputError
from tts.cli.main import main
from tts.synthesis import Voice, check_speed, make_requests

FAST = ["--steps", "2", "--seed", "0", "--retries", "0"]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("say") / "tiny")  # never stops: text length decides


def test_speed_divides_the_frames_per_phoneme():
    assert make_requests([[5, 6]], [[0, 0]], None, 1.2, 3)[0].rate is None  # the checkpoint's own rate
    assert make_requests([[5, 6]], [[0, 0]], None, 1.2, 3, speed=2.0)[0].rate == pytest.approx(0.6)
    voice = Voice(np.zeros((12, 32), np.float32), ids=[5, 6, 7, 8])  # continuation: the prompt's rate, scaled
    slow, fast = (make_requests([[5]], [[0]], voice, 1.2, 3, speed=s)[0].rate for s in (1.0, 2.0))
    assert fast == pytest.approx(slow / 2)
    for bad in (0.1, 5, "2", True, float("nan")):
        with pytest.raises(InputError, match="speed must be"):
            check_speed(bad)


def test_say_speed_shortens_the_audio(ckpt, tmp_path):
    frames = {}
    for speed in ("1", "2"):
        out = tmp_path / f"{speed}.wav"
        assert main(["say", "Hello there, how are you today?", "-o", str(out), "--ckpt", str(ckpt), *FAST,
                     "--speed", speed]) == 0  # fmt: skip
        frames[speed] = sf.info(out).frames
    assert 0.3 < frames["2"] / frames["1"] < 0.7


def test_say_writes_wav_to_standard_output(ckpt, capsysbinary):
    assert main(["say", "Hi there.", "-o", "-", "--ckpt", str(ckpt), *FAST]) == 0
    out, err = capsysbinary.readouterr()
    samples, sr = sf.read(io.BytesIO(out))
    assert sr == 24000 and len(samples) > 0 and b"wrote standard output" in err
    # the random tiny model's speech skips words: said in words, with the remedy when retries were off
    assert b"(the alignment found words skipped; --retries N samples such speech again)" in err


def test_play_uses_a_player_on_path_or_says_there_is_none(ckpt, tmp_path, monkeypatch, capsys):
    bin_dir, played = tmp_path / "bin", tmp_path / "played.wav"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    assert main(["say", "Hi.", "--play", "--ckpt", str(ckpt), *FAST]) == 2
    assert "found no audio player" in capsys.readouterr().err
    player = bin_dir / "aplay"  # called as `aplay -q FILE`
    player.write_text(f'#!/bin/sh\n/bin/cp "$2" {played}\n')
    player.chmod(0o755)
    assert main(["say", "Hi.", "--play", "--ckpt", str(ckpt), *FAST]) == 0
    assert sf.info(played).samplerate == 24000


def test_threads_reach_the_engine(ckpt, tmp_path, monkeypatch):
    """--threads 1: on a machine whose other core is busy, a 10-word say took 0.87 s against 0.98 s."""
    import tts.load

    seen, load = [], tts.load.load_tts
    monkeypatch.setattr(tts.load, "load_tts", lambda *a, **k: seen.append(a[3]) or load(*a, **k))
    assert main(["say", "Hi.", "-o", str(tmp_path / "a.wav"), "--ckpt", str(ckpt), "--threads", "1", *FAST]) == 0
    assert main(["say", "Hi.", "-o", str(tmp_path / "b.wav"), "--ckpt", str(ckpt), *FAST]) == 0
    assert seen == [1, None]


@pytest.mark.parametrize(
    "args,message",
    [
        (["Hi."], "nowhere to put the audio"),
        (["Hi.", "-o", "x.wav", "--speed", "9"], "speed must be"),
        (["Hi.", "-o", "x.mp4"], "unsupported output format"),
        (["Hi.", "-o", "x.wav", "--engine", "onnx"], "no ONNX graphs"),
        (["word " * 2001, "-o", "x.wav"], "at most 10,000: put it in a .txt file and run `latentlm-tts audiobook"),
    ],
)
def test_bad_say_requests_are_one_line_errors(ckpt, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["say", *args, "--ckpt", str(ckpt)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_without_pytorch_the_bundled_model_speaks_and_torch_commands_say_what_to_install(tmp_path):
    """`import torch` is blocked: the default engine still runs the bundled model; commands that need
    torch exit 2 with one line naming the extra."""
    script = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None  # `import torch` now fails as if it were not installed
        from tts.cli.main import main
        codes = [main(["say", "Hello.", "-o", "{tmp_path / "a.wav"}", "--steps", "2", "--retries", "0"])]
        print([m for m in ("joblib", "numpy.ma") if m in sys.modules])  # 0.1 s and 23 ms of imports `say` avoids
        codes.append(main(["say", "Hello.", "-o", "{tmp_path / "b.wav"}", "--engine", "torch"]))
        codes.append(main(["export-onnx", "--ckpt", "default", "-o", "{tmp_path / "x"}"]))
        print(codes)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.stdout.split("\n")[-3:-1] == ["[]", "[0, 2, 2]"], run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(errors) == 2 and all("latentlm-tts[torch]" in e for e in errors), run.stderr
    assert sf.info(tmp_path / "a.wav").frames > 0
