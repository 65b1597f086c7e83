"""Sequence layouts of the LatentLM decoder and their RoPE positions, in numpy (torch-free).

    voice prompt  : BOS VOICE zv_1..zv_K VOICE_END TEXT p_0..p_{N-1} TEXT_END SPEECH z_1..z_T
    continuation  : BOS TEXT p_0..p_{N-1} TEXT_END SPEECH z_1..z_T   (prompt latents start the speech)
    unconditional : BOS SPEECH z_1..z_T                              (the CFG branch)

Aligned positions: the M tokens before the phonemes (BOS ... TEXT) take positions 0..M-1 and
base = M. Phoneme j sits at base + j*r, TEXT_END at base + N*r, and speech frame i (SPEECH at
i = 0, then latent z_i) at base + i, so text and speech share one origin and the diagonal
alignment has a small relative distance. r is the expected frames per phoneme.
With `aligned_positions=False` every token takes its index (plain positions, for ablation).

This one module lays out sequences for training (`tts.data`), the PyTorch engine and the ONNX
Runtime engine; `Batch.to(device)` hands a batch to the PyTorch model as tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from tts.config import LMConfig


@dataclass
class Sequence:
    tokens: np.ndarray  # (L,) int64; pad_id at latent slots
    latents: np.ndarray  # (L, D) float32 normalised latents; zeros at token slots
    is_latent: np.ndarray  # (L,) bool
    positions: np.ndarray  # (L,) float32 RoPE positions
    speech_start: int  # index of the SPEECH token


@dataclass
class Batch:
    """Padded sequences: numpy arrays, or torch tensors after `to(device)`."""

    tokens: np.ndarray  # (B, L)
    latents: np.ndarray  # (B, L, D)
    is_latent: np.ndarray  # (B, L)
    positions: np.ndarray  # (B, L)
    valid: np.ndarray  # (B, L) bool, False at padding
    speech_start: np.ndarray  # (B,) int64

    def to(self, device) -> Batch:
        """The same batch as torch tensors on `device` (for the PyTorch model)."""
        import torch

        return Batch(*(torch.as_tensor(getattr(self, f.name), device=device) for f in fields(self)))


def build_sequence(cfg: LMConfig, text, voice, speech, rate: float | None = None) -> Sequence:
    """One sequence. text (N,) phoneme ids or None (unconditional, voice ignored); voice (K, D) or
    None; speech (T, D) normalised latents fed after SPEECH (T may be 0 at inference). Arrays may
    be numpy arrays or CPU tensors."""
    d = cfg.latent_dim
    r = cfg.frames_per_phoneme if rate is None else float(rate)
    speech = np.asarray(speech, dtype=np.float32).reshape(-1, d)
    prefix = [[cfg.bos_id]]
    if text is not None and voice is not None:
        prefix += [[cfg.voice_id], np.asarray(voice, dtype=np.float32).reshape(-1, d), [cfg.voice_end_id]]
    if text is not None:
        prefix.append([cfg.text_id])
    base = sum(len(p) for p in prefix)
    parts, pos = list(prefix), [np.arange(base, dtype=np.float32)]
    if text is not None:
        ids = np.asarray(text, dtype=np.int64).reshape(-1)
        parts.append([*ids.tolist(), cfg.text_end_id])
        pos.append(base + r * np.arange(len(ids) + 1, dtype=np.float32))
    parts += [[cfg.speech_id], speech]
    pos.append(base + np.arange(len(speech) + 1, dtype=np.float32))
    tokens, latents, is_latent = _concat(parts, d)
    positions = np.concatenate(pos) if cfg.aligned_positions else np.arange(len(tokens), dtype=np.float32)
    return Sequence(tokens, latents, is_latent, positions.astype(np.float32), len(tokens) - len(speech) - 1)


def _concat(parts: list, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces that are id lists or (K, D) latent arrays -> tokens (L,), latents (L, D), is_latent (L,)."""
    tokens, latents, is_latent = [], [], []
    for part in parts:
        lat = isinstance(part, np.ndarray)
        n = len(part)
        tokens.append(np.zeros(n, np.int64) if lat else np.asarray(part, np.int64))
        latents.append(part if lat else np.zeros((n, d), np.float32))
        is_latent.append(np.full(n, lat))
    return np.concatenate(tokens), np.concatenate(latents).astype(np.float32), np.concatenate(is_latent)


def collate(seqs: list[Sequence], pad_left: bool, pad_id: int = 0) -> Batch:
    """Pad sequences to one length; left padding (inference) keeps every sequence's end aligned."""
    n, length, d = len(seqs), max(len(s.tokens) for s in seqs), seqs[0].latents.shape[1]
    out = Batch(
        np.full((n, length), pad_id, np.int64),
        np.zeros((n, length, d), np.float32),
        np.zeros((n, length), bool),
        np.zeros((n, length), np.float32),
        np.zeros((n, length), bool),
        np.zeros(n, np.int64),
    )
    for i, s in enumerate(seqs):
        k = len(s.tokens)
        at = slice(length - k, length) if pad_left else slice(0, k)
        out.tokens[i, at], out.latents[i, at], out.is_latent[i, at] = s.tokens, s.latents, s.is_latent
        out.positions[i, at], out.valid[i, at] = s.positions, True
        out.speech_start[i] = s.speech_start + (length - k if pad_left else 0)
    return out
