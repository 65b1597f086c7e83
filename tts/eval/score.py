"""Score speech against a zero-shot test list (tts/eval/protocol.py): WER and SIM per utterance,
then one table per run with a row per (setting, system), the ground truth included.

- WER: the ASR backend's transcript against the words the speech should say, after the fixed
  normaliser of `tts.eval.wer`; the table's WER is the corpus WER (errors / reference words)
  of the row, in percent, the CSV's is per utterance.
- SIM: cosine between the speaker embeddings of the speech and of the prompt audio; the table
  gives the mean. In setting B the scored speech is the continuation only.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
from tqdm import tqdm

from latentlm_common.errors import InputError
from tts.eval.asr import ASR_RATE
from tts.eval.protocol import SETTINGS, Clip, TestItem
from tts.eval.similarity import cosine, load_speaker_encoder
from tts.eval.wer import wer
from tts.eval.worker import open_asr

GROUND_TRUTH = "ground truth"


@dataclass
class Score:
    id: str
    setting: str
    system: str
    speaker: str
    seconds: float  # length of the scored speech
    wer: float  # this utterance's WER, a fraction
    sim: float
    reference: str
    hypothesis: str


class Scorer:
    """An ASR backend and a speaker encoder; prompt embeddings are computed once per prompt clip."""

    def __init__(self, asr: str = "moonshine", sim: str = "resemblyzer", threads: int | None = None, **sim_kwargs):
        """`threads`: PyTorch's threads, which the speaker encoders (and HuBERT) run on (default:
        PyTorch's own, one per core)."""
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        self.asr = open_asr(asr)
        self.encoder = load_speaker_encoder(sim, **sim_kwargs)
        self.asr_name, self.sim_name = asr, sim
        self._prompts: dict[tuple, np.ndarray] = {}

    def prompt_embedding(self, clip: Clip) -> np.ndarray:
        key = (clip.path, clip.start, clip.end)
        if key not in self._prompts:
            self._prompts[key] = self.encoder.embed(clip.load(ASR_RATE), ASR_RATE)
        return self._prompts[key]

    def score(self, item: TestItem, audio: np.ndarray, sample_rate: int, system: str) -> Score:
        hyp = self.asr.transcribe(audio, sample_rate)
        sim = cosine(self.encoder.embed(audio, sample_rate), self.prompt_embedding(item.prompt))
        return Score(
            item.id,
            item.setting,
            system,
            item.speaker,
            round(len(audio) / sample_rate, 3),
            wer([item.text], [hyp]),
            sim,
            item.text,
            hyp,
        )


def score_items(
    scorer: Scorer,
    items: list[TestItem],
    audio_of: Callable[[TestItem], np.ndarray | None],
    sample_rate: int,
    system: str,
    progress: bool = True,
) -> list[Score]:
    """Scores of the items whose audio exists (`audio_of` returns None for a missing one)."""
    scores = []
    for item in tqdm(items, desc=f"score {system}", unit="utt", disable=not progress):
        audio = audio_of(item)
        if audio is not None:
            scores.append(scorer.score(item, audio, sample_rate, system))
    return scores


def score_ground_truth(scorer: Scorer, items: list[TestItem], progress: bool = True) -> list[Score]:
    return score_items(scorer, items, lambda it: it.target.load(ASR_RATE), ASR_RATE, GROUND_TRUTH, progress)


def score_directory(
    scorer: Scorer, items: list[TestItem], directory: str | Path, system: str, progress: bool = True
) -> list[Score]:
    """Scores of `directory/<id>.wav` for each item (synthesised by tts/eval/synth.py)."""
    directory = Path(directory)

    def audio_of(item: TestItem):
        path = directory / f"{item.id}.wav"
        return Clip(str(path)).load(ASR_RATE) if path.is_file() else None

    return score_items(scorer, items, audio_of, ASR_RATE, system, progress)


def summarize(scores: Iterable[Score], expected: dict[str, int] | None = None) -> list[dict]:
    """One row per (setting, system): utterances scored, mean SIM, corpus WER in percent."""
    groups: dict[tuple[str, str], list[Score]] = {}
    for s in scores:
        groups.setdefault((s.setting, s.system), []).append(s)
    rows = []
    for (setting, system), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != GROUND_TRUTH)):
        rows.append(
            {
                "setting": setting,
                "system": system,
                "utterances": len(group),
                "expected": (expected or {}).get(setting, len(group)),
                "sim": float(np.mean([s.sim for s in group])),
                "wer": 100 * wer([s.reference for s in group], [s.hypothesis for s in group]),
            }
        )
    return rows


def format_table(rows: list[dict], asr: str, sim: str) -> str:
    lines = [f"| Setting | System | Utterances | SIM ({sim}) | WER % ({asr}) |", "|---|---|---|---|---|"]
    for r in rows:
        n = f"{r['utterances']}" + ("" if r["utterances"] == r["expected"] else f" of {r['expected']}")
        sim_text = "nan" if math.isnan(r["sim"]) else f"{r['sim']:.3f}"
        lines.append(
            f"| {r['setting']}: {SETTINGS[r['setting']]} | {r['system']} | {n} | {sim_text} | {r['wer']:.1f} |"
        )
    return "\n".join(lines)


def write_csv(scores: list[Score], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[fd.name for fd in fields(Score)])
        writer.writeheader()
        for s in scores:
            writer.writerow({**asdict(s), "wer": round(s.wer, 4), "sim": round(s.sim, 4)})


def read_csv(path: str | Path) -> list[Score]:
    """The per-utterance scores `write_csv` wrote."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no scores there; run `latentlm-tts eval` (or recipes/librispeech/score.py) first")
    with open(path, newline="") as f:
        return [
            Score(**{**r, "seconds": float(r["seconds"]), "wer": float(r["wer"]), "sim": float(r["sim"])})
            for r in csv.DictReader(f)
        ]


def evaluate(
    scorer: Scorer,
    lists: dict[str, list[TestItem]],
    synth_dirs: dict[str, Path] | None = None,
    system: str = "LatentLM",
    ground_truth: bool = True,
    progress: bool = True,
) -> tuple[str, list[Score]]:
    """(markdown table, per-utterance scores) for each setting's ground truth and/or synthesised directory."""
    scores: list[Score] = []
    for setting, items in lists.items():
        if ground_truth:
            scores += score_ground_truth(scorer, items, progress)
        if synth_dirs is not None:
            scores += score_directory(scorer, items, synth_dirs[setting], system, progress)
    rows = summarize(scores, {s: len(items) for s, items in lists.items()})
    return format_table(rows, scorer.asr_name, scorer.sim_name), scores
