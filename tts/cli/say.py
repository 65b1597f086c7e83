"""`latentlm-tts say TEXT -o OUT.wav`: synthesise speech, optionally in the voice of a prompt.

TEXT `-` reads standard input. `--voice` clones the voice of a clip (at least 1 s of sound;
the first 5 s are used). With `--voice-text`, its transcript, the clip instead starts the
speech (continuation; at most 10 s). Bad input (missing or silent prompt, empty text, a
broken checkpoint) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "say",
        help="synthesise TEXT to an audio file",
        description="Synthesise TEXT with the LatentLM model, optionally cloning a voice prompt.",
    )
    p.add_argument("text", metavar="TEXT", help="the text to speak; '-' reads standard input")
    p.add_argument("-o", "--output", required=True, help="output audio file (.wav, .flac, .ogg or .mp3)")
    p.add_argument("--voice", help="voice prompt audio file (>= 1 s of speech)")
    p.add_argument("--voice-text", help="transcript of the voice prompt: continue it instead of cloning it")
    add_synthesis_options(p)
    p.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one)")
    p.add_argument(
        "--retries",
        type=int,
        default=2,
        help="sample a chunk again, up to this many times, when its alignment finds words skipped, "
        "repeated or never reached (default 2; 0 keeps the first take)",
    )
    p.add_argument("--subtitles", metavar="FILE", help="also write the word timings as subtitles (.srt or .vtt)")
    add_model_options(p)
    p.set_defaults(func=run)


def add_model_options(p: argparse.ArgumentParser) -> None:
    """--ckpt and --onnx: the model a command loads (with `load_tts`)."""
    p.add_argument("--ckpt", default="default", help="checkpoint directory or bundled model name (default: default)")
    p.add_argument(
        "--onnx", metavar="DIR", help="run the ONNX export in DIR (latentlm-tts export-onnx) instead of --ckpt"
    )


def add_synthesis_options(p: argparse.ArgumentParser) -> None:
    """--guidance-scale (alias --cfg-scale) and --steps, with the API's defaults and limits."""
    from tts.synthesis import DEFAULT_GUIDANCE_SCALE, DEFAULT_STEPS, MAX_GUIDANCE_SCALE, MAX_STEPS

    p.add_argument(
        "--guidance-scale",
        "--cfg-scale",
        dest="guidance_scale",
        type=float,
        default=DEFAULT_GUIDANCE_SCALE,
        help=f"classifier-free guidance scale, 0-{MAX_GUIDANCE_SCALE:g}; 1 disables it "
        f"(default {DEFAULT_GUIDANCE_SCALE})",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=DEFAULT_STEPS,
        help=f"diffusion sampler steps per frame, 1-{MAX_STEPS} (default {DEFAULT_STEPS})",
    )


def load_onnx(directory: str):
    """`OnnxTTS` for --onnx, with a clear error when onnxruntime is missing."""
    try:
        from tts.onnx.runtime import OnnxTTS
    except ImportError as e:
        from latentlm_common.errors import InputError

        raise InputError(f"--onnx needs onnxruntime: pip install 'latentlm-tts[onnx]' ({e.name} is missing).") from None
    return OnnxTTS(directory)


def load_tts(args: argparse.Namespace):
    """The synthesiser a command's --ckpt / --onnx options name (the one loader of every command)."""
    if args.onnx:
        return load_onnx(args.onnx)
    from tts.api import TTS

    return TTS.from_pretrained(args.ckpt)


def run(args: argparse.Namespace) -> int:
    from latentlm_common.audio import save_audio
    from latentlm_common.errors import InputError
    from tts.subtitles import FORMATS, write_subtitles

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise InputError("text is empty")
    if args.voice_text is not None and args.voice is None:
        raise InputError("--voice-text needs --voice (the clip it transcribes)")
    if args.subtitles and not args.subtitles.lower().endswith(FORMATS):
        raise InputError(f"--subtitles {args.subtitles}: the file must end in .srt or .vtt")
    tts = load_tts(args)
    audio = tts.synthesize(
        text,
        voice=args.voice,
        voice_text=args.voice_text,
        guidance_scale=args.guidance_scale,
        retries=args.retries,
        steps=args.steps,
        seed=args.seed,
    )
    path = save_audio(args.output, audio.samples, audio.sample_rate)
    notes = (["stopped by the length guard"] if audio.length_guard_hit else []) + audio.flags
    note = f" ({'; '.join(notes)})" if notes else ""
    print(f"wrote {path}: {len(audio.samples) / audio.sample_rate:.2f} s{note}")
    if args.subtitles:
        print(f"wrote {write_subtitles(args.subtitles, audio.words)}: {len(audio.words)} timed words")
    return 0
