"""Normalization alone: seconds per 1,000 words on a ~5,000-word book-like text.

    PYTHONPATH=. python benchmarks/normalize_speed.py [--words 5000] [--repeat 5]

The text is the passage below (written for this project in the style of a Victorian novel and
a news page: titles, dates, money, times, units, phone numbers, Roman numerals) interleaved with
the synthetic corpus's plain sentences, repeated to `--words`. Only `normalize` is timed: no
sentence splitting, no espeak-ng. The best of `--repeat` runs is reported (the target is under
0.2 s per 1,000 words).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

SENTENCES = Path(__file__).resolve().parents[1] / "recipes" / "synthetic" / "sentences.txt"
PASSAGE = """\
CHAPTER IV. THE MAN FROM ST. PETERSBURG

It was on the 14th of March, 1888, at a little past 9:30 p.m., that Mr. Sherlock Holmes received
the note which Dr. Watson has so often described. The paper was of a heavy kind, costing not less
than 2s. 6d. a packet, and it had come by the last post from No. 221B Baker St. to St. James's Hall.
"You will observe," said Holmes, "that the writer is a man of some 40 or 45 years, who walked
3 1/2 mi in the rain, and who paid £5.50 for his boots."

Prof. Moriarty, Col. Moran and Gen. Gordon's old aide, Capt. Lewis Jr., met at 10:15 on Dec. 3rd.
In 1066 the Normans came; by 1815 the French were beaten; until 1914 the peace held, and in the
1890s the city grew to 5,000,000 souls. Henry VIII, Louis XIV and George III are named in Book XII.
The company reported revenue of $2.5 million, up 12% on 2023, and a loss of €300,000 in Q3.
Call 555-123-4567 or write to info@example.com; see www.example.org for the 2nd edition.
The FBI and NASA signed the agreement on jan 5 2021 at 0:30, and the temperature was 35°C.
He drove 250 thousand km in 20 mins less than the record, won 3-1, and read pages 10-12 of
Chapter IX before 12:05 a.m. The parcel weighed 2.5 kg & cost ¥1,200; 3/4 of it was paper.
"""


def make_text(words: int) -> str:
    plain = [s.strip() for s in SENTENCES.read_text().splitlines() if s.strip() and not s.startswith("#")]
    parts, count, i = [], 0, 0
    while count < words:
        block = PASSAGE + " ".join(plain[i % len(plain) : i % len(plain) + 8])
        parts.append(block)
        count += len(block.split())
        i += 8
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from tts.text.normalize import normalize

    text = make_text(args.words)
    n = len(text.split())
    normalize("warm up 1 2 3 $4 Dr. Smith")  # first call loads num2words / inflect tables
    best = min(_timed(normalize, text) for _ in range(args.repeat))
    print(f"words: {n}  best of {args.repeat}: {best:.3f} s  per 1,000 words: {1000 * best / n:.4f} s")


def _timed(fn, text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
