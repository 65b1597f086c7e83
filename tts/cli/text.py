"""`latentlm-tts text TEXT`: show how the frontend reads a text, like `espeak -x`.

Prints exactly two lines, `normalized: ...` and `phonemes: ...`. TEXT `-` reads standard input.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "text",
        help="print a text's normalized form and its IPA phonemes",
        description="Normalize TEXT (numbers, dates, currency, abbreviations, ...) and phonemize it with espeak-ng.",
    )
    parser.add_argument("text", metavar="TEXT", help="the text to read; '-' reads standard input")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tts.text import text_to_phonemes

    text = sys.stdin.read() if args.text == "-" else args.text
    normalized, phonemes = text_to_phonemes(text)
    print(f"normalized: {normalized}")
    print(f"phonemes: {phonemes}")
    return 0
