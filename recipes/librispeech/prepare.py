"""Stage 0 of the LibriSpeech recipe: Lhotse cuts manifests with transcripts.

    python recipes/librispeech/prepare.py --corpus /data/LibriSpeech --out data/librispeech/manifests \
        [--parts train-clean-100 train-clean-360 train-other-500 test-clean]

Runs `lhotse.recipes.prepare_librispeech` on the chosen parts of a LibriSpeech-layout tree
(default: every directory holding *.trans.txt files, so the synthetic corpus works too) and
writes cuts_<part>.jsonl.gz per part plus cuts_train.jsonl.gz (all parts named train*).
Manifests keep the corpus's own sample rate; every later stage reads audio through soxr at
24 kHz on the fly, so no resampled copy of the corpus is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

TRAIN_PREFIX = "train"


def find_parts(corpus: Path) -> list[str]:
    return sorted(d.name for d in corpus.iterdir() if d.is_dir() and any(d.rglob("*.trans.txt")))


def prepare(
    corpus: Path, out: Path, parts: list[str] | None = None, alignments: Path | None = None, num_jobs: int = 1
) -> dict[str, int]:
    """Write the manifests; returns the number of cuts per part."""
    from lhotse import CutSet
    from lhotse.recipes import prepare_librispeech

    from latentlm_common.errors import InputError

    if not corpus.is_dir():
        raise InputError(f"{corpus}: no such directory.")
    found = find_parts(corpus)
    parts = parts or found
    missing = sorted(set(parts) - set(found))
    if not parts or missing:
        raise InputError(
            f"{corpus}: no LibriSpeech part {', '.join(missing) or '(a directory with *.trans.txt files)'}"
            f"; found: {', '.join(found) or 'none'}."
        )
    manifests = prepare_librispeech(
        corpus, alignments_dir=alignments, dataset_parts=parts, output_dir=out, num_jobs=num_jobs
    )
    cuts = {
        part: CutSet.from_manifests(**m).trim_to_supervisions(keep_overlapping=False).to_eager()
        for part, m in manifests.items()
    }
    for part, cs in cuts.items():
        cs.to_file(out / f"cuts_{part}.jsonl.gz")
    train = [c for part, cs in cuts.items() if part.startswith(TRAIN_PREFIX) for c in cs]
    if train:
        CutSet.from_cuts(train).to_file(out / "cuts_train.jsonl.gz")
    return {part: len(cs) for part, cs in cuts.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus", type=Path, required=True, help="LibriSpeech root (holds train-clean-100/, test-clean/, ...)"
    )
    p.add_argument("--out", type=Path, required=True, help="manifest directory")
    p.add_argument("--parts", nargs="*", default=None, help="parts to prepare (default: all found)")
    p.add_argument(
        "--alignments",
        type=Path,
        default=None,
        help="LibriSpeech word alignments (Lhotse's alignments_dir); setting B then cuts with them",
    )
    p.add_argument("--num-jobs", type=int, default=1)
    args = p.parse_args(argv)
    counts = prepare(args.corpus, args.out, args.parts, args.alignments, args.num_jobs)
    print(f"prepared {', '.join(f'{k} ({n} utterances)' for k, n in counts.items())} in {args.out}")


if __name__ == "__main__":
    main()
