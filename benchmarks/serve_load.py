"""Load test of `latentlm-tts serve` on loopback: throughput, time to first audio byte and errors
with 1, 4 and 16 concurrent clients, for each --max-batch given, with bad requests mixed in.

    PYTHONPATH=. python benchmarks/serve_load.py [--ckpt DIR] [--engine onnx|torch] [--threads N] \
        --duration 60 --max-batch 16 1

Each setting starts a fresh server (a subprocess), then N clients each send streamed pcm
requests back to back for --duration seconds (requests in flight then run to the end), while
one more client sends bad requests in turn: malformed JSON, empty input, huge input, unknown
voice, a corrupt upload, a wrong API key, and a stream it drops after the first bytes. Printed
per setting: audio seconds per wall second, time to first audio byte p50/p95 (good requests),
errors among good requests, the bad requests' status codes, 5xx count, and /health afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter

import httpx
import numpy as np

KEY = "bench-key"
SR = 24000
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "A server that batches requests serves many users from one machine.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, max_batch: int, port: int) -> subprocess.Popen:
    model = ["--ckpt", args.ckpt] + (["--engine", args.engine] if args.engine else [])
    cmd = [sys.executable, "-m", "tts.cli.main", "serve", "--port", str(port), "--api-key", KEY]
    cmd += ["--max-batch", str(max_batch), *model] + (["--threads", str(args.threads)] if args.threads else [])
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not become healthy")


async def good_client(client: httpx.AsyncClient, i: int, until: float, out: dict) -> None:
    n = i
    while time.monotonic() < until:
        body = {"model": "tts-1", "input": TEXTS[n % len(TEXTS)], "voice": ["alloy", "echo", "fable"][n % 3],
                "response_format": "pcm", "stream": True, "seed": n}  # fmt: skip
        n += 1
        start, first, size = time.monotonic(), None, 0
        try:
            async with client.stream("POST", "/v1/audio/speech", json=body) as r:
                if r.status_code != 200:
                    out["errors"].append(r.status_code)
                    continue
                async for chunk in r.aiter_bytes():
                    if chunk and first is None:
                        first = time.monotonic() - start
                    size += len(chunk)
        except httpx.HTTPError as e:
            out["errors"].append(type(e).__name__)
            continue
        out["ttfb"].append(first)
        out["audio"] += size / 2 / SR


async def bad_requests(client: httpx.AsyncClient, url: str, until: float, codes: Counter) -> None:
    speech, wrong = "/v1/audio/speech", httpx.AsyncClient(base_url=url, headers={"Authorization": "Bearer wrong"})
    cases = [
        lambda: client.post(speech, content=b"{oops", headers={"content-type": "application/json"}),
        lambda: client.post(speech, json={"input": "  ", "voice": "alloy"}),
        lambda: client.post(speech, json={"input": "x" * 100_000}),
        lambda: client.post(speech, json={"input": "Hi.", "voice": "no-such-voice"}),
        lambda: client.post("/v1/voices", files={"file": ("v.wav", b"RIFF garbage")}, data={"name": "bad"}),
        lambda: wrong.post(speech, json={"input": "Hi."}),
    ]  # fmt: skip
    k = 0
    while time.monotonic() < until:
        if k % (len(cases) + 1) == len(cases):
            async with client.stream(
                "POST", speech, json={"input": TEXTS[0], "stream": True, "response_format": "wav"}
            ) as r:
                codes[f"drop {r.status_code}"] += 1
                async for _ in r.aiter_bytes():
                    break  # disconnect mid-stream
        else:
            codes[str((await cases[k % (len(cases) + 1)]()).status_code)] += 1
        k += 1
        await asyncio.sleep(0.5)
    await wrong.aclose()


async def run_clients(url: str, n: int, duration: float, chaos: bool) -> dict:
    out, codes = {"ttfb": [], "audio": 0.0, "errors": []}, Counter()
    headers = {"Authorization": f"Bearer {KEY}"}
    limits = httpx.Limits(max_connections=n + 4)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600, limits=limits) as client:
        start = time.monotonic()
        until = start + duration
        tasks = [good_client(client, i, until, out) for i in range(n)]
        if chaos:
            tasks.append(bad_requests(client, url, until, codes))
        await asyncio.gather(*tasks)
        out["wall"] = time.monotonic() - start
    out["codes"] = codes
    return out


def report(max_batch: int, n: int, r: dict, health: int) -> None:
    ttfb = np.array([t for t in r["ttfb"] if t is not None])
    p50, p95 = (np.percentile(ttfb, 50), np.percentile(ttfb, 95)) if len(ttfb) else (float("nan"),) * 2
    fives = sum(v for k, v in r["codes"].items() if k.split()[-1].startswith("5"))
    print(
        f"max-batch {max_batch:>2} | clients {n:>2} | requests {len(r['ttfb']):>3} | "
        f"throughput {r['audio'] / r['wall']:.2f} audio s/s | TTFB p50 {p50:.2f} s p95 {p95:.2f} s | "
        f"errors {len(r['errors'])} | bad requests {dict(sorted(r['codes'].items()))} | 5xx {fives} | "
        f"health {health}",
        flush=True,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", default="default", help="checkpoint directory or bundled model (default: default)")
    p.add_argument("--engine", choices=["onnx", "torch"], help="as for `serve` (default: onnx when --ckpt has graphs)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per setting (default 60)")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--max-batch", type=int, nargs="+", default=[16, 1])
    p.add_argument("--threads", type=int, help="the server's --threads (default: its own, one per core)")
    p.add_argument("--no-chaos", action="store_true", help="send no bad requests")
    args = p.parse_args()
    for max_batch in args.max_batch:
        port = free_port()
        url, proc = f"http://127.0.0.1:{port}", start_server(args, max_batch, port)
        try:
            wait_healthy(url, proc)
            for n in args.clients:
                result = asyncio.run(run_clients(url, n, args.duration, not args.no_chaos))
                report(max_batch, n, result, httpx.get(url + "/health", timeout=10).status_code)
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
