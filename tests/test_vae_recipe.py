"""recipes/libritts/run.sh, all stages, on a tiny corpus in LibriTTS layout."""

import os
import subprocess
import sys
from pathlib import Path

import soundfile as sf
from test_vae_model import SR, speechlike

from vae_audio.data import AudioSource

RUN = Path(__file__).resolve().parent.parent / "recipes" / "libritts" / "run.sh"


def write_libritts(root: Path, part: str, speakers: list[str], seed: int) -> int:
    """<part>/<speaker>/<chapter>/<speaker>_<chapter>_<n>_000000.wav + .trans.tsv + .book.tsv, as LibriTTS ships it."""
    n = 0
    for spk in speakers:
        chapter = root / part / spk / "100"
        chapter.mkdir(parents=True)
        trans, book = [], []
        for i in range(2):
            utt = f"{spk}_100_{i:06d}_000000"
            sf.write(chapter / f"{utt}.wav", speechlike(1.2, seed=seed + n), SR)
            (chapter / f"{utt}.normalized.txt").write_text("a test utterance")
            trans.append(f"{utt}\tA test utterance.\ta test utterance")
            book.append(f"{utt}\tA test utterance.\ta test utterance\t0\t0\t25.0")
            n += 1
        (chapter / f"{spk}_100.trans.tsv").write_text("\n".join(trans) + "\n")
        (chapter / f"{spk}_100.book.tsv").write_text("\n".join(book) + "\n")
    return n


def test_recipe_prepares_trains_and_evaluates_on_a_libritts_tree(tmp_path):
    corpus = tmp_path / "LibriTTS"
    write_libritts(corpus, "train-clean-100", ["19", "26"], seed=0)
    n_test = write_libritts(corpus, "test-other", ["1688"], seed=10)
    exp = tmp_path / "exp"
    cmd = [
        "bash",
        str(RUN),
        "--corpus",
        str(corpus),
        "--manifests",
        str(tmp_path / "manifests"),
        "--exp",
        str(exp),
        "--preset",
        "tiny",
        "--steps",
        "3",
        "--batch-size",
        "2",
        "--crop-seconds",
        "0.5",
        "--extra-train-args",
        "--num-workers 0 --threads 1 --no-tensorboard",
    ]
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "OMP_NUM_THREADS": "1",
    }
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "manifests" / "cuts_train.jsonl.gz").is_file()
    stages = [line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("stage ")]
    assert stages == ["stage 0", "stage 1", "stage 2"]  # manifests, training, evaluation
    header, _, row = (exp / "eval_test-other.txt").read_text().strip().splitlines()
    assert "Mel dist" in header and row.split("|")[0].strip() == str(n_test)


def test_stage_0_reads_a_librispeech_layout_tree(tmp_path):
    chapter = tmp_path / "LibriSpeech" / "test-other" / "1688" / "142285"
    chapter.mkdir(parents=True)
    lines = []
    for i in range(3):
        sf.write(chapter / f"1688-142285-{i:04d}.flac", speechlike(1.0, seed=i), 16000)
        lines.append(f"1688-142285-{i:04d} A TEST UTTERANCE")
    (chapter / "1688-142285.trans.txt").write_text("\n".join(lines) + "\n")
    cmd = [
        "bash",
        str(RUN),
        "--corpus",
        str(tmp_path / "LibriSpeech"),
        "--manifests",
        str(tmp_path / "m"),
        "--stop-stage",
        "0",
    ]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test-other (3 utterances)" in result.stdout
    source = AudioSource(tmp_path / "m" / "cuts_test-other.jsonl.gz", SR, -25.0)
    assert len(source) == 3 and len(source.load(0)) == 36000  # 24 000 samples at 16 kHz = 1.5 s at 24 kHz


def test_recipe_rejects_unknown_options():
    result = subprocess.run(["bash", str(RUN), "--no-such-option", "1"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown option --no-such-option" in result.stderr


def test_recipe_scripts_import_their_own_checkout(tmp_path):
    """parse_options.sh puts the checkout the script sits in first on PYTHONPATH, so a script it
    starts by path imports that checkout's package, not the pip-installed copy."""
    (tmp_path / "recipes" / "x").mkdir(parents=True)
    (tmp_path / "tts").mkdir()
    (tmp_path / "tts" / "__init__.py").write_text("print('this checkout')\n")
    (tmp_path / "recipes" / "parse_options.sh").write_text((RUN.parents[1] / "parse_options.sh").read_text())
    script = tmp_path / "recipes" / "x" / "run.sh"
    script.write_text(f'a=1\n. "$(dirname "$0")/../parse_options.sh"\n"{sys.executable}" -c "import tts"\n')
    env = {**os.environ, "PYTHONPATH": "/elsewhere"}
    result = subprocess.run(["bash", str(script), "--a", "2"], capture_output=True, text=True, cwd="/", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "this checkout\n"
