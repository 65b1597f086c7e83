"""Quality control: offline ASR of every utterance (WER against the text it was made from) and
speaker-similarity statistics with resemblyzer.
"""

from __future__ import annotations

import importlib.util
import itertools
from functools import lru_cache

import numpy as np
import soundfile as sf

from recipes.synthetic.text import librispeech_transcript
from tts.eval import load_speaker_encoder, wer
from tts.eval.worker import IsolatedASR, open_asr


class Transcriber:
    """Moonshine base-en (moonshine-cpp) if installed, else pocketsphinx: the `tts.eval` backends,
    whose weights ship in the wheels. Moonshine runs in a recycled child process (`IsolatedASR`),
    since its native library leaks memory with every clip."""

    def __init__(self):
        if importlib.util.find_spec("moonshine_cpp") is not None:
            self.name, self.asr = "moonshine-base-en", open_asr("moonshine")
        else:
            self.name, self.asr = "pocketsphinx-en-us", open_asr("pocketsphinx")

    def __call__(self, x: np.ndarray, sample_rate: int) -> str:
        """Transcript of mono float audio `x`, in LibriSpeech style."""
        return librispeech_transcript(self.asr.transcribe(x, sample_rate))

    def close(self) -> None:
        if isinstance(self.asr, IsolatedASR):
            self.asr.close()


@lru_cache(maxsize=1)
def transcriber() -> Transcriber:
    """The process's ASR model, loaded on first use."""
    return Transcriber()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of one utterance with `tts.eval.wer`'s normaliser; an empty reference scores 0 or 1."""
    if not reference.split():
        return 0.0 if not hypothesis.split() else 1.0
    return wer([reference], [hypothesis])


RELATIONS = (
    "same speaker, same split",
    "same speaker, across splits",
    "different speaker, same base voice",
    "different base voice",
)


def speaker_embeddings(paths: dict) -> dict:
    """resemblyzer d-vectors, (n_utts, 256) unit length, for each group of audio files."""
    encoder = load_speaker_encoder("resemblyzer")

    def embed(path):
        x, sr = sf.read(path, dtype="float32")
        return encoder.embed(x, sr)

    return {key: np.stack([embed(p) for p in group]) for key, group in paths.items()}


def mean_cosine(a: np.ndarray, b: np.ndarray, same: bool) -> tuple[float, int]:
    """Mean cosine over all pairs of rows of a (n, D) and b (m, D); `same` skips the diagonal."""
    sims = a @ b.T  # (n, m); d-vectors are unit length
    if same:
        sims = sims[~np.eye(len(a), dtype=bool)]
    return float(np.mean(sims)) if sims.size else float("nan"), int(sims.size)


def similarity_stats(emb: dict[tuple[int, str], np.ndarray], base_of: dict[int, str]) -> dict[str, tuple[float, int]]:
    """Mean cosine and pair count per relation between utterance groups keyed (speaker, split)."""
    groups: dict[str, list[tuple[float, int]]] = {k: [] for k in RELATIONS}
    for key in emb:
        groups["same speaker, same split"].append(mean_cosine(emb[key], emb[key], same=True))
    for a, b in itertools.combinations(sorted(emb), 2):
        if a[0] == b[0]:
            relation = "same speaker, across splits"
        elif base_of[a[0]] == base_of[b[0]]:
            relation = "different speaker, same base voice"
        else:
            relation = "different base voice"
        groups[relation].append(mean_cosine(emb[a], emb[b], same=False))
    return {k: _pooled(v) for k, v in groups.items()}


def distinct_fraction(emb: dict[tuple[int, str], np.ndarray], base_of: dict[int, str]) -> tuple[int, int]:
    """How many speakers (of those with a sibling from the same base voice) are closer to themselves
    than to every sibling: (count, total)."""
    by_spk = {}
    for (spk, _), e in emb.items():
        by_spk.setdefault(spk, []).append(e)
    by_spk = {s: np.concatenate(v) for s, v in by_spk.items()}
    hits = total = 0
    for s, e in by_spk.items():
        siblings = [o for o in by_spk if o != s and base_of[o] == base_of[s]]
        if not siblings or len(e) < 2:
            continue
        own = mean_cosine(e, e, same=True)[0]
        total += 1
        hits += own > max(mean_cosine(e, by_spk[o], same=False)[0] for o in siblings)
    return hits, total


def _pooled(parts: list[tuple[float, int]]) -> tuple[float, int]:
    n = sum(c for _, c in parts)
    return (sum(m * c for m, c in parts if c) / n if n else float("nan")), n
