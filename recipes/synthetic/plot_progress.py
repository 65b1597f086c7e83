"""The model card's progress curve: setting-A WER and SIM of evaluated checkpoints against the
training examples each had seen (steps × batch, summed over its training runs).

    python -m recipes.synthetic.plot_progress --out tts/pretrained/default/progress.png \\
        v1:19200:exp/gpu2/v1 v2:35200:exp/gpu2/v2 v3:191616:exp/gpu2/v3

Each RUN is LABEL:EXAMPLES:EVAL_DIR, EVAL_DIR holding `score.py`'s per-utterance scores of the same
item lists (scores_moonshine_resemblyzer.csv). Prints the points it plots.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from latentlm_common.files import atomic_write


def setting_a(eval_dir: Path) -> tuple[float, float, int]:
    """(WER %, SIM, items) of the system's setting-A rows (the WER as score.py computes it)."""
    from tts.eval.wer import wer

    path = eval_dir / "scores_moonshine_resemblyzer.csv"
    if not path.is_file():
        raise SystemExit(f"{path}: no scores there; run recipes/librispeech/score.py first")
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["setting"] == "A" and r["system"] != "ground truth"]
    if not rows:
        raise SystemExit(f"{path}: no setting-A rows of a system")
    error = 100 * wer([r["reference"] for r in rows], [r["hypothesis"] for r in rows])
    return error, sum(float(r["sim"]) for r in rows) / len(rows), len(rows)


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
        wer, sim, n = setting_a(Path(eval_dir))
        points.append((label, int(examples), wer, sim))
        print(f"{label}: {int(examples):,} examples, setting A WER {wer:.1f} %, SIM {sim:.3f} ({n} items)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, k, name in ((left, 2, "WER % (Moonshine)"), (right, 3, "SIM (Resemblyzer)")):
        ax.plot([q[1] for q in points], [q[k] for q in points], "o-")
        for q in points:
            ax.annotate(q[0], (q[1], q[k]), textcoords="offset points", xytext=(4, 4))
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
