"""Streaming alignment of generated frames to the input phonemes, from the LatentLM's CTC head.

Torch-free, so the PyTorch and ONNX Runtime engines share it (`tts.inference`). The CTC head
gives `ctc_upsample` distributions over the phoneme vocabulary per speech position (blank =
pad id). `CTCAligner` runs a monotonic Viterbi pass over the CTC lattice of the request's
phonemes (blank, p_1, blank, p_2, ..., p_N, blank), one frame at a time, so that while streaming
it knows how far into the text the speech has got (`consumed`, `done`). `finish` backtracks
the best path into per-phoneme spans and confidences and flags what went wrong:

- never reached: phonemes the speech did not get to (the path ends before them);
- skipped: words whose phonemes the path had to pass with no real evidence (their median
  posterior along the path below `SKIP_POSTERIOR`);
- repeated: phonemes said again, i.e. letters the greedy CTC transcript inserts beyond the text
  (an edit-distance alignment), at least `REPEAT_LETTERS` of them.

A CTC head can read ahead of the audio, since it has the text in context. The bundled model's
word starts come out 153 ms early on generated speech (`benchmarks/alignment_quality.py`; word
times are moved back by the config's `ctc_lead_seconds`). A continuation's first word then shows
in the CTC output of the prompt's last frames, which the aligner does not see; `lead` lets the path
start up to that many labels in, and the labels it starts past count as said at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median  # not np.median or np.unique: they import numpy.ma, 23 ms of `say`

import numpy as np

NEG = -1e30
SKIP_POSTERIOR = 0.05
TAIL_SLACK = 1  # sounds the best path may still lack and count as done: the last one often shows a step late
# a listening head (LMConfig.ctc_listens) mishears a letter or two of clean speech: at 3, 4 of
# alignment_quality.py's 40 clean sentences were flagged; at 4 none, and 55 % of doubled words still are
REPEAT_LETTERS = 4


@dataclass
class Alignment:
    """The best CTC path of one request, in CTC steps (`steps_per_frame` per generated frame)."""

    spans: list[tuple[int, int] | None]  # per phoneme: first and last CTC step, None if never reached
    confidence: np.ndarray  # (N,) per phoneme: median posterior along its span (0 if never reached)
    steps_per_frame: int
    inserted: int = 0  # letters the greedy CTC transcript says beyond the text (repetitions)
    flags: list[str] = field(default_factory=list)  # "never reached", "skipped", "repeated"

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


class CTCAligner:
    """Monotonic Viterbi over the CTC lattice of `labels`, advanced by `push` as frames arrive."""

    def __init__(
        self, labels: list[int], blank: int, steps_per_frame: int, words: list[int] | None = None, lead: int = 0
    ):
        """`words[i]`: the word that phoneme i belongs to, or -1 for a symbol that is not a sound
        (word boundary, punctuation, stress); None: every label is a sound of one word. `lead`:
        labels the path may already be past at its first step (see the module docstring)."""
        self.labels = np.asarray(labels, dtype=np.int64)
        self.lead = lead
        self.blank, self.steps_per_frame = blank, steps_per_frame
        n = len(self.labels)
        self.words = np.zeros(n, np.int64) if words is None else np.asarray(words, dtype=np.int64)
        sounds = np.flatnonzero(self.words >= 0)
        self.last_sound = int(sounds[-1]) if len(sounds) else -1  # done once the path gets past it
        self.states = np.full(2 * n + 1, blank, dtype=np.int64)  # blank, p_1, blank, ..., p_N, blank
        self.states[1::2] = self.labels
        two_back = np.r_[-1, -1, self.states[:-2]]
        self.can_skip = (self.states != blank) & (self.states != two_back)  # p_{k-1} -> p_k over no blank
        self.delta: np.ndarray | None = None  # (S,) best log score of a path ending in each state
        self.back: list[np.ndarray] = []  # per step: 0 stay, 1 from s-1, 2 from s-2
        self.emissions: list[np.ndarray] = []  # per step: (S,) log posterior of each state's symbol
        self.greedy: list[int] = []  # argmax symbol per step
        self._consumed = 0

    def push(self, log_probs: np.ndarray) -> None:
        """Advance by the CTC steps of one frame: log_probs (k, V)."""
        for row in np.asarray(log_probs, dtype=np.float32):
            e = row[self.states]
            self.greedy.append(int(row.argmax()))
            self.emissions.append(e)
            if self.delta is None:
                self.delta = np.full(len(self.states), NEG, np.float32)
                start = min(2 * self.lead + 2, len(self.states))  # blank or p_1, or up to `lead` labels on
                self.delta[:start] = e[:start]
                self.back.append(np.zeros(len(self.states), np.int8))
                continue
            one = np.r_[NEG, self.delta[:-1]]
            two = np.where(self.can_skip, np.r_[NEG, NEG, self.delta[:-2]], NEG)
            stay_or_one = np.maximum(self.delta, one)
            choice = np.where(two > stay_or_one, 2, (one > self.delta).astype(np.int8)).astype(np.int8)
            self.delta = np.maximum(stay_or_one, two) + e
            self.back.append(choice)
        self._consumed = (int(self.delta.argmax()) + 1) // 2

    @property
    def consumed(self) -> int:
        """Phonemes the best path has reached so far."""
        return self._consumed

    @property
    def done(self) -> bool:
        """The best path has reached the last sound, but for TAIL_SLACK (punctuation need not be "said")."""
        return self.delta is not None and self.consumed >= max(1, self.last_sound + 1 - TAIL_SLACK)

    def quiet_frames(self) -> int:
        """Trailing frames whose every CTC step chose blank (silence after the text)."""
        k, run = self.steps_per_frame, 0
        for end in range(len(self.greedy), k - 1, -k):
            if any(g != self.blank for g in self.greedy[end - k : end]):
                break
            run += 1
        return run

    def finish(self) -> Alignment:
        """Backtrack the best path (ending on the last phoneme or the final blank when it got
        there) into per-phoneme spans, and flag what went wrong (see the module docstring)."""
        n = len(self.labels)
        if self.delta is None:
            return Alignment([None] * n, np.zeros(n), self.steps_per_frame, flags=["never reached"] if n else [])
        first_end = 2 * self.last_sound + 1  # the last sound's state; any state after it ends the text
        ended = self.delta[first_end:].max() > NEG / 2  # a path has got through the whole text
        state = first_end + int(self.delta[first_end:].argmax()) if ended else int(self.delta.argmax())
        steps: list[list[int]] = [[] for _ in range(n)]
        posterior: list[list[float]] = [[] for _ in range(n)]
        for t in range(len(self.back) - 1, -1, -1):
            if state % 2:
                steps[state // 2].append(t)
                posterior[state // 2].append(float(np.exp(self.emissions[t][state])))
            state -= int(self.back[t][state])
        spans = [(min(s), max(s)) if s else None for s in steps]
        confidence = np.array([float(median(p)) if p else 0.0 for p in posterior])
        ahead = next((i for i, span in enumerate(spans) if span is not None), 0)  # > 0 only with a lead
        for i in range(ahead):  # started past them: said as the speech starts, before the first one reached
            spans[i] = (0, max(0, spans[ahead][0] - 1))
        out = Alignment(spans, confidence, self.steps_per_frame, inserted=self._inserted_letters())
        out.flags = self._flags(out, ahead)
        return out

    def _inserted_letters(self) -> int:
        """Sounds of the greedy CTC transcript left over by its edit-distance alignment to the text."""
        sounds = {int(x) for x in self.labels[self.words >= 0]}
        hyp, prev = [], None
        for g in self.greedy:
            if g != prev and g != self.blank and g in sounds:
                hyp.append(g)
            prev = g
        return _insertions([int(x) for x in self.labels[self.words >= 0]], hyp)

    def _flags(self, a: Alignment, ahead: int) -> list[str]:
        """The module docstring's flags; the first `ahead` labels, which the path started past, are not judged."""
        flags = []
        sounds = np.flatnonzero(self.words >= 0)
        sounds = sounds[sounds >= ahead]
        if any(a.spans[i] is None for i in sounds):
            flags.append("never reached")
        for w in sorted(set(self.words[sounds].tolist())):
            inside = [i for i in sounds if self.words[i] == w and a.spans[i] is not None]
            if inside and median(a.confidence[inside]) < SKIP_POSTERIOR:
                flags.append("skipped")
                break
        if a.inserted >= REPEAT_LETTERS:
            flags.append("repeated")
        return flags


def _insertions(ref: list[int], hyp: list[int]) -> int:
    """Insertions in a minimum edit-distance alignment of hyp to ref (ties prefer substitutions)."""
    n, m = len(ref), len(hyp)
    cost = np.zeros((n + 1, m + 1), np.int64)
    ins = np.zeros((n + 1, m + 1), np.int64)
    cost[0, :], ins[0, :] = np.arange(m + 1), np.arange(m + 1)
    cost[:, 0] = np.arange(n + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = (
                (cost[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]), ins[i - 1, j - 1]),
                (cost[i - 1, j] + 1, ins[i - 1, j]),
                (cost[i, j - 1] + 1, ins[i, j - 1] + 1),
            )
            cost[i, j], ins[i, j] = min(options)
    return int(ins[n, m])
