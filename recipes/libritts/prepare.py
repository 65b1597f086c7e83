"""Stage 0 of the LibriTTS recipe: Lhotse manifests for the σ-VAE.

    python recipes/libritts/prepare.py --corpus /data/LibriTTS --out data/manifests

Runs `lhotse.recipes.prepare_libritts` on every part present under --corpus (parts holding
*.trans.tsv files), or `prepare_librispeech` for a LibriSpeech-layout tree (*.trans.txt), then
writes cuts_train.jsonl.gz (all train-* parts) and cuts_<part>.jsonl.gz for each dev/test part.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

TRAIN_PREFIX = "train-"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus", type=Path, required=True, help="LibriTTS root (holds train-clean-100/, test-other/, ...)"
    )
    p.add_argument("--out", type=Path, required=True, help="manifest directory")
    p.add_argument("--num-jobs", type=int, default=1)
    args = p.parse_args(argv)
    from lhotse import CutSet
    from lhotse.recipes import prepare_librispeech, prepare_libritts

    if not args.corpus.is_dir():
        raise SystemExit(f"{args.corpus}: no such directory.")
    for pattern, prepare in (("*.trans.tsv", prepare_libritts), ("*.trans.txt", prepare_librispeech)):  # noqa: B007
        parts = sorted(d.name for d in args.corpus.iterdir() if d.is_dir() and any(d.rglob(pattern)))
        if parts:
            break
    else:
        raise SystemExit(
            f"{args.corpus}: no LibriTTS or LibriSpeech parts (directories with *.trans.tsv or *.trans.txt)."
        )
    manifests = prepare(args.corpus, dataset_parts=parts, output_dir=args.out, num_jobs=args.num_jobs)
    cuts = {part: CutSet.from_manifests(recordings=m["recordings"]) for part, m in manifests.items()}
    train = [c for part, cs in cuts.items() if part.startswith(TRAIN_PREFIX) for c in cs]
    if train:
        CutSet.from_cuts(train).to_file(args.out / "cuts_train.jsonl.gz")
    for part, cs in cuts.items():
        if not part.startswith(TRAIN_PREFIX):
            cs.to_file(args.out / f"cuts_{part}.jsonl.gz")
    logging.info("manifests for %s in %s", ", ".join(parts), args.out)
    print(f"prepared {', '.join(f'{p} ({len(cuts[p])} utterances)' for p in parts)} in {args.out}")


if __name__ == "__main__":
    main()
