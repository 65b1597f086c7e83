"""Sequence layouts of the LatentLM decoder and their RoPE positions.

    voice prompt  : BOS VOICE zv_1..zv_K VOICE_END TEXT p_0..p_{N-1} TEXT_END SPEECH z_1..z_T
    continuation  : BOS TEXT p_0..p_{N-1} TEXT_END SPEECH z_1..z_T   (prompt latents start the speech)
    unconditional : BOS SPEECH z_1..z_T                              (the CFG branch)

Aligned positions: the M tokens before the phonemes (BOS ... TEXT) take positions 0..M-1 and
base = M. Phoneme j sits at base + j*r, TEXT_END at base + N*r, and speech frame i (SPEECH at
i = 0, then latent z_i) at base + i, so text and speech share one origin and the diagonal
alignment has a small relative distance. r is the expected frames per phoneme.
With `aligned_positions=False` every token takes its index (plain positions, for ablation).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tts.config import LMConfig


@dataclass
class Sequence:
    tokens: torch.Tensor  # (L,) long; pad_id at latent slots
    latents: torch.Tensor  # (L, D) normalised latents; zeros at token slots
    is_latent: torch.Tensor  # (L,) bool
    positions: torch.Tensor  # (L,) float RoPE positions
    speech_start: int  # index of the SPEECH token


@dataclass
class Batch:
    tokens: torch.Tensor  # (B, L)
    latents: torch.Tensor  # (B, L, D)
    is_latent: torch.Tensor  # (B, L)
    positions: torch.Tensor  # (B, L)
    valid: torch.Tensor  # (B, L) bool, False at padding
    speech_start: torch.Tensor  # (B,) long

    def to(self, device) -> Batch:
        return Batch(
            *(
                t.to(device)
                for t in (self.tokens, self.latents, self.is_latent, self.positions, self.valid, self.speech_start)
            )
        )


def build_sequence(
    cfg: LMConfig,
    text: torch.Tensor | None,
    voice: torch.Tensor | None,
    speech: torch.Tensor,
    rate: float | None = None,
) -> Sequence:
    """One sequence. text (N,) phoneme ids or None (unconditional, voice ignored); voice (K, D) or
    None; speech (T, D) normalised latents fed after SPEECH (T may be 0 at inference)."""
    d = cfg.latent_dim
    r = cfg.frames_per_phoneme if rate is None else float(rate)
    parts: list[tuple[torch.Tensor, torch.Tensor | None]] = [(_ids(cfg.bos_id), None)]
    if text is not None and voice is not None:
        parts += [(_ids(cfg.voice_id), None), (None, voice), (_ids(cfg.voice_end_id), None)]
    if text is not None:
        parts.append((_ids(cfg.text_id), None))
    prefix = _concat(parts, d)
    base = prefix[0].shape[0]
    pos = [torch.arange(base, dtype=torch.float32)]
    parts = [(torch.cat([text.long(), _ids(cfg.text_end_id)]), None)] if text is not None else []
    if text is not None:
        pos.append(base + r * torch.arange(len(text) + 1, dtype=torch.float32))
    parts += [(_ids(cfg.speech_id), None), (None, speech)]
    pos.append(base + torch.arange(len(speech) + 1, dtype=torch.float32))
    rest = _concat(parts, d)
    tokens, latents, is_latent = (torch.cat([a, b]) for a, b in zip(prefix, rest))
    positions = torch.cat(pos) if cfg.aligned_positions else torch.arange(len(tokens), dtype=torch.float32)
    speech_start = len(tokens) - len(speech) - 1
    return Sequence(tokens, latents, is_latent, positions, speech_start)


def _ids(i: int) -> torch.Tensor:
    return torch.tensor([i], dtype=torch.long)


def _concat(parts, d: int):
    """(ids, None) or (None, latents (K, D)) pieces -> tokens (L,), latents (L, D), is_latent (L,)."""
    tokens, latents, is_latent = [], [], []
    for ids, lat in parts:
        n = len(ids) if ids is not None else len(lat)
        tokens.append(ids if ids is not None else torch.zeros(n, dtype=torch.long))
        latents.append(lat.float() if lat is not None else torch.zeros(n, d))
        is_latent.append(torch.full((n,), lat is not None))
    return torch.cat(tokens), torch.cat(latents).reshape(-1, d), torch.cat(is_latent)


def collate(seqs: list[Sequence], pad_left: bool, pad_id: int = 0) -> Batch:
    """Pad sequences to one length; left padding (inference) keeps every sequence's end aligned."""
    length = max(len(s.tokens) for s in seqs)
    cols = {k: [] for k in ("tokens", "latents", "is_latent", "positions", "valid")}
    starts = []
    for s in seqs:
        n = length - len(s.tokens)
        at = (n, 0) if pad_left else (0, n)
        cols["tokens"].append(torch.nn.functional.pad(s.tokens, at, value=pad_id))
        cols["latents"].append(torch.nn.functional.pad(s.latents, (0, 0) + at))
        cols["is_latent"].append(torch.nn.functional.pad(s.is_latent, at, value=False))
        cols["positions"].append(torch.nn.functional.pad(s.positions, at))
        cols["valid"].append(torch.nn.functional.pad(torch.ones(len(s.tokens), dtype=torch.bool), at))
        starts.append(s.speech_start + (n if pad_left else 0))
    stacked = {k: torch.stack(v) for k, v in cols.items()}
    return Batch(**stacked, speech_start=torch.tensor(starts, dtype=torch.long))
