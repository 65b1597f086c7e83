"""Inference speed of the LatentLM engine: real-time factor, frames per second, first-chunk latency.

    python benchmarks/lm_speed.py [--preset small] [--threads 2] [--frames 60]

Random-initialised weights (speed does not depend on training); the stop head is disabled so
every request generates exactly --frames latents (4 s at 15 Hz). RTF = wall time / seconds
of audio produced (all requests of the batch together), without the σ-VAE decoder. The
streaming line runs the whole API path (frontend, prompt encoding, σ-VAE streaming decoder,
random-initialised `small` σ-VAE) and reports the time until the first audio chunk.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from tts.api import TTS
from tts.config import preset
from tts.engine import Engine, SpeechRequest
from tts.lm import LatentLM, count_parameters
from tts.text import PhonemeTokenizer
from vae_audio.model import SigmaVAE


def build_model(name: str, tok: PhonemeTokenizer) -> LatentLM:
    torch.manual_seed(0)
    model = LatentLM(preset(name, **tok.lm_ids())).eval()
    with torch.no_grad():
        model.stop_head.bias.fill_(-1e4)  # never stop: fixed-length requests
    return model


def time_generate(engine: Engine, batch: int, frames: int, steps: int, cfg: float) -> float:
    g = torch.Generator().manual_seed(0)
    d = engine.cfg.latent_dim
    reqs = [
        SpeechRequest(
            torch.randint(10, 60, (frames,), generator=g), voice=torch.randn(45, d, generator=g), max_frames=frames
        )
        for _ in range(batch)
    ]
    gens = [torch.Generator().manual_seed(i) for i in range(batch)]
    start = time.perf_counter()
    engine.generate(reqs, gens, steps=steps, guidance_scale=cfg)
    return time.perf_counter() - start


def time_head(engine: Engine, rows: int, steps: int, cfg: float, repeats: int = 20) -> float:
    """Seconds per call of the diffusion head sampler for `rows` frames."""
    head, dim, d = engine.model.head, engine.cfg.dim, engine.cfg.latent_dim
    cond, noise = torch.randn(rows, dim), torch.randn(rows, d)
    neg = torch.randn(rows, dim) if cfg != 1.0 else None
    head.sample(cond, noise, steps, neg, cfg)
    start = time.perf_counter()
    for _ in range(repeats):
        head.sample(cond, noise, steps, neg, cfg)
    return (time.perf_counter() - start) / repeats


def stream_latency(model: LatentLM, tok: PhonemeTokenizer, steps: int, cfg: float) -> tuple[float, float]:
    """(seconds to the first audio chunk, seconds per later chunk) of TTS.stream with a 3 s prompt."""
    tts = TTS(model, SigmaVAE.from_preset("small"), tok)
    t = np.arange(3 * tts.sample_rate) / tts.sample_rate
    voice = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    text = "The quick brown fox jumps over the lazy dog."
    list(tts.stream(text, voice=voice, steps=steps, guidance_scale=cfg, seed=0))  # warm-up (espeak, allocations)
    start = time.perf_counter()
    it = tts.stream(text, voice=voice, steps=steps, guidance_scale=cfg, seed=0)
    next(it)
    first = time.perf_counter() - start
    n = 0
    for _ in it:
        n += 1
        if n == 20:
            break
    return first, (time.perf_counter() - start - first) / max(n, 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="small")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--batches", default="1,16")
    p.add_argument("--steps", default="5,10,20")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    tok = PhonemeTokenizer()
    model = build_model(args.preset, tok)
    engine = Engine(model)
    frame_rate = 15.0
    print(
        f"LatentLM {args.preset}: {count_parameters(model) / 1e6:.1f} M params, {args.threads} threads, "
        f"{args.frames} frames per request, fp32, no σ-VAE decoding"
    )
    print(f"{'batch':>5} {'cfg':>4} {'steps':>5} {'s':>7} {'frames/s':>9} {'RTF':>7} {'ms/frame':>9} {'head ms':>8}")
    time_generate(engine, 1, 5, 5, 2.0)  # warm-up
    for batch in map(int, args.batches.split(",")):
        for cfg in (1.0, 2.0):
            for steps in map(int, args.steps.split(",")):
                sec = time_generate(engine, batch, args.frames, steps, cfg)
                frames = batch * args.frames
                head = time_head(engine, batch, steps, cfg)
                print(
                    f"{batch:>5} {cfg:>4.1f} {steps:>5} {sec:>7.2f} {frames / sec:>9.1f} "
                    f"{sec / (frames / frame_rate):>7.3f} {1000 * sec / args.frames:>9.1f} {1000 * head:>8.1f}"
                )
    for cfg in (1.0, 2.0):
        first, per_chunk = stream_latency(model, tok, 10, cfg)
        print(
            f"stream(), 10 steps, cfg {cfg}: first chunk after {1000 * first:.0f} ms, "
            f"then {1000 * per_chunk:.1f} ms per 1-frame chunk (66.7 ms of audio)"
        )


if __name__ == "__main__":
    main()
