"""Run-on and cut-off speech in zero-shot evaluations: WER, too long, cut short, per setting and run.

    python benchmarks/eval_lengths.py exp/eval/before exp/eval/after [--asr moonshine --sim resemblyzer]

Reads the per-utterance scores `latentlm-tts eval` wrote in each run directory
(scores_<asr>_<sim>.csv; the ground truth's rows come from the same run, or from `--truth RUN` for
runs made with --no-ground-truth on the same item lists) and prints, per setting and
system: WER (%), the share of items longer than 1.5x their ground truth ("too long": speech
that runs on past its text), the share with fewer words recognised than the text has ("cut
short", which also counts words the ASR misses in speech that is all there: the ground truth's
own row shows how many), and the share shorter than their ground truth / 1.5 ("too short", the
mirror of too long). Lengths are the scored speech's, so in setting B both sides exclude the prompt.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from latentlm_common.errors import one_line_errors
from tts.eval.score import GROUND_TRUTH, Score, read_csv

TOO_LONG = 1.5


def rows(run: Path, asr: str, sim: str) -> list[Score]:
    return read_csv(run / f"scores_{asr}_{sim}.csv")


def summary(run: Path, asr: str, sim: str, truth_run: Path | None = None) -> list[str]:
    scores = rows(run, asr, sim)
    truth_rows = scores + (rows(truth_run, asr, sim) if truth_run else [])
    truth = {(r.setting, r.id): r.seconds for r in truth_rows if r.system == GROUND_TRUTH}
    groups = defaultdict(list)
    for r in scores:
        groups[(r.setting, r.system)].append(r)
    lines = []
    for (setting, system), items in sorted(groups.items()):
        ref_words = sum(len(r.reference.split()) for r in items)
        errors = sum(r.wer * len(r.reference.split()) for r in items)
        timed = [(r.seconds, truth[(setting, r.id)]) for r in items if (setting, r.id) in truth]
        long = [seconds > TOO_LONG * gt for seconds, gt in timed]
        brief = [seconds < gt / TOO_LONG for seconds, gt in timed]
        short = [len(r.hypothesis.split()) < len(r.reference.split()) for r in items]
        lines.append(
            f"| {run.name} | {setting} | {system} | {len(items)} | {100 * errors / max(1, ref_words):.1f} | "
            f"{_share(long)} | {100 * sum(short) / len(items):.1f} | {_share(brief)} |"
        )
    return lines


def _share(flags: list[bool]) -> str:
    return f"{100 * sum(flags) / max(1, len(flags)):.1f}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="`latentlm-tts eval --out` directories")
    p.add_argument("--asr", default="moonshine")
    p.add_argument("--sim", default="resemblyzer")
    p.add_argument("--truth", type=Path, help="a run whose ground-truth rows serve runs scored without them")
    args = p.parse_args(argv)
    print(f"| run | setting | system | items | WER % | longer than {TOO_LONG}x GT % | cut short % | too short % |")
    print("|---|---|---|---|---|---|---|---|")
    with one_line_errors("benchmarks/eval_lengths.py"):
        for run in args.runs:
            print("\n".join(summary(run, args.asr, args.sim, args.truth)))


if __name__ == "__main__":
    main()
