"""Stage 4 of the LibriSpeech recipe: score the synthesised test lists and the ground truth.

    python recipes/librispeech/score.py --eval-dir exp/librispeech/lm/eval [--asr hubert --sim wavlm]

Reads EVAL_DIR/<setting>.jsonl (or <setting>.limitN.jsonl, see --limit) and EVAL_DIR/<setting>/*.wav (stage 3)
and writes EVAL_DIR/results_<asr>_<sim>.md (the table) and EVAL_DIR/scores_<asr>_<sim>.csv (per utterance).
The paper's backends are `--asr hubert --sim wavlm` (WER-H, a WavLM speaker verifier); the
offline ones (`moonshine`, `pocketsphinx`, `resemblyzer`) need no download.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tts.cli.options import add_threads_option
from tts.eval import ASR_BACKENDS, SIM_BACKENDS


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--eval-dir", type=Path, required=True, help="stage 3's output directory")
    p.add_argument("--asr", default="moonshine", choices=list(ASR_BACKENDS))
    p.add_argument("--sim", default="resemblyzer", choices=list(SIM_BACKENDS))
    p.add_argument("--system", default="LatentLM", help="name of the system's rows")
    p.add_argument("--limit", type=int, default=None, help="N items of each setting, spread over the speakers")
    p.add_argument("--no-ground-truth", dest="ground_truth", action="store_false")
    add_threads_option(p)
    args = p.parse_args(argv)
    from tts.eval.protocol import read_lists
    from tts.eval.score import Scorer, evaluate, write_csv

    lists = read_lists(args.eval_dir, ("A", "B"), args.limit)
    if not lists:
        raise SystemExit(
            f"{args.eval_dir}: no test list for --limit {args.limit} (A.jsonl, B.jsonl or "
            f"A.limit{args.limit}.jsonl ...); run stage 3 with the same --limit first."
        )
    table, scores = evaluate(
        Scorer(args.asr, args.sim, args.threads),
        lists,
        {s: args.eval_dir / s for s in lists},
        args.system,
        args.ground_truth,
    )
    tag = f"{args.asr}_{args.sim}"
    (args.eval_dir / f"results_{tag}.md").write_text(table + "\n")
    write_csv(scores, args.eval_dir / f"scores_{tag}.csv")
    print(table)


if __name__ == "__main__":
    main()
