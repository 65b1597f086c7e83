"""Does the ONNX export of a checkpoint generate the same latents as PyTorch? (For the bundled model.)

    python benchmarks/onnx_parity.py [--ckpt default] [--out /tmp/default-onnx] [--save latents.npz]

Exports the checkpoint, then generates the same requests (two sentences with a voice prompt, the
stop head alone deciding, CFG 1 and 2, 10 sampler steps) with the PyTorch engine and with the ONNX
Runtime engine fed the very noise the torch generators draw, and prints the largest absolute
difference of the latents. `--save` keeps them, to compare two versions of the code.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from tts.api import TTS
from tts.inference import SpeechRequest
from tts.onnx.engine import NoiseReplay
from tts.onnx.export import export_onnx
from tts.onnx.runtime import OnnxTTS

TEXTS = ["Hello from LatentLM.", "The quick brown fox jumps over the lazy dog."]
SEEDS = [11, 12]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", default="default")
    p.add_argument("--out", default="/tmp/latentlm-onnx-parity", help="where the export is written")
    p.add_argument("--voice", default="demo/examples/voice1.wav")
    p.add_argument("--save", help="write every latent array to this .npz")
    args = p.parse_args()
    torch.set_num_threads(1)
    tts = TTS.from_pretrained(args.ckpt)
    voice = tts.load_voice(args.voice).latents
    ids = [np.array(tts.tokenizer.encode(c.phonemes)) for t in TEXTS for c in tts._chunks(t)]
    noise = [torch.randn(400, voice.shape[1], generator=torch.Generator().manual_seed(s)).numpy() for s in SEEDS]
    onnx = OnnxTTS(export_onnx(args.ckpt, args.out), providers=["CPUExecutionProvider"])
    latents, worst = {}, 0.0
    for scale in (1.0, 2.0):
        reqs = [SpeechRequest(i, voice=voice) for i in ids]
        ref = tts.engine.generate(reqs, [torch.Generator().manual_seed(s) for s in SEEDS], 10, scale).latents
        out = onnx.engine.generate(reqs, [NoiseReplay(n) for n in noise], 10, scale).latents
        for k, (a, b) in enumerate(zip(ref, out)):
            latents[f"torch_{scale}_{k}"], latents[f"onnx_{scale}_{k}"] = a.numpy(), b
            diff = np.abs(a.numpy() - b).max() if a.shape == b.shape else np.inf
            worst = max(worst, diff)
            print(f"CFG {scale}, request {k}: {len(a)} / {len(b)} frames (torch / ONNX), max |difference| {diff:.2e}")
    print(f"largest difference: {worst:.2e}")
    if args.save:
        np.savez(args.save, **latents)


if __name__ == "__main__":
    main()
