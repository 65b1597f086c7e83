"""Exact-match pass rate of the normalizer on a case table, per class.

    PYTHONPATH=. python benchmarks/normalize_accuracy.py tests/data/normalization_heldout.tsv

A table is TSV: `class<TAB>written<TAB>spoken`, '#' starts a comment line. The held-out table
is never tuned on: its pass rate is the honest figure. `--show` prints every miss.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def read_cases(path: Path) -> list[tuple[str, str, str]]:
    """(class, written, spoken) per non-comment line."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(tuple(line.split("\t")))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", type=Path)
    parser.add_argument("--show", action="store_true", help="print each case that fails")
    args = parser.parse_args()
    from tts.text.normalize import normalize

    total, passed = Counter(), Counter()
    for cls, written, spoken in read_cases(args.table):
        got = normalize(written)
        total[cls] += 1
        passed[cls] += got == spoken
        if args.show and got != spoken:
            print(f"MISS [{cls}] {written!r}\n   want {spoken!r}\n   got  {got!r}")
    for cls in sorted(total):
        print(f"{cls:14s} {passed[cls]:4d}/{total[cls]:<4d} {100 * passed[cls] / total[cls]:5.1f}%")
    n, k = sum(total.values()), sum(passed.values())
    print(f"{'all':14s} {k:4d}/{n:<4d} {100 * k / n:5.1f}%")


if __name__ == "__main__":
    main()
