"""What the CTC alignment costs at inference: engine time per generated frame with and without it.

    python benchmarks/alignment_cost.py [--ckpt default] [--onnx DIR] [--repeats 5] [--threads 1]

The same requests (three sentences with a voice prompt, CFG 2, 10 sampler steps) are generated
alternately with alignment (the requests carry their words, as the front end sends them) and
without (`words=None`, the stop head alone), in one process, and the wall time per generated
frame is compared (the two runs may stop at different frames, so time per frame, i.e. the real-time
factor, is the measure). `--batch 1` (the default) generates each sentence alone, as `say` and
streaming do; with a larger batch the lockstep of requests that end at different frames also
shows in the time per frame.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

SENTENCES = [
    "The sun was shining on the sea, shining with all his might.",
    "Please call me when you get home, and bring the books with you.",
    "We will meet at the station tomorrow morning before the first train leaves.",
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", default="default")
    p.add_argument("--onnx", help="an ONNX export (latentlm-tts export-onnx) instead of the PyTorch engine")
    p.add_argument("--voice", default="demo/examples/voice1.wav")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=1, help="requests generated together")
    args = p.parse_args()
    if args.onnx:
        import onnxruntime as ort

        from tts.onnx.runtime import OnnxTTS

        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        tts = OnnxTTS(args.onnx, providers=["CPUExecutionProvider"], session_options=options)
    else:
        import torch

        from tts.api import TTS

        torch.set_num_threads(args.threads)
        tts = TTS.from_pretrained(args.ckpt)
    voice = tts.load_voice(args.voice)
    aligned = tts._requests([c for s in SENTENCES for c in tts._chunks(s)], voice)
    plain = [dataclasses.replace(r, words=None) for r in aligned]
    timings = {"with alignment": [], "without": []}
    for k in range(args.repeats + 1):  # the first round warms up
        for name, reqs in (("with alignment", aligned), ("without", plain)):
            seconds, frames = 0.0, 0
            for i in range(0, len(reqs), args.batch):
                batch = reqs[i : i + args.batch]
                start = time.perf_counter()
                out = tts.engine.generate(batch, tts._noise(k + i, len(batch)), 10, 2.0)
                seconds += time.perf_counter() - start
                frames += sum(len(z) for z in out.latents)
            if k:
                timings[name].append(1000 * seconds / frames)
    engine = "ONNX Runtime" if args.onnx else "PyTorch"
    for name, ms in timings.items():
        print(f"{engine}, batch {args.batch}, {name}: {np.median(ms):.2f} ms per frame (median of {len(ms)})")
    ratio = np.median(timings["with alignment"]) / np.median(timings["without"])
    print(f"cost of the alignment: {100 * (ratio - 1):+.1f} % time per frame")


if __name__ == "__main__":
    main()
