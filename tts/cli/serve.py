"""`latentlm-tts serve`: the OpenAI-compatible speech server (`tts.serve.app`) under uvicorn.

    latentlm-tts serve [--host 127.0.0.1] [--port 8000] [--voices DIR] [--ckpt DIR] [--engine onnx|torch] [--threads N]
                       [--api-key KEY] [--max-batch N]

Needs the `serve` extra (pip install 'latentlm-tts[serve]'). Without --voices, uploaded voices
live in a temporary directory for the life of the process. The server binds to loopback
unless --host says otherwise.
"""

from __future__ import annotations

import argparse

from tts.cli.options import add_lexicon_option, add_model_options, add_threads_option


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the OpenAI-compatible speech server",
        description="Serve POST /v1/audio/speech (OpenAI's audio API) with continuous batching.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--voices", metavar="DIR", help="voice directory: NAME.wav, optional NAME.txt transcript")
    add_model_options(p)
    add_threads_option(p)
    add_lexicon_option(p)
    p.add_argument("--api-key", help="require 'Authorization: Bearer KEY' on /v1/*")
    p.add_argument("--max-batch", type=int, default=16, help="requests generated together at most (default 16)")
    p.add_argument("--max-queue", type=int, default=64, help="requests waiting at most; more get 429 (default 64)")
    p.add_argument("--max-input-chars", type=int, default=4096, help="longest input text (default 4096)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds a request may take in all (default 300)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import tempfile

    from latentlm_common.errors import InputError
    from tts.cli.options import load_model

    try:
        import uvicorn

        from tts.serve.app import ServerConfig, create_app
    except ImportError as e:
        raise InputError(f"serve needs its extra: pip install 'latentlm-tts[serve]' ({e.name} is missing).") from None
    for name in ("max_batch", "max_queue", "max_input_chars"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1")
    if not args.timeout > 0:
        raise InputError("--timeout must be positive")
    with tempfile.TemporaryDirectory(prefix="latentlm-voices-") as tmp:
        config = ServerConfig(
            voices=args.voices or tmp,
            api_key=args.api_key,
            max_batch=args.max_batch,
            max_queue=args.max_queue,
            max_input_chars=args.max_input_chars,
            timeout=args.timeout,
        )
        app = create_app(load_model(args, threads=args.threads), config)
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
