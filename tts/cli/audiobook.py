"""`latentlm-tts audiobook BOOK --voice PROMPT.wav`: a whole book in one voice, resumable.

Chapters come from headings (.txt "Chapter 1" lines, .md `#`/`##`, .epub documents). Every
sentence chunk is synthesised with the same voice prompt, in batches of similar length; each
finished chunk is saved at once, so an interrupted run picks up where it stopped when started
again with the same arguments, and an edited book re-synthesises only the changed sentences.
The output directory gets one audio file per chapter and manifest.json (the text of every
chunk with its time offset, flagged chunks, and a summary with the real-time factor).

Under torchrun the sentence batches are shared among the processes, and the first assembles
the chapters (the output directory must be on a file system they all see):

    torchrun --standalone --nproc-per-node 4 -m tts.cli.main audiobook BOOK --voice PROMPT.wav
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from tts.cli.options import (
        add_batch_size_option,
        add_model_options,
        add_retries_option,
        add_synthesis_options,
        add_threads_option,
    )

    p = subparsers.add_parser(
        "audiobook",
        help="synthesise a .txt/.md/.epub book, one file per chapter (resumable)",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("book", metavar="BOOK", help="the book: .txt, .md or .epub")
    p.add_argument("--voice", required=True, help="voice prompt audio file, used for every sentence")
    p.add_argument("--voice-text", help="transcript of the voice prompt (continuation mode)")
    p.add_argument("--out-dir", help="output directory (default: BOOK's name without suffix, beside it)")
    p.add_argument("--format", choices=["wav", "flac"], default="wav", help="chapter audio format (default wav)")
    add_batch_size_option(p, "sentences")
    p.add_argument("--joined", action="store_true", help="also write the whole book as one file (book.wav/.flac)")
    add_synthesis_options(p)
    add_retries_option(p)
    p.add_argument("--seed", type=int, default=0, help="book seed; each sentence's seed derives from it (default 0)")
    add_model_options(p)
    add_threads_option(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


class BoundVoice:
    """The renderer's view of the model: a batch of texts and seeds in, audio out, one fixed voice."""

    def __init__(self, tts, voice, guidance_scale: float, steps: int, speed: float = 1.0):
        self.tts, self.voice, self.guidance_scale, self.steps, self.speed = tts, voice, guidance_scale, steps, speed
        self.sample_rate = tts.sample_rate

    def synthesize_batch(self, texts: list[str], seeds: list[int], retries: int):
        return self.tts.synthesize_batch(
            texts,
            voice=self.voice,
            guidance_scale=self.guidance_scale,
            steps=self.steps,
            seeds=seeds,
            retries=retries,
            speed=self.speed,
        )


def _split(text: str, lexicon=None) -> list[str]:
    from latentlm_common.errors import InputError
    from tts.text import split_text

    try:
        return [c.text for c in split_text(text, lexicon=lexicon)]
    except InputError:  # nothing to pronounce ("* * *"): listed in the manifest as not spoken
        return []


def run(args: argparse.Namespace) -> int:
    from latentlm_common.errors import InputError
    from latentlm_common.jobs import join_group, leave_group
    from tts.synthesis import check_retries, check_settings, check_speed

    book, voice = Path(args.book), Path(args.voice)
    if not voice.is_file():
        raise InputError(f"{voice}: no such voice prompt file.")
    check_settings(args.guidance_scale, args.steps)  # before the model loads and the book is planned
    check_speed(args.speed)
    check_retries(args.retries)
    group = join_group()
    try:
        _render(args, book, voice, group)
    finally:
        leave_group(group)
    return 0


def _render(args: argparse.Namespace, book: Path, voice: Path, group) -> None:
    from latentlm_common.jobs import file_digest, tree_digest
    from tts.audiobook.render import render_book
    from tts.cli.options import load_model

    tts = load_model(args, threads=group.threads(args.threads))
    prompt = tts.load_voice(voice, args.voice_text)  # checked and encoded once for the whole book
    settings = {
        "model": tree_digest(tts.checkpoint_dir),
        "voice": file_digest(voice),
        "voice_text": args.voice_text,
        "guidance_scale": args.guidance_scale,
        "steps": args.steps,
        "speed": args.speed,
        "retries": args.retries,
        "engine": type(tts).__name__,  # the engines draw different noise from one seed
    }
    out_dir = Path(args.out_dir) if args.out_dir else book.with_suffix("")
    manifest = render_book(
        BoundVoice(tts, prompt, args.guidance_scale, args.steps, args.speed),
        book,
        out_dir,
        split=lambda text: _split(text, tts.lexicon),
        settings=settings,
        seed=args.seed,
        batch_size=args.batch_size,
        fmt=args.format,
        joined=args.joined,
        retries=args.retries,
        progress=not args.no_progress,
        group=group,
    )
    if manifest is None:  # a rank other than 0 under torchrun
        return
    s = manifest["summary"]
    rtf = f", real-time factor {s['real_time_factor']}" if s["real_time_factor"] is not None else ""
    print(
        f"wrote {len(manifest['chapters'])} chapters to {out_dir}: {s['audio_seconds'] / 60:.1f} min of audio "
        f"in {s['wall_seconds']:.1f} s{rtf}; {s['flagged_chunks']} chunks flagged (see manifest.json)"
    )
