"""The one config of the LatentLM decoder (backbone, heads, losses, special ids) and its size presets.

The config is saved in every checkpoint's `config.json`; `LMConfig.from_dict` rebuilds it.
The latent size defaults to the audio constants' `latent_dim`; a checkpoint sets it from the
σ-VAE it was trained with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from vae_audio.config import AudioConfig


def _default_latent_dim() -> int:
    return AudioConfig().latent_dim


@dataclass
class LMConfig:
    # vocabulary: text symbols and special tokens share one embedding table
    vocab_size: int = 128
    pad_id: int = 0  # also the CTC blank
    bos_id: int = 2
    voice_id: int = 3
    voice_end_id: int = 4
    text_id: int = 5
    text_end_id: int = 6
    speech_id: int = 7
    latent_dim: int = field(default_factory=_default_latent_dim)
    # backbone
    dim: int = 256
    n_layers: int = 6
    n_heads: int = 4
    n_kv_heads: int = 4  # < n_heads: grouped-query attention
    ffn_dim: int = 704
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    # diffusion head
    head_dim: int = 256
    head_layers: int = 4
    head_ffn_mult: float = 3.0
    ddpm_steps: int = 1000
    ddpm_batch_mul: int = 4  # independent (noise, t) draws per frame in training
    # alignment: phoneme j sits at RoPE position base + j * frames_per_phoneme, frame i at base + i
    frames_per_phoneme: float = 1.0
    aligned_positions: bool = True  # False: plain sequential positions (the ablation)
    ctc_upsample: int = 2  # CTC steps per frame: at ~1 frame per phoneme CTC needs more steps than labels
    # how far the CTC head's alignment runs ahead of the audio, measured on a trained model
    # (benchmarks/alignment_quality.py, its signed word-start error); word times are moved back by it
    ctc_lead_seconds: float = 0.0
    # the CTC head is trained on the unconditional rows too: with no text in context it has to transcribe
    # the speech, and a guided request's word times and flags come from its CFG negative row (what was
    # said, not what the text says comes next). False: trained on text-conditioned rows only, where it
    # learns to copy the text
    ctc_listens: bool = False
    # latent normalisation z_norm = (z - latent_bias) * latent_scale: the only stored pair, computed
    # by tts.data.latent_stats over the training latents when training starts
    latent_scale: float = 1.0
    latent_bias: float = 0.0
    # training layouts and losses
    uncond_prob: float = 0.1  # drop text and voice (the CFG branch)
    voice_prob: float = 0.5  # voice-prompt layout when another utterance of the speaker exists
    stop_weight: float = 1.0
    ctc_weight: float = 0.1

    def __post_init__(self):
        if self.dim % self.n_heads or self.n_heads % self.n_kv_heads:
            raise ValueError("dim must divide by n_heads and n_heads by n_kv_heads")

    def normalize(self, z):
        """Raw σ-VAE latents (numpy or torch) -> the LatentLM's input scale."""
        return (z - self.latent_bias) * self.latent_scale

    def denormalize(self, z):
        return z / self.latent_scale + self.latent_bias

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> LMConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


PRESETS: dict[str, LMConfig] = {
    "tiny": LMConfig(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=192, head_dim=64, head_layers=2),
    "small": LMConfig(),  # d256 x 6 layers, about 8 M parameters
    "paper": LMConfig(dim=1024, n_layers=24, n_heads=16, n_kv_heads=16, ffn_dim=2816, head_dim=1024, head_layers=4),
}


def preset(name: str, **overrides) -> LMConfig:
    """A fresh copy of a preset, with any field overridden (vocab size and special ids, usually)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return replace(PRESETS[name], **overrides)
