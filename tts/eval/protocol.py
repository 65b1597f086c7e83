"""The zero-shot test lists of the paper's Table 4 (VALL-E 2 / MELLE / LatentLM protocol).

From the utterances of a test set (LibriSpeech test-clean), those lasting 4-10 s are kept. Then:

- **Setting A, "reference utterance as prompt"**: the target is the whole utterance; the voice
  prompt is the speaker's previous utterance in the same list (sorted by id; the speaker's first
  utterance takes the speaker's last). The model gets no prompt transcript (voice-prompt mode);
  the API uses the first 5 s of the prompt.
- **Setting B, "3 s prefix as prompt"**: the utterance is cut at the word boundary closest to
  3 s, found by forced alignment of its transcript (the manifest's word alignment if it has one,
  e.g. Lhotse's `prepare_librispeech(alignments_dir=...)`, else pocketsphinx, offline). The prefix audio
  and the words it holds are the continuation prompt; the model speaks the remaining words; the
  ground truth is the remainder of the recording. Cutting at a word boundary keeps the prefix
  transcript exact; utterances the aligner cannot align (a word outside its dictionary) or whose
  cut would leave no word on either side are left out, and the count is reported.

SIM compares the speech to score with the prompt audio (for B the continuation only, never the
prefix itself); WER compares its transcript with the words it should say.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

log = logging.getLogger(__name__)

SETTINGS = {"A": "reference utterance as prompt", "B": "prefix as prompt"}  # the paper's B: a 3 s prefix
ALIGN_RATE = 16000
ALIGN_FRAME_RATES = (100, 200)  # frames/s of pocketsphinx's aligner: its default, then a finer one


@dataclass
class Clip:
    """A stretch of an audio file, in seconds (end None: to the end of the file)."""

    path: str
    start: float = 0.0
    end: float | None = None

    def load(self, sample_rate: int) -> np.ndarray:
        """Mono float32 samples at `sample_rate`."""
        info = sf.info(self.path)
        stop = None if self.end is None else int(round(self.end * info.samplerate))
        x, sr = sf.read(
            self.path, start=int(round(self.start * info.samplerate)), stop=stop, dtype="float32", always_2d=True
        )
        x = x.mean(axis=1)
        return x if sr == sample_rate else soxr.resample(x, sr, sample_rate).astype(np.float32)


@dataclass
class Utterance:
    id: str
    speaker: str
    text: str
    clip: Clip
    words: list[tuple[str, float, float]] | None = None  # word alignment from the manifest, if it has one

    @property
    def duration(self) -> float:
        return self.clip.end - self.clip.start


@dataclass
class TestItem:
    id: str
    setting: str  # "A" or "B"
    speaker: str
    text: str  # the words to synthesise (B: those after the prefix)
    target: Clip  # the ground-truth recording of `text`
    prompt: Clip
    prompt_text: str | None  # B: the prefix's words (continuation mode); A: None

    @classmethod
    def from_dict(cls, d: dict) -> TestItem:
        return cls(**{**d, "target": Clip(**d["target"]), "prompt": Clip(**d["prompt"])})


def utterances_from_cuts(path: str | Path) -> list[Utterance]:
    """The utterances of a Lhotse cuts manifest with supervisions (one recording file per cut)."""
    from lhotse import load_manifest

    from latentlm_common.errors import InputError

    utts = []
    for cut in load_manifest(path):
        sups = getattr(cut, "supervisions", None)
        if not sups or not sups[0].text:
            raise InputError(f"{path}: cut {cut.id} has no transcript; the evaluation needs cuts with supervisions.")
        source, sup = cut.recording.sources[0], sups[0]
        words = None
        if sup.alignment and "word" in sup.alignment:  # e.g. prepare_librispeech(alignments_dir=...)
            words = [
                (a.symbol.lower(), a.start - cut.start, a.end - cut.start) for a in sup.alignment["word"] if a.symbol
            ]
        if source.type != "file":
            raise InputError(f"{path}: cut {cut.id} is not stored in a file (Lhotse source type {source.type!r}).")
        utts.append(
            Utterance(
                cut.id,
                str(sup.speaker),
                sup.text,
                Clip(source.source, float(cut.start), float(cut.start + cut.duration)),
                words,
            )
        )
    return utts


def select(utts: list[Utterance], min_seconds: float = 4.0, max_seconds: float = 10.0) -> list[Utterance]:
    return sorted((u for u in utts if min_seconds <= u.duration <= max_seconds), key=lambda u: u.id)


def setting_a(utts: list[Utterance]) -> list[TestItem]:
    """Each utterance with its speaker's previous utterance as the voice prompt (needs two per speaker)."""
    by_speaker: dict[str, list[Utterance]] = {}
    for u in sorted(utts, key=lambda u: u.id):
        by_speaker.setdefault(u.speaker, []).append(u)
    items = []
    for u in sorted(utts, key=lambda u: u.id):
        mine = by_speaker[u.speaker]
        if len(mine) < 2:
            continue
        ref = mine[mine.index(u) - 1]  # index -1 wraps to the speaker's last utterance
        items.append(TestItem(u.id, "A", u.speaker, u.text, u.clip, ref.clip, None))
    return items


def align_words(audio: np.ndarray, sample_rate: int, text: str) -> list[tuple[str, float, float]] | None:
    """Forced alignment of `text` to `audio` with pocketsphinx: (word, start s, end s), or None if it fails.

    At pocketsphinx's 100 frames/s every phone lasts at least 30 ms, so fast speech can have no
    path through the model; a second try at 200 frames/s halves that floor."""
    words = re.sub(r"[^a-z' ]", " ", text.lower()).split()
    x = audio if sample_rate == ALIGN_RATE else soxr.resample(audio, sample_rate, ALIGN_RATE)
    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes()
    for frame_rate in ALIGN_FRAME_RATES:
        segs = _align(pcm, words, frame_rate)
        if segs is not None:
            return [
                (w, round(s.start_frame / frame_rate, 3), round((s.end_frame + 1) / frame_rate, 3))
                for w, s in zip(words, segs)
            ]
    return None


def _align(pcm: bytes, words: list[str], frame_rate: int) -> list | None:
    """pocketsphinx's word segments of `words`, or None if it cannot align all of them."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=ALIGN_RATE, frate=frame_rate, loglevel="FATAL")
    try:
        decoder.set_align_text(" ".join(words))
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
    except (RuntimeError, ValueError, KeyError):  # a word outside the dictionary
        return None
    segs = [s for s in (decoder.seg() or []) if not s.word.startswith(("<", "["))]  # drop <s>, <sil>, [noise]
    return segs if len(segs) == len(words) else None


def prefix_cut(words: list[tuple[str, float, float]], prefix_seconds: float) -> int | None:
    """How many words the prefix keeps: the word boundary (middle of the gap) closest to prefix_seconds."""
    if len(words) < 2:
        return None
    bounds = [(words[i - 1][2] + words[i][1]) / 2 for i in range(1, len(words))]
    return 1 + int(np.argmin([abs(b - prefix_seconds) for b in bounds]))


def setting_b(
    utts: list[Utterance], prefix_seconds: float = 3.0, limit: int | None = None
) -> tuple[list[TestItem], list[str]]:
    """(items, ids left out because they could not be aligned or cut). With `limit`, utterances are
    tried round-robin over the speakers and aligning stops at `limit` items (alignment is the slow part)."""
    items, skipped = [], []
    ordered = sorted(utts, key=lambda u: u.id)
    for u in [ordered[i] for i in round_robin(ordered)] if limit else ordered:
        if limit and len(items) >= limit:
            break
        words = u.words or align_words(u.clip.load(ALIGN_RATE), ALIGN_RATE, u.text)
        k = prefix_cut(words, prefix_seconds) if words else None
        if k is None:
            skipped.append(u.id)
            continue
        cut = round((words[k - 1][2] + words[k][1]) / 2, 3)
        raw = u.text.split()
        if len(raw) == len(words):  # keep the transcript's own spelling when it splits the same way
            prefix, rest = " ".join(raw[:k]), " ".join(raw[k:])
        else:
            prefix, rest = " ".join(w for w, _, _ in words[:k]), " ".join(w for w, _, _ in words[k:])
        items.append(
            TestItem(
                u.id,
                "B",
                u.speaker,
                rest,
                Clip(u.clip.path, u.clip.start + cut, u.clip.end),
                Clip(u.clip.path, u.clip.start, u.clip.start + cut),
                prefix,
            )
        )
    if skipped:
        log.warning(
            "setting B: %d of %d utterances left out (no forced alignment or no word boundary)",
            len(skipped),
            len(items) + len(skipped),
        )
    return sorted(items, key=lambda it: it.id), skipped


def build_test_lists(
    utts: list[Utterance],
    settings=("A", "B"),
    min_seconds: float = 4.0,
    max_seconds: float = 10.0,
    prefix_seconds: float = 3.0,
    limit: int | None = None,
) -> dict[str, list[TestItem]]:
    """The test lists, each at most `limit` items spread over the speakers."""
    chosen = select(utts, min_seconds, max_seconds)
    lists = {}
    if "A" in settings:
        lists["A"] = spread(setting_a(chosen), limit)
    if "B" in settings:
        lists["B"] = setting_b(chosen, prefix_seconds, limit)[0]
    return lists


def round_robin(items: list) -> list[int]:
    """Indices of `items` (anything with a .speaker) taken round-robin over the speakers, each
    speaker's in list order."""
    by_speaker: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        by_speaker.setdefault(it.speaker, []).append(i)
    queues = list(by_speaker.values())
    return [q[r] for r in range(max(map(len, queues), default=0)) for q in queues if r < len(q)]


def spread(items: list[TestItem], limit: int | None) -> list[TestItem]:
    """At most `limit` items, taken round-robin over the speakers (each speaker's in list order),
    so a limited run still covers every speaker; the order of the list is kept."""
    if limit is None or limit >= len(items):
        return items
    return [items[i] for i in sorted(round_robin(items)[:limit])]


def list_path(out: str | Path, setting: str, limit: int | None = None) -> Path:
    """OUT/A.jsonl holds a whole list; OUT/A.limit40.jsonl one built for --limit 40 only."""
    return Path(out) / (f"{setting}.jsonl" if limit is None else f"{setting}.limit{limit}.jsonl")


def read_lists(out: str | Path, settings=("A", "B"), limit: int | None = None) -> dict[str, list[TestItem]]:
    """The lists on disk under OUT for `limit`: a whole list spread to it, else one built for it."""
    lists = {}
    for s in settings:
        if list_path(out, s).is_file():
            lists[s] = spread(read_items(list_path(out, s)), limit)
        elif limit is not None and list_path(out, s, limit).is_file():
            lists[s] = read_items(list_path(out, s, limit))
    return lists


def write_items(path: str | Path, items: list[TestItem]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(json.dumps(asdict(i)) + "\n" for i in items))


def read_items(path: str | Path) -> list[TestItem]:
    return [TestItem.from_dict(json.loads(line)) for line in Path(path).read_text().splitlines() if line]


def load_or_build_lists(
    manifest: str | Path,
    out: str | Path,
    settings=("A", "B"),
    min_seconds: float = 4.0,
    max_seconds: float = 10.0,
    prefix_seconds: float = 3.0,
    limit: int | None = None,
) -> dict[str, list[TestItem]]:
    """The lists already under OUT if there are all of them (a resumed run keeps its lists), else
    built from the manifest and written there (see list_path)."""
    lists = read_lists(out, settings, limit)
    if len(lists) == len(settings):
        return lists
    lists = build_test_lists(utterances_from_cuts(manifest), settings, min_seconds, max_seconds, prefix_seconds, limit)
    for s, items in lists.items():
        write_items(list_path(out, s, limit), items)
    return lists
