"""`latentlm-tts eval`: the zero-shot evaluation of the paper's Table 4 on your own test set.

    latentlm-tts eval --ckpt DIR --manifest cuts.jsonl.gz --out eval_dir [--asr hubert --sim wavlm]
    latentlm-tts eval --onnx ONNX_DIR --manifest cuts.jsonl.gz --out eval_dir   # an ONNX export
    latentlm-tts eval --manifest cuts.jsonl.gz --out eval_dir        # the ground-truth rows only

The manifest is a Lhotse cuts manifest with transcripts (e.g. `recipes/librispeech/prepare.py`
on a LibriSpeech-layout folder). Utterances of --min-seconds..--max-seconds are kept; setting A
prompts each with the speaker's previous utterance, setting B continues its first
--prefix-seconds (cut at a word boundary). Writes OUT/<setting>.jsonl (test lists;
<setting>.limitN.jsonl with --limit N), OUT/<setting>/*.wav (synthesised by the batch job, as the
LibriSpeech recipe's stage 3 does: tts/eval/synth.py; a rerun keeps the finished batches),
OUT/results_<asr>_<sim>.md and OUT/scores_<asr>_<sim>.csv, and prints the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ASR_NAMES = ("moonshine", "pocketsphinx", "hubert")  # tts.eval's backends, named here so that building the
SIM_NAMES = ("resemblyzer", "wavlm", "ecapa")  # parser does not import the eval extra (jiwer, ...)


def register(subparsers) -> None:
    from tts.cli.options import add_batch_size_option, add_retries_option, add_threads_option
    from tts.load import ENGINES

    p = subparsers.add_parser(
        "eval",
        help="zero-shot WER/SIM evaluation (settings A and B) on a test manifest",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--manifest", type=Path, required=True, help="Lhotse cuts manifest with transcripts")
    p.add_argument("--out", type=Path, required=True, help="output directory (test lists, audio, table, CSV)")
    p.add_argument("--ckpt", default=None, help="TTS checkpoint to evaluate (default: only the ground truth)")
    p.add_argument("--onnx", default=None, help="an ONNX export directory: the same as --ckpt DIR --engine onnx")
    p.add_argument(
        "--engine", choices=ENGINES, default=None, help="as for `say` (default: onnx when --ckpt has graphs)"
    )
    p.add_argument("--settings", nargs="+", default=["A", "B"], choices=["A", "B"])
    p.add_argument("--asr", default="moonshine", choices=ASR_NAMES, help="WER backend (default moonshine)")
    p.add_argument("--sim", default="resemblyzer", choices=SIM_NAMES, help="SIM backend (default resemblyzer)")
    p.add_argument("--min-seconds", type=float, default=4.0)
    p.add_argument("--max-seconds", type=float, default=10.0)
    p.add_argument("--prefix-seconds", type=float, default=3.0, help="setting B prompt length")
    p.add_argument("--limit", type=int, default=None, help="N items of each setting, spread over the speakers")
    p.add_argument("--guidance-scale", "--cfg-scale", dest="guidance_scale", type=float, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0, help="added to each item's own seed (a hash of its id)")
    add_batch_size_option(p)
    add_retries_option(p, default=0)
    add_threads_option(p)
    p.add_argument("--no-ground-truth", dest="ground_truth", action="store_false")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentlm_common.errors import InputError
    from tts.eval.protocol import load_or_build_lists
    from tts.eval.score import Scorer, evaluate, write_csv
    from tts.synthesis import DEFAULT_GUIDANCE_SCALE, DEFAULT_STEPS, check_retries, check_settings

    if not args.manifest.is_file():
        raise InputError(f"{args.manifest}: no such manifest file.")
    check_settings(  # before the slow part; the engine's own defaults fill in what is not given
        DEFAULT_GUIDANCE_SCALE if args.guidance_scale is None else args.guidance_scale,
        DEFAULT_STEPS if args.steps is None else args.steps,
    )
    check_retries(args.retries)
    system = args.onnx or args.ckpt
    if system is None and not args.ground_truth:
        raise InputError("nothing to score: no --ckpt or --onnx, and --no-ground-truth.")
    lists = load_or_build_lists(
        args.manifest, args.out, args.settings, args.min_seconds, args.max_seconds, args.prefix_seconds, args.limit
    )
    if not any(lists.values()):
        raise InputError(
            f"{args.manifest}: no utterance of {args.min_seconds:g}-{args.max_seconds:g} s "
            "fits the protocol (setting A needs two per speaker)."
        )
    dirs = synthesize(args, lists) if system is not None else None
    table, scores = evaluate(
        Scorer(args.asr, args.sim, args.threads), lists, dirs, Path(system).name if system else "", args.ground_truth
    )
    tag = f"{args.asr}_{args.sim}"
    (args.out / f"results_{tag}.md").write_text(table + "\n")
    write_csv(scores, args.out / f"scores_{tag}.csv")
    print(table)
    print(f"per-utterance scores: {args.out / f'scores_{tag}.csv'}")
    return 0


def synthesize(args: argparse.Namespace, lists: dict) -> dict[str, Path]:
    from tts.cli.options import load_model
    from tts.eval.synth import synthesize_lists

    tts = load_model(args, threads=args.threads)
    synthesize_lists(
        tts,
        lists,
        args.out,
        args.guidance_scale,
        args.steps,
        args.seed,
        retries=args.retries,
        batch_size=args.batch_size,
    )
    return {s: args.out / s for s in lists}
