"""`latentlm-tts demo`: the Gradio web demo on a local port.

The page takes a text, a voice prompt (upload or microphone), an optional transcript of the
prompt, the CFG scale, sampler steps, a seed and the speaking rate. The same endpoint is reachable from Python:

    from gradio_client import Client, handle_file
    Client("http://127.0.0.1:7860/").predict("Hello.", handle_file("voice.wav"), "", 2.0, 10, 0, 1.0,
                                             api_name="/synthesize")
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from tts.cli.options import add_lexicon_option, add_model_options

    p = subparsers.add_parser(
        "demo",
        help="start the Gradio web demo",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_options(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 for every interface (default 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument(
        "--share",
        choices=["true", "false"],
        default="false",
        help="ask Gradio for a public share link (needs internet; default false)",
    )
    p.add_argument("--max-chars", type=int, default=600, help="longest text accepted (default 600)")
    p.add_argument("--concurrency", type=int, default=1, help="syntheses at once; others wait in the queue (default 1)")
    add_lexicon_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        from demo.app import Limits, launch
    except ImportError as e:
        from latentlm_common.errors import InputError

        raise InputError(f"the demo needs gradio: pip install 'latentlm-tts[demo]' ({e.name} is missing).") from None
    from tts.cli.options import load_model

    tts = load_model(args)
    limits = Limits(max_chars=args.max_chars, concurrency=args.concurrency)
    launch(tts, host=args.host, port=args.port, share=args.share == "true", limits=limits)
    return 0
