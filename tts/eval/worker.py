"""An ASR backend in a child process that is restarted every `recycle_every` clips.

moonshine-cpp 0.1.4's native library leaks about 80 MB per transcription, so a long scoring run
(or corpus QC) keeps the model in a process it can throw away. Same interface as `tts.eval.asr`.

    python -m tts.eval.worker NAME     # reads wav paths on stdin, prints "ASR\\t<transcript>" per path
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from tts.eval.asr import ASR_RATE, load_asr, to_16k

REPLY = "ASR\t"
# the directory this `tts` is imported from: the worker starts there, since `python -m` puts the
# current directory first on the path, and another checkout's `tts` there would run instead
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
LEAKY = ("moonshine",)  # backends whose native library leaks memory with every clip


def open_asr(name: str):
    """The ASR backend `name` for many clips: a leaky one runs in a recycled child process."""
    return IsolatedASR(name) if name in LEAKY else load_asr(name)


class IsolatedASR:
    def __init__(self, name: str, recycle_every: int = 16):
        self.name, self.recycle_every = name, recycle_every
        self.proc, self.calls = None, 0

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> str:
        if self.proc is None or self.calls >= self.recycle_every:
            self.close()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tts.eval.worker", self.name],
                cwd=PACKAGE_ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.calls = 0
        fd, path = tempfile.mkstemp(suffix=".wav")
        os.close(fd)
        try:
            sf.write(path, to_16k(audio, sample_rate), ASR_RATE, subtype="FLOAT")
            self.proc.stdin.write(path + "\n")
            self.proc.stdin.flush()
            self.calls += 1
            for line in self.proc.stdout:
                if line.startswith(REPLY):
                    return line[len(REPLY) :].strip()
            raise RuntimeError(f"the {self.name} ASR process exited unexpectedly")
        finally:
            os.unlink(path)

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
            self.proc = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the pipe may already be gone
            pass


def serve(name: str) -> None:
    asr = load_asr(name)
    for line in sys.stdin:
        x, sr = sf.read(line.rstrip("\n"), dtype="float32")
        print(REPLY + asr.transcribe(x, sr).replace("\n", " "), flush=True)


if __name__ == "__main__":
    serve(sys.argv[1])
