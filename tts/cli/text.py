"""`latentlm-tts text TEXT`: show how the frontend reads a text, like `espeak -x`.

Prints exactly two lines, `normalized: ...` and `phonemes: ...`. TEXT `-` reads standard input.
`--explain` adds one line per rewrite, in the order made: the rule's name, the span as it stood
and what replaced it (for finding which rule misread a text). `--lexicon FILE` applies a
pronunciation lexicon first (`tts.text.lexicon`).
"""

from __future__ import annotations

import argparse
import sys

from tts.cli.options import add_lexicon_option


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "text",
        help="print a text's normalized form and its IPA phonemes",
        description="Normalize TEXT (numbers, dates, currency, abbreviations, ...) and phonemize it with espeak-ng.",
    )
    parser.add_argument("text", metavar="TEXT", help="the text to read; '-' reads standard input")
    parser.add_argument("--explain", action="store_true", help="also print which rule rewrote which span")
    add_lexicon_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tts.text import Lexicon, explain, text_to_phonemes

    text = sys.stdin.read() if args.text == "-" else args.text
    lexicon = Lexicon.load(args.lexicon)
    normalized, phonemes = text_to_phonemes(text, lexicon)
    print(f"normalized: {normalized}")
    print(f"phonemes: {phonemes}")
    if args.explain:
        for rewrite in explain(text, lexicon)[1]:
            print(f"  {rewrite.rule}: {rewrite.written!r} -> {rewrite.spoken!r}")
    return 0
