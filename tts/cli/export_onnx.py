"""`latentlm-tts export-onnx --ckpt DIR`: make a checkpoint runnable without torch.

The ONNX graphs and onnx.json join the checkpoint directory (or a copy of it, with -o OUT_DIR),
and read their weights from its safetensors files: no second copy of the model. After that,
`latentlm-tts say --ckpt DIR ...` runs on ONNX Runtime (`--engine torch` still picks PyTorch).
`--int8` quantises the LM and diffusion-head matrix products to int8 (a weight scale per output
channel, activations quantised per call: dynamic quantisation, for CPUs; those weights go to
onnx.data unless the checkpoint already stores them, as packaged ones do); `--fp16` stores
float16 graphs (for GPUs).
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from tts.onnx.export import DEFAULT_OPSET

    p = subparsers.add_parser(
        "export-onnx",
        help="export a checkpoint to ONNX graphs for the torch-free runtime",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--ckpt", default="default", help="checkpoint directory or bundled model name (default: default)")
    p.add_argument("-o", "--output", help="write a copy of the checkpoint with its graphs here (default: in place)")
    p.add_argument(
        "--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset, at least 17 (default {DEFAULT_OPSET})"
    )
    precision = p.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="float16 weights and arithmetic (GPU)")
    precision.add_argument("--int8", action="store_true", help="int8 dynamic quantisation of the LM and head (CPU)")
    p.add_argument(
        "--sampler-steps",
        type=int,
        default=None,
        help="solver steps unrolled into sampler.onnx (default: the API's default steps)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentlm_common.errors import InputError
    from tts.onnx.export import CONFIG, GRAPHS, export_onnx
    from tts.onnx.storage import SHARED_DATA

    if args.sampler_steps is not None and args.sampler_steps < 1:
        raise InputError(f"--sampler-steps must be at least 1, got {args.sampler_steps}")
    out = export_onnx(
        args.ckpt, args.output, opset=args.opset, fp16=args.fp16, int8=args.int8, sampler_steps=args.sampler_steps
    )
    size = sum(f.stat().st_size for f in [*out.glob("*.onnx"), *out.glob(SHARED_DATA)]) / 2**20
    print(f"wrote {len(GRAPHS)} graphs and {CONFIG} to {out} ({size:.1f} MiB besides the checkpoint's weights)")
    return 0
