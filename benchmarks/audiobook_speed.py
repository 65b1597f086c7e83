"""Audiobook throughput: minutes of audio per wall-clock minute, batch 1 against batch N, PyTorch and ONNX.

    python benchmarks/audiobook_speed.py [--ckpt DIR] [--words 5000] [--batch-size 8] [--threads 1]

Runs the real `latentlm-tts audiobook` path (`render_book`: planning, batching, retries,
chapter assembly) on a generated three-chapter Markdown book made of the synthetic corpus's own
sentences. Without --ckpt a random-initialised `small` checkpoint is built whose stop head
never fires (as in onnx_rtf.py), so every chunk runs to the length guard (about twice the
expected length): the figures measure the engine's throughput, not a model's speaking rate.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from onnx_rtf import build_checkpoint

SENTENCES = Path(__file__).resolve().parents[1] / "recipes" / "synthetic" / "sentences.txt"


def make_book(path: Path, words: int) -> Path:
    sentences = [s.strip() for s in SENTENCES.read_text().splitlines() if s.strip()]
    chapters, total, i = [[], [], []], 0, 0
    while total < words:
        s = sentences[i % len(sentences)]
        chapters[i % 3].append(s)
        total, i = total + len(s.split()), i + 1
    body = "\n\n".join(f"# Chapter {c + 1}\n\n" + " ".join(p) for c, p in enumerate(chapters))
    path.write_text(body)
    return path


def run(tts, book: Path, voice, out: Path, batch_size: int) -> tuple[float, float]:
    from tts.audiobook.render import render_book
    from tts.cli.audiobook import BoundVoice, _split

    start = time.perf_counter()
    manifest = render_book(
        BoundVoice(tts, voice, 2.0, 10),
        book,
        out,
        split=_split,
        settings={"b": batch_size},
        batch_size=batch_size,
        progress=False,
    )
    wall = time.perf_counter() - start
    return manifest["summary"]["audio_seconds"], wall


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", help="TTS checkpoint (default: a random-initialised `small` one, stop head off)")
    p.add_argument("--words", type=int, default=5000, help="length of the generated book")
    p.add_argument("--batch-size", type=int, default=8, help="the batched configuration")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--engines", default="torch,onnx")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    logging.disable(logging.WARNING)  # the length guard fires on purpose
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = build_checkpoint(tmp / "ckpt", args.ckpt)
        book = make_book(tmp / "book.md", args.words)
        sr = 24000
        sf.write(tmp / "voice.wav", 0.3 * np.sin(np.arange(3 * sr) * 2 * np.pi * 180 / sr), sr)
        engines = {}
        if "torch" in args.engines:
            from tts.api import TTS

            engines["torch"] = TTS.from_pretrained(ckpt)
        if "onnx" in args.engines:
            import onnxruntime as ort

            from tts.onnx.export import export_onnx
            from tts.onnx.runtime import OnnxTTS

            export_onnx(ckpt, tmp / "onnx")
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = args.threads
            engines["onnx"] = OnnxTTS(tmp / "onnx", providers=["CPUExecutionProvider"], session_options=opts)
        print(f"book: {args.words} words; threads {args.threads}")
        print(f"{'engine':8} {'batch':>5} {'audio min':>10} {'wall min':>9} {'audio min / wall min':>21}")
        for name, tts in engines.items():
            voice = tts.load_voice(tmp / "voice.wav")
            for batch in sorted({1, args.batch_size}):
                audio, wall = run(tts, book, voice, tmp / f"out-{name}-{batch}", batch)
                print(f"{name:8} {batch:>5} {audio / 60:>10.2f} {wall / 60:>9.2f} {audio / wall:>21.2f}", flush=True)


if __name__ == "__main__":
    main()
