"""`latentlm-tts say TEXT -o OUT.wav`: synthesise speech, optionally in the voice of a prompt.

TEXT `-` reads standard input. `-o -` writes WAV to standard output (to pipe into a player);
`--play` plays the audio. `--voice` clones the voice of a clip (at least 1 s of sound; the first
5 s are used). With `--voice-text`, its transcript, the clip instead starts the speech
(continuation; at most 10 s). Bad input (missing or silent prompt, empty text, a broken
checkpoint, text over `MAX_CHARS`: the audiobook command is for that) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

MAX_CHARS = 10_000  # about 12 minutes of speech held in memory until the end; longer text is a book
PLAYERS = (  # command lines that play a WAV file, tried in this order
    ("ffplay", "-nodisp", "-autoexit", "-loglevel", "error"),
    ("paplay",),
    ("aplay", "-q"),
    ("afplay",),
)


def register(subparsers) -> None:
    from tts.cli.options import add_model_options, add_retries_option, add_synthesis_options, add_threads_option

    p = subparsers.add_parser(
        "say",
        help="synthesise TEXT to an audio file",
        description="Synthesise TEXT with the LatentLM model, optionally cloning a voice prompt.",
    )
    p.add_argument("text", metavar="TEXT", help="the text to speak; '-' reads standard input")
    p.add_argument("-o", "--output", help="output audio file (.wav, .flac, .ogg or .mp3); '-' writes WAV to stdout")
    p.add_argument("--play", action="store_true", help="play the audio (ffplay, paplay, aplay or afplay)")
    p.add_argument("--voice", help="voice prompt audio file (>= 1 s of speech)")
    p.add_argument("--voice-text", help="transcript of the voice prompt: continue it instead of cloning it")
    add_synthesis_options(p)
    p.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one)")
    add_retries_option(p)
    p.add_argument("--subtitles", metavar="FILE", help="also write the word timings as subtitles (.srt or .vtt)")
    add_model_options(p)
    add_threads_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentlm_common.audio import output_format
    from latentlm_common.errors import InputError
    from tts.cli.options import load_model
    from tts.subtitles import FORMATS, write_subtitles
    from tts.synthesis import check_retries, check_speed

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise InputError("text is empty")
    if len(text) > MAX_CHARS:
        raise InputError(
            f"text is {len(text):,} characters; say takes at most {MAX_CHARS:,}: put it in a .txt file and run "
            "`latentlm-tts audiobook FILE --voice VOICE` (saved as it goes, resumable, one file per chapter)"
        )
    if args.output is None and not args.play:
        raise InputError("nowhere to put the audio: give -o FILE, -o - (standard output) or --play")
    if args.voice_text is not None and args.voice is None:
        raise InputError("--voice-text needs --voice (the clip it transcribes)")
    if args.subtitles and not args.subtitles.lower().endswith(FORMATS):
        raise InputError(f"--subtitles {args.subtitles}: the file must end in .srt or .vtt")
    if args.output not in (None, "-"):
        output_format(args.output)
    player = _player() if args.play else None
    check_speed(args.speed)
    check_retries(args.retries)
    tts = load_model(args, threads=args.threads)
    audio = tts.synthesize(
        text,
        voice=args.voice,
        voice_text=args.voice_text,
        guidance_scale=args.guidance_scale,
        retries=args.retries,
        steps=args.steps,
        seed=args.seed,
        speed=args.speed,
    )
    notes = ["stopped by the length guard"] if audio.length_guard_hit else []
    found = [f for f in audio.flags if f != "silent"]
    notes += [f"the alignment found words {' and '.join(found)}"] if found else []
    notes += ["near-silent"] if "silent" in audio.flags else []
    notes += ["--retries N samples such speech again"] if notes and not args.retries else []
    note = f" ({'; '.join(notes)})" if notes else ""
    seconds = f"{len(audio.samples) / audio.sample_rate:.2f} s{note}"
    if args.output:  # with -o -, messages go to stderr: stdout carries the audio
        where = _write(args.output, audio)
        print(f"wrote {where}: {seconds}", file=sys.stderr if args.output == "-" else sys.stdout)
    if args.subtitles:
        print(f"wrote {write_subtitles(args.subtitles, audio.words)}: {len(audio.words)} timed words")
    if player:
        _play(player, audio)
    return 0


def _write(output: str, audio) -> str:
    """The audio to a file, or as WAV to standard output for `-`."""
    import io

    import numpy as np
    import soundfile as sf

    from latentlm_common.audio import save_audio

    if output != "-":
        return str(save_audio(output, audio.samples, audio.sample_rate))
    buf = io.BytesIO()
    sf.write(buf, np.clip(audio.samples, -1.0, 1.0), audio.sample_rate, format="WAV", subtype="PCM_16")
    sys.stdout.buffer.write(buf.getvalue())
    sys.stdout.buffer.flush()
    return "standard output"


def _player() -> list[str]:
    """The first audio player on PATH, checked before the model loads."""
    import shutil

    from latentlm_common.errors import InputError

    for cmd in PLAYERS:
        if shutil.which(cmd[0]):
            return list(cmd)
    names = ", ".join(c[0] for c in PLAYERS)
    raise InputError(f"--play found no audio player ({names}); write a file with -o instead")


def _play(player: list[str], audio) -> None:
    import subprocess
    import tempfile

    from latentlm_common.audio import save_audio

    with tempfile.TemporaryDirectory() as tmp:
        path = save_audio(f"{tmp}/say.wav", audio.samples, audio.sample_rate)
        subprocess.run([*player, str(path)], check=False)
