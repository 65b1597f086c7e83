"""Export modules of the σ-VAE: tensor-only signatures, no complex numbers, streaming state in and out.

ONNX has no complex tensors, so the STFT of the encoder's causal log-mel front end and the
inverse STFT of the decoder head are written here as real matrix products with a windowed DFT
basis. Everything else calls the model's own modules.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vae_audio.head_apnet import APNetHead
from vae_audio.head_hnm import HNMHead
from vae_audio.model import SigmaVAE
from vae_audio.modules import CausalConv1d, ISTFTHead
from vae_audio.spectral import hann_window, mel_filterbank

SPECTRAL_HEADS = (ISTFTHead, APNetHead)  # heads that end in the causal inverse STFT (`ISTFTGraph`)


SIZE = "size_"  # graph inputs named so carry a size that constants are computed from; the export freezes them


def _dft_angles(n_fft: int | torch.Tensor) -> torch.Tensor:
    """(n_fft // 2 + 1, n_fft) angles 2π k n / N in float64, k n reduced mod N in integers first."""
    k = torch.arange(n_fft // 2 + 1)[:, None]
    n = torch.arange(n_fft)[None]
    return 2 * math.pi * torch.remainder(k * n, n_fft).double() / n_fft


def causal_frames(audio: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """(B, S), S a multiple of hop -> (B, S // hop, n_fft): frame t is the n_fft samples that end at
    sample (t + 1) * hop, silence before the start. Shifted slices rather than a strided conv, whose
    kernel the exporter needs to know."""
    blocks = -(-n_fft // hop)  # hop-long blocks a frame spans
    x = F.pad(audio, ((blocks - 1) * hop, 0)).reshape(audio.shape[0], -1, hop)  # (B, T + blocks - 1, hop)
    t = audio.shape[1] // hop
    return torch.cat([x[:, i : i + t] for i in range(blocks)], dim=-1)[:, :, blocks * hop - n_fft :]


class EncoderGraph(nn.Module):
    """audio (B, S), S a multiple of hop -> μ (B, S // hop, D), as `SigmaVAE.encode` on unpadded audio.

    The windowed DFT basis and the mel filters are computed in the graph from `n_fft` (an input
    while tracing, so the tracer keeps the ops; the export then freezes it into a constant), so the
    file stores neither: ONNX Runtime folds them into constants when it loads the graph."""

    def __init__(self, vae: SigmaVAE):
        super().__init__()
        self.encoder = vae.encoder
        self.sample_rate, self.n_mels = vae.config.audio.sample_rate, vae.encoder.mel.fb.shape[0]
        self.n_fft, self.hop = vae.encoder.mel.n_fft, vae.encoder.mel.hop

    def forward(self, audio: torch.Tensor, n_fft: torch.Tensor) -> torch.Tensor:
        angles, window = _dft_angles(n_fft), hann_window(n_fft)[None]
        basis = torch.cat([torch.cos(angles) * window, -torch.sin(angles) * window]).float()  # (2F, N)
        re, im = (
            (causal_frames(audio, self.n_fft, self.hop) @ basis.T).transpose(1, 2).chunk(2, dim=1)
        )  # (B, F, frames) each
        mel = mel_filterbank(self.sample_rate, n_fft, self.n_mels) @ torch.sqrt(re * re + im * im)
        return self.encoder.from_features(torch.log(torch.clamp(mel, min=1e-5)))


def decoder_convs(vae: SigmaVAE) -> list[CausalConv1d]:
    """Every causal convolution of the decoder, in module order: one streaming state each."""
    return [m for m in vae.decoder.modules() if isinstance(m, CausalConv1d)]


def decoder_state_shapes(vae: SigmaVAE) -> list[list[int]]:
    """Per-example shapes of the decoder's streaming states: conv contexts (C, k), then the iSTFT overlap."""
    shapes = [[conv.in_channels, conv.context] for conv in decoder_convs(vae)]
    head = vae.decoder.head
    if isinstance(head, SPECTRAL_HEADS):
        shapes.append([head.n_fft - head.hop])
    if isinstance(head, HNMHead):  # previous frame's controls, running phase, noise-table position
        shapes.extend(head.state_shapes())
    return shapes


class ISTFTGraph(nn.Module):
    """A spectral head (`ISTFTHead`, `APNetHead`): its own real-valued `spectrum`, then the causal inverse
    STFT with real DFT matrices and overlap-add by shifted sums."""

    def __init__(self, head: ISTFTHead | APNetHead):
        super().__init__()
        self.head, self.n_fft, self.hop, self.envelope = head, head.n_fft, head.hop, head.envelope

    def bases(self, n_fft: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Real and imaginary inverse-DFT bases (F, n_fft), windowed, computed from `n_fft` (as the
        encoder's basis: not stored in the file)."""
        weight = torch.full((self.n_fft // 2 + 1, 1), 2.0, dtype=torch.float64)
        weight[0] = weight[-1] = 1.0  # irfft counts DC and Nyquist once and ignores their imaginary parts
        scale = weight / n_fft * hann_window(n_fft)[None]
        angles = _dft_angles(n_fft)
        return (torch.cos(angles) * scale).float(), (-torch.sin(angles) * scale).float()

    def forward(self, x: torch.Tensor, overlap: torch.Tensor, n_fft: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, C, T) frames, overlap (B, n_fft - hop) -> samples (B, T * hop), new overlap."""
        re, im = self.head.spectrum(x)  # (B, T, F) each
        real_basis, imag_basis = self.bases(n_fft)
        frames = re @ real_basis + im @ imag_basis
        b, t, _ = frames.shape
        r = self.n_fft // self.hop
        parts = frames.reshape(b, t, r, self.hop)
        y = sum(F.pad(parts[:, :, i], (0, 0, i, r - 1 - i)) for i in range(r))  # (B, T + r - 1, hop)
        y = y.reshape(b, -1) / self.envelope  # (B, (T - 1) * hop + n_fft)
        n_prev, n_out = overlap.shape[1], t * self.hop
        y = torch.cat([y[:, :n_prev] + overlap, y[:, n_prev:]], dim=1)
        return y[:, :n_out], y[:, n_out:]


class DecoderGraph(nn.Module):
    """latents (B, k, D), k >= 1, plus every streaming state -> audio (B, k * hop) plus the new states.

    Zero states start a sequence; decoding everything in one call with zero states is the full decode.
    A spectral head's graph takes `n_fft` last (see `EncoderGraph`).
    """

    def __init__(self, vae: SigmaVAE):
        super().__init__()
        self.decoder = vae.decoder
        self.convs = decoder_convs(vae)
        self.istft = ISTFTGraph(vae.decoder.head) if isinstance(vae.decoder.head, SPECTRAL_HEADS) else None

    def forward(self, latents: torch.Tensor, *inputs: torch.Tensor):
        states = inputs[:-1] if self.istft is not None else inputs
        cache = dict(zip(self.convs, states))  # the modules' own streaming cache, filled from the inputs
        x = self.decoder.features(latents, cache)
        if isinstance(self.decoder.head, HNMHead):  # harmonic-plus-noise: the head's own `step`, state in and out
            audio, *head_states = self.decoder.head.step(x, *states[len(self.convs) :])
            return (audio, *(cache[c] for c in self.convs), *head_states)
        if self.istft is None:  # transposed-conv head: its causal convs carry the only state
            audio = self.decoder.head(x, cache)
            return (audio, *(cache[c] for c in self.convs))
        audio, overlap = self.istft(x, states[len(self.convs)], inputs[-1])
        return (audio, *(cache[c] for c in self.convs), overlap)
