"""The model card's progress curve: setting-A WER and SIM of evaluated checkpoints against the
training examples each had seen (steps × batch, summed over its training runs).

    python -m recipes.synthetic.plot_progress --out tts/pretrained/default/progress.png \\
        v1:19200:exp/gpu2/v1 v2:35200:exp/gpu2/v2 v3:191616:exp/gpu2/v3

Each RUN is LABEL:EXAMPLES:EVAL_DIR, EVAL_DIR holding `score.py`'s per-utterance scores of the same
item lists (scores_moonshine_resemblyzer.csv). Prints the points it plots.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from latentlm_common.errors import InputError, one_line_errors
from latentlm_common.files import atomic_write


def setting_a(eval_dir: Path) -> tuple[float, float, int]:
    """(WER %, SIM, items) of the system's setting-A row, as score.py's table gives it."""
    from tts.eval.score import GROUND_TRUTH, read_csv, summarize

    rows = [
        r
        for r in summarize(read_csv(eval_dir / "scores_moonshine_resemblyzer.csv"))
        if r["setting"] == "A" and r["system"] != GROUND_TRUTH
    ]
    if len(rows) != 1:
        raise InputError(f"{eval_dir}: expected the setting-A rows of one system, found {len(rows)} systems")
    return rows[0]["wer"], rows[0]["sim"], rows[0]["utterances"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", metavar="LABEL:EXAMPLES:EVAL_DIR")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    args = p.parse_args(argv)
    points = []
    for run in args.runs:
        label, _, rest = run.partition(":")
        examples, _, eval_dir = rest.partition(":")
        if not (label and examples.isdigit() and eval_dir):
            p.error(f"{run!r}: expected LABEL:EXAMPLES:EVAL_DIR, e.g. v3:191616:exp/eval/v3")
        with one_line_errors("python -m recipes.synthetic.plot_progress"):
            wer, sim, n = setting_a(Path(eval_dir))
        points.append((label, int(examples), wer, sim))
        print(f"{label}: {int(examples):,} examples, setting A WER {wer:.1f} %, SIM {sim:.3f} ({n} items)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    examples = [q[1] for q in points]
    log_axis = max(examples) > 10 * min(examples)  # within one decade a log axis shows no labels
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, k, name in ((left, 2, "WER % (Moonshine)"), (right, 3, "SIM (Resemblyzer)")):
        ax.plot(examples, [q[k] for q in points], "o-")
        for q in points:
            ax.annotate(q[0], (q[1], q[k]), textcoords="offset points", xytext=(4, 4))
        if log_axis:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # the minor labels of a short log axis overlap
        ax.set_xlabel("training examples seen")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    fig.suptitle("LatentLM, setting A, test-unseen")
    fig.tight_layout()
    atomic_write(args.out, lambda tmp: fig.savefig(tmp, format="png", dpi=90))


if __name__ == "__main__":
    main()
