"""The light install, as a new user gets it: the wheel in a fresh virtualenv, no PyTorch, and
`latentlm-tts say` speaking with the bundled model and an example voice."""

import subprocess
import sys
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tts", "vae_audio", "latentlm_common", "demo")
MAX_PACKAGE_MB = 45


def _run(*cmd, cwd=None):
    run = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"{cmd}: {run.stdout[-2000:]}{run.stderr[-2000:]}"
    return run


def test_the_wheel_installs_without_torch_and_speaks(tmp_path):
    source = tmp_path / "src"  # a clean copy: building in the checkout would leave build/ behind
    files = _run("git", "ls-files", cwd=ROOT).stdout.split()
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((ROOT / name).read_bytes())
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist", source
    )
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "pip", "install", "-q", *(tmp_path / "dist").glob("*.whl"))
    no_torch = subprocess.run([venv / "bin" / "python", "-c", "import torch"], capture_output=True)
    assert no_torch.returncode != 0
    out = tmp_path / "hello.wav"
    say = _run(venv / "bin" / "latentlm-tts", "say", "Hello there.", "--voice", ROOT / "demo/examples/voice1.wav",
               "-o", out, "--steps", "2", "--retries", "0", cwd=tmp_path)  # fmt: skip
    assert "wrote" in say.stdout and sf.info(out).samplerate == 24000 and sf.info(out).frames > 0
    site = next((venv / "lib").glob("python*/site-packages"))
    size = sum(f.stat().st_size for p in PACKAGES for f in (site / p).rglob("*") if f.is_file())
    assert size < MAX_PACKAGE_MB * 2**20, f"installed package is {size / 2**20:.1f} MiB"
