"""Quality control: offline ASR of every utterance (WER against the text it was made from) and
speaker-similarity statistics with resemblyzer.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
import tempfile
from functools import lru_cache

import numpy as np
import soundfile as sf
import soxr

from recipes.synthetic.text import librispeech_transcript

ASR_RATE = 16000
PAD_SECONDS = 0.5  # moonshine misses words at the very edges of a clip without it


# Moonshine runs in a child process that is restarted every RECYCLE_EVERY clips: the native
# library in moonshine-cpp 0.1.4 leaks about 80 MB per transcription.
RECYCLE_EVERY = 16
MOONSHINE_SERVER = r"""
import sys, moonshine_cpp
model = moonshine_cpp.MoonshineModel(language="en")
for line in sys.stdin:
    print("ASR\t" + model.transcribe_wav(line.rstrip("\n")).replace("\n", " "), flush=True)
"""


class Transcriber:
    """Moonshine base-en (moonshine-cpp) if installed, else pocketsphinx; weights ship in the wheels."""

    def __init__(self):
        self.proc, self.calls = None, 0
        if importlib.util.find_spec("moonshine_cpp") is not None:
            self.name, self.decoder = "moonshine-base-en", None
        else:
            from pocketsphinx import Decoder

            self.name, self.decoder = "pocketsphinx-en-us", Decoder(samprate=ASR_RATE, loglevel="FATAL")

    def __call__(self, x: np.ndarray, sample_rate: int) -> str:
        """Transcript of mono float audio `x`, in LibriSpeech style."""
        x = soxr.resample(x, sample_rate, ASR_RATE) if sample_rate != ASR_RATE else x
        pad = np.zeros(int(PAD_SECONDS * ASR_RATE), np.float32)
        pcm = (np.clip(np.concatenate([pad, x, pad]), -1, 1) * 32767).astype(np.int16)
        text = self._moonshine(pcm) if self.decoder is None else self._pocketsphinx(pcm)
        return librispeech_transcript(text)

    def _moonshine(self, pcm: np.ndarray) -> str:
        if self.proc is None or self.calls >= RECYCLE_EVERY:
            self.close()
            self.proc = subprocess.Popen([sys.executable, "-c", MOONSHINE_SERVER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
            self.calls = 0
        fd, path = tempfile.mkstemp(suffix=".wav")
        os.close(fd)
        try:  # transcribe_wav is the entry point that works in this wheel (transcribe() is broken)
            sf.write(path, pcm, ASR_RATE, subtype="PCM_16")
            self.proc.stdin.write(path + "\n")
            self.proc.stdin.flush()
            self.calls += 1
            for line in self.proc.stdout:
                if line.startswith("ASR\t"):
                    return line[4:].strip()
            raise RuntimeError("the moonshine ASR process exited unexpectedly")
        finally:
            os.unlink(path)

    def _pocketsphinx(self, pcm: np.ndarray) -> str:
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        return self.decoder.hyp().hypstr if self.decoder.hyp() else ""

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
            self.proc = None


@lru_cache(maxsize=1)
def transcriber() -> Transcriber:
    """The process's ASR model, loaded on first use."""
    return Transcriber()


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    if not reference.split():
        return 0.0 if not hypothesis.split() else 1.0
    return float(jiwer.wer(reference, hypothesis)) if hypothesis.split() else 1.0


RELATIONS = ("same speaker, same split", "same speaker, across splits", "different speaker, same base voice",
             "different base voice")


def speaker_embeddings(paths: dict) -> dict:
    """resemblyzer d-vectors, (n_utts, 256) unit length, for each group of audio files."""
    from resemblyzer import VoiceEncoder, preprocess_wav

    encoder = VoiceEncoder(device="cpu", verbose=False)
    def embed(path):
        x, sr = sf.read(path, dtype="float32")
        return encoder.embed_utterance(preprocess_wav(x, source_sr=sr))

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
