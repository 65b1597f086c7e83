"""Real-time factor of the ONNX Runtime engine against PyTorch eager on this CPU, side by side.

    python benchmarks/onnx_rtf.py [--ckpt DIR] [--threads 2] [--frames 60] [--batches 1,8]

Without --ckpt a random-initialised `small` LatentLM + `small` σ-VAE checkpoint is built
(speed does not depend on training). The stop head is disabled in a copy of the checkpoint,
so every request generates exactly --frames latents; the prompt is a 3 s voice (45 latents).
Rows: PyTorch eager fp32, PyTorch eager with int8 dynamic quantisation of nn.Linear,
ONNX Runtime fp32 and ONNX Runtime int8 (`export-onnx --int8`); with --per-step-head also
ONNX Runtime fp32 calling the diffusion head once per solver step (*) instead of the unrolled
sampler graph, to measure what the unrolling gains. (A graph fusing the LM step with the
sampler, one call per frame, measured no faster than these two calls and was dropped.) Columns: seconds for the
batch, frames/s over all requests, RTF = wall time / seconds of audio (all requests together)
for the latents alone (LM + diffusion head) and with σ-VAE decoding added.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def build_checkpoint(out: Path, ckpt: str | None) -> Path:
    """A copy of --ckpt (or a random `small` one) whose stop head never fires."""
    from tts.api import TTS
    from tts.config import preset
    from tts.lm import LatentLM
    from tts.text import PhonemeTokenizer
    from vae_audio.model import SigmaVAE

    if ckpt:
        tts = TTS.from_pretrained(ckpt)
    else:
        tok = PhonemeTokenizer()
        torch.manual_seed(0)
        tts = TTS(LatentLM(preset("small", **tok.lm_ids())), SigmaVAE.from_preset("small"), tok)
    with torch.no_grad():
        tts.model.stop_head.bias.fill_(-1e4)
    tts.save_pretrained(out)
    return out


def requests(batch: int, frames: int, d: int, seed: int = 0):
    """(text ids, voice latents) per request: text as long as the output, a 3 s voice prompt."""
    rng = np.random.default_rng(seed)
    return [(rng.integers(10, 60, frames), rng.standard_normal((45, d)).astype(np.float32)) for _ in range(batch)]


class TorchRunner:
    def __init__(self, ckpt: Path, int8: bool):
        from tts.api import TTS

        self.tts = TTS.from_pretrained(ckpt)
        if int8:
            linears = {
                n for n, m in self.tts.model.named_modules() if isinstance(m, torch.nn.Linear) and n != "latent_in"
            }
            # latent_in stays float: LatentLM.forward reads its weight's dtype
            self.tts.model = torch.ao.quantization.quantize_dynamic(self.tts.model, linears, dtype=torch.qint8)
            self.tts.engine.model = self.tts.model
        self.d = self.tts.model.cfg.latent_dim

    def generate(self, reqs, frames, steps, cfg) -> list[np.ndarray]:
        from tts.engine import SpeechRequest

        rs = [SpeechRequest(torch.from_numpy(t), voice=torch.from_numpy(v), max_frames=frames) for t, v in reqs]
        gens = [torch.Generator().manual_seed(i) for i in range(len(rs))]
        return [z.numpy() for z in self.tts.engine.generate(rs, gens, steps, cfg).latents]

    def decode(self, latents: list[np.ndarray]) -> None:
        with torch.no_grad():
            self.tts.vae.decode(torch.from_numpy(np.stack(latents)))


class OnnxRunner:
    def __init__(self, export_dir: Path, threads: int, unrolled: bool = True):
        import onnxruntime as ort

        from tts.onnx.runtime import OnnxTTS

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        self.tts = OnnxTTS(export_dir, providers=["CPUExecutionProvider"], session_options=opts)
        if not unrolled:  # one head_step.onnx call per solver step instead of the unrolled sampler.onnx
            self.tts.engine.sampler = {**self.tts.engine.sampler, "unrolled_steps": 0}

    def generate(self, reqs, frames, steps, cfg) -> list[np.ndarray]:
        from tts.onnx.engine import SpeechRequest

        rs = [SpeechRequest(t, voice=v, max_frames=frames) for t, v in reqs]
        noise = [np.random.default_rng(i) for i in range(len(rs))]
        return self.tts.engine.generate(rs, noise, steps, cfg).latents

    def decode(self, latents: list[np.ndarray]) -> None:
        from tts.onnx.runtime import StreamDecoder

        z = np.stack(latents)
        StreamDecoder(self.tts.sessions["vae_decoder"], self.tts.config["vae"]["decoder_states"], len(z)).push(z)


def measure(runner, batch: int, frames: int, steps: int, cfg: float, repeats: int) -> tuple[float, float]:
    """Best-of-`repeats` seconds for (generation, σ-VAE decoding) of one batch."""
    reqs = requests(batch, frames, 32)
    gen, dec = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        latents = runner.generate(reqs, frames, steps, cfg)
        gen.append(time.perf_counter() - start)
        start = time.perf_counter()
        runner.decode(latents)
        dec.append(time.perf_counter() - start)
    return min(gen), min(dec)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", help="TTS checkpoint directory (default: a random-initialised `small` one)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--frames", type=int, default=60, help="latents generated per request (15 per second of audio)")
    p.add_argument("--batches", default="1,8")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--guidance-scale", "--cfg-scale", dest="guidance_scale", type=float, default=2.0)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument(
        "--per-step-head",
        action="store_true",
        help="add a row (*) that calls head_step.onnx per solver step instead of the unrolled sampler",
    )
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("tts").setLevel(logging.ERROR)  # every request ends at the length guard on purpose
    from tts.onnx.export import export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = build_checkpoint(Path(tmp) / "ckpt", args.ckpt)
        runners = {
            "torch eager fp32": TorchRunner(ckpt, False),
            "torch eager int8": TorchRunner(ckpt, True),
            "onnxruntime fp32": OnnxRunner(export_onnx(ckpt, Path(tmp) / "fp32"), args.threads),
            "onnxruntime int8": OnnxRunner(export_onnx(ckpt, Path(tmp) / "int8", int8=True), args.threads),
        }
        if args.per_step_head:
            runners["onnxruntime fp32 *"] = OnnxRunner(Path(tmp) / "fp32", args.threads, unrolled=False)
        seconds = args.frames / runners["torch eager fp32"].tts.audio_config.frame_rate
        print(
            f"{args.ckpt or 'random small'}; {args.threads} threads; {args.frames} frames per request "
            f"({seconds:.1f} s); {args.steps} steps; CFG {args.guidance_scale}"
        )
        print(f"{'engine':<18} {'batch':>5} {'gen s':>7} {'frames/s':>9} {'RTF':>7} {'+VAE s':>7} {'RTF+VAE':>8}")
        for batch in map(int, args.batches.split(",")):
            for name, runner in runners.items():
                measure(runner, batch, 3, args.steps, args.guidance_scale, 1)  # warm-up
                gen, dec = measure(runner, batch, args.frames, args.steps, args.guidance_scale, args.repeats)
                audio = batch * seconds
                print(
                    f"{name:<18} {batch:>5} {gen:>7.2f} {batch * args.frames / gen:>9.1f} {gen / audio:>7.3f} "
                    f"{dec:>7.2f} {(gen + dec) / audio:>8.3f}"
                )


if __name__ == "__main__":
    main()
