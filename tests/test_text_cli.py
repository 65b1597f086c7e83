"""`latentlm-tts text`: two lines on stdout, stdin with '-', one-line errors with exit 2."""

import io
import subprocess
import sys

import pytest

from tts.cli.main import main


def test_prints_exactly_two_lines(capsys):
    assert main(["text", "Dr. Smith paid $5.50 on Dec. 25, 2024."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "normalized: Doctor Smith paid five dollars and fifty cents on December twenty-fifth, twenty twenty-four.",
        lines[1],
    ]
    assert lines[1].startswith("phonemes: dˈɑːktɚ smˈɪθ")


def test_reads_stdin_with_dash(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("It's 50%\noff.\n"))
    assert main(["text", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "normalized: It's fifty percent off."
    assert len(lines) == 2 and lines[1].startswith("phonemes: ")


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_a_one_line_error(text, capsys):
    assert main(["text", text]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "latentlm-tts text: error: text is empty\n"


def test_console_script_runs_in_a_subprocess():
    out = subprocess.run(
        [sys.executable, "-m", "tts.cli.main", "text", "-"], input="3 cats", capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.splitlines()[0] == "normalized: three cats"
    err = subprocess.run([sys.executable, "-m", "tts.cli.main", "text", ""], capture_output=True, text=True)
    assert err.returncode == 2 and len(err.stderr.splitlines()) == 1
