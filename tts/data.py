"""Training data of the LatentLM decoder: precomputed σ-VAE latents with phoneme ids and speakers.

On-disk format (a directory, written by `write_latent_dataset`, e.g. from a Lhotse extraction stage):

    meta.json            {"format_version", "audio": AudioConfig dict, "vocab_size",
                          "special_ids": {pad, bos, voice, voice_end, text, text_end, speech},
                          "tokenizer": optional tokenizer dict stored into checkpoints}
    index.jsonl          one utterance per line: {"id", "speaker", "frames", "phonemes",
                          "latent_offset", "phoneme_offset"}
    data.safetensors     "latents" (sum frames, D) float32, raw VAE latents;
                          "phonemes" (sum phonemes,) int32

Latent statistics: `latent_stats` is the one function that computes the latent scale and bias;
training computes them over the whole dataset and stores them in the LatentLM's config
(`LMConfig.latent_scale`, `latent_bias`), the only place they are stored. A meta.json written
before this rule may still carry "latent_scale"/"latent_bias"; they are ignored.

Each training example picks a layout (`tts.layout`): unconditional with `uncond_prob`;
else voice-prompt with `voice_prob` when the speaker has another utterance (the prompt is a
2-5 s crop of that other utterance); else the continuation layout (text + speech).
All per-example randomness comes from a numpy generator seeded by (seed, step, index), so a
resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from latentlm_common.errors import InputError
from latentlm_common.files import atomic_write
from tts.config import LMConfig
from tts.layout import Batch, build_sequence, collate
from vae_audio.config import AudioConfig

FORMAT_VERSION = 1
VOICE_SECONDS = (2.0, 5.0)
STATS_CHUNK = 1 << 16  # latent frames per float64 block of `latent_stats`


def latent_stats(latents: Iterable[np.ndarray]) -> tuple[float, float]:
    """(scale, bias) over (..., D) latent arrays: bias = mean, scale = 1 / std, both over every value.

    The one place the latent statistics are computed. `LMConfig` stores the pair and the LatentLM
    models (z - bias) * scale, which is zero-mean and unit-variance over the set. Accumulates in
    float64, one array at a time, so the arrays may come from a generator.
    """
    n, total, total_sq = 0, 0.0, 0.0
    for z in latents:
        z = np.asarray(z, dtype=np.float64)
        n += z.size
        total += float(z.sum())
        total_sq += float(np.square(z).sum())
    if n == 0:
        raise ValueError("latent_stats needs at least one latent value")
    mean = total / n
    return 1.0 / math.sqrt(max(total_sq / n - mean * mean, 1e-12)), mean


@dataclass
class Utterance:
    id: str
    speaker: str
    latents: np.ndarray  # (T, D) raw VAE latents
    phonemes: list[int]  # phoneme ids of the transcript


@dataclass
class TrainBatch:
    batch: Batch  # right-padded sequences
    n_frames: torch.Tensor  # (B,) speech latents per example
    text: torch.Tensor  # (B, N) phoneme targets padded with pad_id
    text_lens: torch.Tensor  # (B,)
    has_text: torch.Tensor  # (B,) bool, False for unconditional examples

    def to(self, device) -> TrainBatch:
        return TrainBatch(
            self.batch.to(device), *(t.to(device) for t in (self.n_frames, self.text, self.text_lens, self.has_text))
        )


def write_latent_dataset(
    out_dir: str | Path,
    utterances: list[Utterance],
    audio: AudioConfig,
    vocab_size: int,
    special_ids: dict[str, int],
    tokenizer: dict | None = None,
) -> None:
    """Write the directory format of the module docstring."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index, lat_off, ph_off = [], 0, 0
    for u in utterances:
        index.append(
            {
                "id": u.id,
                "speaker": u.speaker,
                "frames": len(u.latents),
                "phonemes": len(u.phonemes),
                "latent_offset": lat_off,
                "phoneme_offset": ph_off,
            }
        )
        lat_off, ph_off = lat_off + len(u.latents), ph_off + len(u.phonemes)
    arrays = {
        "latents": np.concatenate([u.latents for u in utterances]).astype(np.float32),
        "phonemes": np.concatenate([np.asarray(u.phonemes, dtype=np.int32) for u in utterances]),
    }
    atomic_write(out / "data.safetensors", lambda tmp: save_file(arrays, tmp))
    lines = "".join(json.dumps(r) + "\n" for r in index)
    atomic_write(out / "index.jsonl", lambda tmp: Path(tmp).write_text(lines))
    meta = {
        "format_version": FORMAT_VERSION,
        "audio": audio.to_dict(),
        "vocab_size": vocab_size,
        "special_ids": special_ids,
        "tokenizer": tokenizer,
    }
    text = json.dumps(meta, indent=1)
    atomic_write(out / "meta.json", lambda tmp: Path(tmp).write_text(text))  # last: a dataset with meta.json is whole


class LatentDataset:
    """All utterances of one dataset directory, held in memory (15 Hz latents are small)."""

    def __init__(self, root: str | Path):
        root = Path(root)
        missing = [n for n in ("meta.json", "index.jsonl", "data.safetensors") if not (root / n).is_file()]
        if missing:
            raise InputError(
                f"{root}: not a latent dataset (no {', '.join(missing)}); "
                "recipes/librispeech/extract.py writes one from a corpus"
            )
        self.meta = json.loads((root / "meta.json").read_text())
        self.index = [json.loads(line) for line in (root / "index.jsonl").read_text().splitlines() if line]
        arrays = load_file(str(root / "data.safetensors"))
        self.latents, self.phonemes = arrays["latents"], arrays["phonemes"]
        self.audio = AudioConfig.from_dict(self.meta["audio"])
        self.by_speaker: dict[str, list[int]] = {}
        for i, r in enumerate(self.index):
            self.by_speaker.setdefault(r["speaker"], []).append(i)

    def __len__(self) -> int:
        return len(self.index)

    def item(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Latents (T, D) and phoneme ids (N,) of utterance i."""
        r = self.index[i]
        lat = self.latents[r["latent_offset"] : r["latent_offset"] + r["frames"]]
        return lat, self.phonemes[r["phoneme_offset"] : r["phoneme_offset"] + r["phonemes"]]

    def frames_per_phoneme(self) -> float:
        return float(sum(r["frames"] for r in self.index) / max(1, sum(r["phonemes"] for r in self.index)))

    def lm_config_overrides(self) -> dict:
        """The LMConfig fields this dataset decides: vocabulary, special ids, latent size and stats."""
        ids = self.meta["special_ids"]
        chunks = (self.latents[i : i + STATS_CHUNK] for i in range(0, len(self.latents), STATS_CHUNK))
        scale, bias = latent_stats(chunks)  # in chunks: float64 copies of a big corpus would double its memory
        return {
            "vocab_size": self.meta["vocab_size"],
            "latent_dim": self.latents.shape[1],
            "pad_id": ids["pad"],
            "bos_id": ids["bos"],
            "voice_id": ids["voice"],
            "voice_end_id": ids["voice_end"],
            "text_id": ids["text"],
            "text_end_id": ids["text_end"],
            "speech_id": ids["speech"],
            "frames_per_phoneme": self.frames_per_phoneme(),
            "latent_scale": scale,
            "latent_bias": bias,
        }


def voice_crop(ds: LatentDataset, i: int, rng: np.random.Generator) -> np.ndarray | None:
    """A 2-5 s crop of another utterance by utterance i's speaker, or None if there is none."""
    others = [j for j in ds.by_speaker[ds.index[i]["speaker"]] if j != i]
    if not others:
        return None
    lat, _ = ds.item(others[rng.integers(len(others))])
    lo, hi = (int(round(s * ds.audio.frame_rate)) for s in VOICE_SECONDS)
    n = min(len(lat), int(rng.integers(lo, hi + 1)))
    start = int(rng.integers(0, len(lat) - n + 1))
    return lat[start : start + n]


def make_example(ds: LatentDataset, i: int, cfg: LMConfig, rng: np.random.Generator, normalize):
    """(Sequence, frames, phonemes, has_text) of utterance i in a randomly chosen layout."""
    lat, ph = ds.item(i)
    speech = normalize(torch.from_numpy(np.array(lat)))
    text = torch.from_numpy(ph.astype(np.int64))
    if rng.random() < cfg.uncond_prob:
        return build_sequence(cfg, None, None, speech), len(lat), text, False
    voice = voice_crop(ds, i, rng) if rng.random() < cfg.voice_prob else None
    voice = normalize(torch.from_numpy(np.array(voice))) if voice is not None else None
    return build_sequence(cfg, text, voice, speech), len(lat), text, True


def make_batch(ds: LatentDataset, indices: list[int], cfg: LMConfig, seed: int, step: int, normalize) -> TrainBatch:
    examples = [make_example(ds, i, cfg, np.random.default_rng([seed, step, i]), normalize) for i in indices]
    seqs, frames, texts, has_text = zip(*examples)
    text = torch.nn.utils.rnn.pad_sequence(list(texts), batch_first=True, padding_value=cfg.pad_id)
    return TrainBatch(
        collate(list(seqs), pad_left=False, pad_id=cfg.pad_id),
        torch.tensor(frames),
        text,
        torch.tensor([len(t) for t in texts]),
        torch.tensor(has_text),
    )


class StepBatches(torch.utils.data.Dataset):
    """This rank's training batch of each step, indexed by the step: a `DataLoader`'s workers can
    build them ahead, in any order, and the batches stay those of `make_batch` (a function of
    seed, step and rank), so a resumed run still sees exactly the batches it would have seen."""

    def __init__(self, ds: LatentDataset, cfg: LMConfig, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        self.ds, self.cfg, self.batch_size, self.seed, self.rank, self.world = ds, cfg, batch_size, seed, rank, world

    def __getitem__(self, step: int) -> TrainBatch:
        idx = batch_indices(len(self.ds), self.batch_size, self.seed, step, self.rank, self.world)
        return make_batch(self.ds, idx, self.cfg, self.seed, step, self.cfg.normalize)


def batch_indices(n_items: int, batch_size: int, seed: int, step: int, rank: int = 0, world: int = 1) -> list[int]:
    """The indices of this rank's batch at `step`: epochs are seeded permutations, split by rank."""
    per_epoch = max(1, n_items // (batch_size * world))
    epoch, k = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n_items)
    start = (k * world + rank) * batch_size
    return [int(perm[(start + j) % n_items]) for j in range(batch_size)]
