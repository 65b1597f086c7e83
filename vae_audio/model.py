"""σ-VAE: 24 kHz audio <-> 15 Hz continuous latents, causal in both directions.

Encoder: causal log-mel frames (75 Hz) -> ConvNeXt blocks -> ×5 downsampling -> ConvNeXt blocks
at the latent rate -> μ. Decoder: latents -> ×5 upsampling -> ConvNeXt blocks at 75 Hz -> an
inverse-STFT (or transposed-conv) head. The encoder outputs μ only; training adds one
σ ~ N(0, 1) · C / 0.8 per example (`sample_latents`), the fixed-variance noise of σ-VAE.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_audio.config import VAE_PRESETS, VAEConfig
from vae_audio.head_apnet import APNetHead, Spectra
from vae_audio.head_hnm import F0Prediction, HNMHead
from vae_audio.modules import CausalConv1d, ConvNeXtBlock, ISTFTHead, UpsampleHead
from vae_audio.spectral import CausalLogMel


class Encoder(nn.Module):
    """(B, S) audio, S a multiple of hop -> (B, S // hop, latent_dim) μ; latent k sees samples < (k + 1) * hop."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.ds = cfg.downsample
        self.mel = CausalLogMel(cfg.audio.sample_rate, cfg.n_fft, cfg.frame_hop, cfg.n_mels)
        self.conv_in = CausalConv1d(cfg.n_mels, cfg.enc_dim, cfg.kernel)
        self.frame_blocks = nn.ModuleList(
            ConvNeXtBlock(cfg.enc_dim, cfg.kernel, cfg.mlp_ratio) for _ in range(cfg.enc_depth[0])
        )
        self.down = nn.Linear(self.ds * cfg.enc_dim, cfg.enc_dim)  # frames 5k..5k+4 -> latent k
        self.latent_blocks = nn.ModuleList(
            ConvNeXtBlock(cfg.enc_dim, cfg.kernel, cfg.mlp_ratio) for _ in range(cfg.enc_depth[1])
        )
        self.norm = nn.LayerNorm(cfg.enc_dim, eps=1e-6)
        self.out = nn.Linear(cfg.enc_dim, cfg.audio.latent_dim)

    def forward(self, audio: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        return self.from_features(self.mel(audio, cache), cache)

    def from_features(self, mel: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        """(B, n_mels, 5T) causal log-mel frames -> (B, T, latent_dim) μ (the ONNX export computes the mel itself)."""
        x = self.conv_in(mel, cache)  # (B, C, 5T)
        for block in self.frame_blocks:
            x = block(x, cache)
        b, c, t = x.shape
        x = self.down(x.transpose(1, 2).reshape(b, t // self.ds, self.ds * c)).transpose(1, 2)  # (B, C, T)
        for block in self.latent_blocks:
            x = block(x, cache)
        return self.out(self.norm(x.transpose(1, 2)))  # (B, T, D)


class MelEncoder(nn.Module):
    """No bottleneck: the causal log-mel frames themselves are the "latents" (B, S // frame_hop, n_mels).
    Only for the codec bake-off's ceiling (a decoder trained on ground-truth mel frames); its config
    sets audio.hop = frame_hop, audio.latent_dim = n_mels and sigma_c = 0."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        assert cfg.downsample == 1 and cfg.audio.latent_dim == cfg.n_mels, "a mel encoder needs hop = frame_hop"
        self.mel = CausalLogMel(cfg.audio.sample_rate, cfg.n_fft, cfg.frame_hop, cfg.n_mels)

    def forward(self, audio: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        return self.mel(audio, cache).transpose(1, 2)


class Decoder(nn.Module):
    """(B, T, latent_dim) -> (B, T * hop); output sample n depends only on latents <= n // hop."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.ds = cfg.downsample
        self.conv_in = CausalConv1d(cfg.audio.latent_dim, cfg.dec_dim, 3)
        self.up = nn.Linear(cfg.dec_dim, self.ds * cfg.dec_dim)  # latent k -> frames 5k..5k+4
        self.blocks = nn.ModuleList(ConvNeXtBlock(cfg.dec_dim, cfg.kernel, cfg.mlp_ratio) for _ in range(cfg.dec_depth))
        self.norm = nn.LayerNorm(cfg.dec_dim, eps=1e-6)
        if cfg.head == "istft":
            self.head = ISTFTHead(cfg.dec_dim, cfg.istft_n_fft, cfg.frame_hop)
        elif cfg.head == "upsample":
            assert math.prod(cfg.upsample_strides) == cfg.frame_hop, "upsample_strides must multiply to frame_hop"
            self.head = UpsampleHead(cfg.dec_dim, cfg.upsample_strides, cfg.kernel)
        elif cfg.head == "apnet":
            self.head = APNetHead(cfg.dec_dim, cfg.istft_n_fft, cfg.frame_hop)
        elif cfg.head == "hnm":
            self.head = HNMHead(cfg)
        else:
            raise ValueError(f"unknown decoder head {cfg.head!r}; use 'istft', 'upsample', 'apnet' or 'hnm'")

    def forward(self, z: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        return self.head(self.features(z, cache), cache)

    def forward_with_spectra(self, z: torch.Tensor) -> tuple[torch.Tensor, Spectra | None]:
        """(B, T, latent_dim) -> audio (B, T * hop) and, from a head that predicts spectra ("apnet"), those
        spectra for its losses; None from other heads."""
        x = self.features(z)
        if isinstance(self.head, APNetHead):
            return self.head.forward_with_spectra(x)
        return self.head(x), None

    def features(self, z: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        """(B, T, latent_dim) -> (B, dec_dim, 5T) frames before the head (the ONNX export has its own iSTFT)."""
        x = self.conv_in(z.transpose(1, 2), cache)  # (B, C, T)
        b, c, t = x.shape
        x = self.up(x.transpose(1, 2)).reshape(b, t * self.ds, c).transpose(1, 2)  # (B, C, 5T)
        for block in self.blocks:
            x = block(x, cache)
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


@dataclass
class VAEOutput:
    audio: torch.Tensor  # (B, T * hop) decoded from the noisy latents z
    mu: torch.Tensor  # (B, T, D)
    z: torch.Tensor  # (B, T, D) = mu + σ · ε
    spectra: Spectra | None = None  # head="apnet": the predicted spectra behind `audio`, for the spectral losses
    f0: F0Prediction | None = None  # head="hnm": the predicted F0 and voicing behind `audio`, for the F0 loss


class SigmaVAE(nn.Module):
    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = MelEncoder(config) if config.encoder == "mel" else Encoder(config)
        self.decoder = Decoder(config)

    @classmethod
    def from_preset(cls, name: str, **overrides) -> SigmaVAE:
        if name not in VAE_PRESETS:
            raise ValueError(f"unknown σ-VAE preset {name!r}; choose from {sorted(VAE_PRESETS)}")
        return cls(replace(VAE_PRESETS[name], **overrides))

    def num_frames(self, num_samples: int) -> int:
        """Latent frames for `num_samples` of audio: ceil(S / hop) (the audio is zero-padded on the right)."""
        return -(-num_samples // self.config.audio.hop)

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) float audio at the config's sample rate -> μ (B, ceil(S / hop), latent_dim)."""
        pad = self.num_frames(audio.shape[-1]) * self.config.audio.hop - audio.shape[-1]
        return self.encoder(F.pad(audio, (0, pad)))

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, T, latent_dim) raw latents μ (the LatentLM's own scale/bias already undone) -> (B, T * hop) audio."""
        return self.decoder(latents)

    @torch.no_grad()
    def reconstruct(self, audio: np.ndarray) -> np.ndarray:
        """One mono float32 clip through encoder and decoder (from μ), cut back to its length."""
        x = torch.from_numpy(audio)[None].to(next(self.parameters()))
        return self.decode(self.encode(x))[0, : len(audio)].float().cpu().numpy()

    def sample_latents(self, mu: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """σ-VAE noise: one σ ~ N(0, 1) · C / 0.8 per example, then z = μ + σ · ε. (B, T, D) -> (B, T, D)."""
        device = generator.device if generator is not None else mu.device
        sigma = torch.randn(mu.shape[0], 1, 1, generator=generator, device=device) * (self.config.sigma_c / 0.8)
        eps = torch.randn(mu.shape, generator=generator, device=device)
        return mu + sigma.to(mu) * eps.to(mu)

    def forward(self, audio: torch.Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        mu = self.encode(audio)
        z = self.sample_latents(mu, generator)
        if isinstance(self.decoder.head, HNMHead):
            x = self.decoder.features(z)
            return VAEOutput(audio=self.decoder.head(x), mu=mu, z=z, f0=self.decoder.head.predict_f0(x))
        audio_hat, spectra = self.decoder.forward_with_spectra(z)
        return VAEOutput(audio=audio_hat, mu=mu, z=z, spectra=spectra)

    def stream_encoder(self, batch_size: int) -> StreamEncoder:
        return StreamEncoder(self.encoder, batch_size, self.config.audio.hop)

    def stream_decoder(self, batch_size: int) -> StreamDecoder:
        return StreamDecoder(self.decoder, batch_size, self.config.audio.latent_dim)

    def save_pretrained(self, directory: str | os.PathLike, half: bool = False) -> None:
        from vae_audio.checkpoint import save_model

        save_model(self, directory, half)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, map_location: str | torch.device = "cpu") -> SigmaVAE:
        from vae_audio.checkpoint import load_model

        return load_model(cls, directory, map_location)


class StreamEncoder:
    """Encodes audio as it arrives: `push((B, n))` returns μ (B, k, D) for every hop completed so far;
    `flush()` zero-pads the remainder to a whole hop, as `SigmaVAE.encode` does. The concatenation
    equals `SigmaVAE.encode` of the whole signal to float tolerance."""

    def __init__(self, encoder: Encoder, batch_size: int, hop: int):
        self.encoder, self.batch_size, self.hop = encoder, batch_size, hop
        self.pending = torch.zeros(batch_size, 0)
        self.cache: dict = {}

    @torch.no_grad()
    def push(self, audio: torch.Tensor) -> torch.Tensor:
        if audio.ndim != 2 or audio.shape[0] != self.batch_size:
            raise ValueError(f"expected audio of shape ({self.batch_size}, samples), got {tuple(audio.shape)}")
        x = torch.cat([self.pending.to(audio), audio], dim=1)
        n = x.shape[1] // self.hop * self.hop
        self.pending = x[:, n:]
        if n == 0:
            return x.new_zeros(self.batch_size, 0, self.encoder.out.out_features)
        return self.encoder(x[:, :n], self.cache)

    def flush(self) -> torch.Tensor:
        """μ of the last, partial hop (zero-padded); none if the audio ended on a hop boundary. Resets the state."""
        rest, self.pending = self.pending, torch.zeros(self.batch_size, 0)
        mu = self.push(F.pad(rest, (0, -rest.shape[1] % self.hop)))
        self.cache = {}
        return mu


class StreamDecoder:
    """Decodes latents a few frames at a time, keeping every causal conv's and the iSTFT's state.

    `push((B, k, D))` returns the k * hop samples those frames complete; the concatenation of all
    pushes and `flush()` equals `SigmaVAE.decode` of the whole sequence to float tolerance.
    """

    def __init__(self, decoder: Decoder, batch_size: int, latent_dim: int):
        self.decoder, self.batch_size, self.latent_dim = decoder, batch_size, latent_dim
        self.cache: dict = {}

    @torch.no_grad()
    def push(self, latents: torch.Tensor) -> torch.Tensor:
        if latents.ndim != 3 or latents.shape[0] != self.batch_size or latents.shape[2] != self.latent_dim:
            raise ValueError(
                f"expected latents of shape ({self.batch_size}, k, {self.latent_dim}), got {tuple(latents.shape)}"
            )
        if latents.shape[1] == 0:
            return latents.new_zeros(self.batch_size, 0)
        return self.decoder(latents, self.cache)

    def flush(self) -> torch.Tensor:
        """The samples still owed: none, since the decoder is causal with no look-ahead; the state is reset."""
        self.cache = {}
        param = next(self.decoder.parameters())
        return param.new_zeros(self.batch_size, 0)
