"""σ-VAE speed on this CPU: parameter counts and encode/decode speed as × real time, full and streaming.

    python benchmarks/vae_speed.py --preset small --threads 1 --seconds 10

× real time = seconds of audio processed per second of wall-clock time (higher is faster); the
process CPU time is printed beside it, since other work on a shared machine inflates wall time.
Streaming encodes/decodes one latent frame (one hop, 66.7 ms) per call, as a live stream would.
"""

from __future__ import annotations

import argparse
import time

import torch

from vae_audio.config import VAE_PRESETS
from vae_audio.discriminators import Discriminators
from vae_audio.model import SigmaVAE


def timed(fn, repeats: int) -> tuple[float, float]:
    """Best wall and CPU seconds of `repeats` runs (after one warm-up run)."""
    fn()
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        best_wall, best_cpu = min(best_wall, time.perf_counter() - w), min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu


def stream_encode(vae: SigmaVAE, x: torch.Tensor) -> None:
    enc, hop = vae.stream_encoder(1), vae.config.audio.hop
    for i in range(0, x.shape[1], hop):
        enc.push(x[:, i : i + hop])
    enc.flush()


def stream_decode(vae: SigmaVAE, z: torch.Tensor) -> None:
    dec = vae.stream_decoder(1)
    for i in range(z.shape[1]):
        dec.push(z[:, i : i + 1])
    dec.flush()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="small", choices=sorted(VAE_PRESETS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=10.0, help="length of the test signal")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    vae = SigmaVAE.from_preset(args.preset).eval()
    count = lambda m: sum(q.numel() for q in m.parameters())  # noqa: E731
    print(
        f"preset {args.preset}: encoder {count(vae.encoder) / 1e6:.2f} M, decoder {count(vae.decoder) / 1e6:.2f} M, "
        f"total {count(vae) / 1e6:.2f} M params; discriminators {count(Discriminators(vae.config)) / 1e6:.2f} M"
    )
    x = 0.1 * torch.randn(1, int(args.seconds * vae.config.audio.sample_rate))
    with torch.no_grad():
        z = vae.encode(x)
        cases = {
            "encode, full": lambda: vae.encode(x),
            "encode, streaming (1 hop per call)": lambda: stream_encode(vae, x),
            "decode, full": lambda: vae.decode(z),
            "decode, streaming (1 frame per call)": lambda: stream_decode(vae, z),
        }
        print(f"{args.seconds:.0f} s of audio, {args.threads} thread(s), best of {args.repeats}")
        for name, fn in cases.items():
            wall, cpu = timed(fn, args.repeats)
            print(
                f"  {name:<38} {args.seconds / wall:7.1f} x real time  "
                f"({wall * 1000:7.1f} ms wall, {cpu * 1000:7.1f} ms CPU)"
            )


if __name__ == "__main__":
    main()
