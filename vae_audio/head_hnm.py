"""Harmonic-plus-noise decoder head (`head="hnm"`): a differentiable source-filter synthesiser.

In the spirit of DDSP (Engel et al. 2020), the Neural Homomorphic Vocoder and SawSing. From the
decoder's frames (75 Hz) a linear layer predicts, per frame t:
  - F0 in Hz, f0_min · (f0_max / f0_min) ** sigmoid(·): a bounded range on the log scale;
  - a voicing probability (sigmoid) that gates the harmonics, and a harmonic loudness;
  - a distribution over K harmonics (softmax over those below Nyquist) that the loudness scales;
  - the gains of `noise_bands` linearly spaced bands of filtered noise.

Contract:
  - **Causal.** Frame t's controls are reached at the end of its hop: sample n = t · hop + j
    interpolates linearly between the controls of frames t - 1 and t with weight (j + 1) / hop,
    so it depends only on frames <= n // hop. Before frame 0 the controls are zero (a fade-in).
  - **Streaming equals full.** `step` is a pure function of (frames, state) -> (audio, new
    state); the state is the previous frame's controls, the running phase (reduced modulo 2π,
    accumulated in float64) and the position in the noise table. The torch head keeps it in the
    streaming cache; the ONNX decoder graph (tts/onnx/graphs_vae.py) takes and returns it, so
    both backends run this one function. On identical frames streaming is exact; through the whole
    decoder the frames differ by float32 rounding, and the phase integrates the F0 difference this
    makes (kept small by computing F0 in float64; vae_audio/README.md gives the size).
  - **Reproducible noise.** The noise is a fixed white-noise table (a frozen numpy seed) read at
    the absolute sample position modulo `NOISE_PERIOD` and split into bands by fixed band-pass
    FIRs that sum to a delta: all gains equal give white noise. It depends on nothing else.
  - **Anti-aliased.** Within a hop F0 moves linearly, so a harmonic is kept in a hop only while
    k · max(F0 at both ends) < Nyquist.
  - **F0 is supervised, not learned through the phase.** The phase uses the predicted F0 with the
    gradient stopped (the gradient of a spectral loss through a running phase is chaotic); the F0
    and voicing outputs learn from `F0Loss` (pyworld's DIO + StoneMask on the training crop, see
    `f0_target`), the amplitudes and noise gains from the spectral losses. Train with
    `loss.f0 > 0` (and `loss.voicing > 0`), or F0 stays at its initial value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_audio.config import VAEConfig

NOISE_PERIOD = 2**17  # samples in the white-noise table: the noise repeats after 5.5 s at 24 kHz
NOISE_TAPS = 127  # odd length of each band-pass FIR (Hann-windowed ideal band), so the bands sum to a delta
NOISE_SEED = 0  # numpy RandomState seed of the table (RandomState streams are frozen across numpy versions)
NOISE_BIAS = -5.0  # initial bias of the noise gains (DDSP's): the noise starts almost silent
DIO_SPEED = 4  # pyworld DIO decimation: about 4 ms of CPU per second of audio; F0 <= 600 Hz needs no more


def exp_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """DDSP's positive amplitude nonlinearity: 2 · sigmoid(x) ** ln 10 + 1e-7, in (1e-7, 2)."""
    return 2.0 * torch.sigmoid(x) ** math.log(10.0) + 1e-7


def noise_band_filters(bands: int, taps: int = NOISE_TAPS) -> torch.Tensor:
    """(bands, 1, taps) Hann-windowed ideal band-pass FIRs splitting [0, Nyquist] linearly; they sum to a delta."""
    m = torch.arange(taps, dtype=torch.float64) - (taps - 1) / 2
    edges = torch.linspace(0.0, 1.0, bands + 1, dtype=torch.float64)  # fractions of Nyquist
    lowpass = edges[:, None] * torch.sinc(edges[:, None] * m)  # (bands + 1, taps): ideal low-passes
    window = torch.hann_window(taps, periodic=False, dtype=torch.float64)
    return ((lowpass[1:] - lowpass[:-1]) * window).float()[:, None]


@dataclass
class F0Prediction:
    hz: torch.Tensor  # (B, T) F0 of each decoder frame, in Hz
    voiced_logit: torch.Tensor  # (B, T) logit of the voicing probability


class HNMHead(nn.Module):
    """(B, C, T) decoder frames -> (B, T * hop) audio: harmonic sinusoids plus filtered noise."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.hop, self.sample_rate = cfg.frame_hop, cfg.audio.sample_rate
        self.harmonics, self.bands = cfg.hnm_harmonics, cfg.hnm_noise_bands
        self.log_f0_min, self.log_f0_max = math.log(cfg.hnm_f0_min), math.log(cfg.hnm_f0_max)
        self.proj = nn.Linear(cfg.dec_dim, 3 + self.harmonics + self.bands)  # f0, voicing, loudness, dist, noise
        with torch.no_grad():
            self.proj.bias[3 + self.harmonics :].fill_(NOISE_BIAS)
        ramp = torch.arange(1, self.hop + 1, dtype=torch.float64) / self.hop  # float64: F0 is interpolated with it
        self.register_buffer("ramp", ramp[:, None], persistent=False)  # (hop, 1): weight of the current frame
        self.register_buffer("k", torch.arange(1, self.harmonics + 1, dtype=torch.float32), persistent=False)
        table = np.random.RandomState(NOISE_SEED).standard_normal(NOISE_PERIOD).astype(np.float32)
        self.register_buffer("noise_table", torch.from_numpy(table), persistent=False)  # (L,)
        self.register_buffer("noise_fir", noise_band_filters(self.bands), persistent=False)

    @property
    def num_controls(self) -> int:
        return 1 + self.harmonics + self.bands  # per frame: F0, harmonic amplitudes, noise gains

    def state_shapes(self) -> list[list[int]]:
        """Per-example streaming state: previous frame's controls, phase (radians, in [0, 2π)), noise position."""
        return [[self.num_controls], [1], [1]]

    def initial_state(self, batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Zero state for torch streaming: controls and phase float64, the position int64 (ONNX carries float32)."""
        return (
            torch.zeros(batch, self.num_controls, dtype=torch.float64, device=device),
            torch.zeros(batch, 1, dtype=torch.float64, device=device),
            torch.zeros(batch, 1, dtype=torch.int64, device=device),
        )

    def predict_f0(self, x: torch.Tensor) -> F0Prediction:
        """(B, C, T) -> F0 (Hz) and voicing logit per frame, with gradients (the target of `F0Loss`)."""
        with torch.autocast(x.device.type, enabled=False):
            raw = self.proj(x.transpose(1, 2).float())  # (B, T, P + 2)
        return F0Prediction(hz=self._f0(raw[..., 0]), voiced_logit=raw[..., 1])

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        state = cache.get(self) if cache is not None else None
        if state is None:
            state = self.initial_state(x.shape[0], x.device)
        with torch.autocast(x.device.type, enabled=False):
            audio, *state = self.step(x.float(), *state)
        if cache is not None:
            cache[self] = tuple(state)
        return audio

    def step(self, x: torch.Tensor, prev: torch.Tensor, phase: torch.Tensor, pos: torch.Tensor):
        """x (B, C, T) float32 frames and state (prev (B, P), phase (B, 1), pos (B, 1)) -> audio (B, T * hop)
        and the new state in the dtypes given. Shared by the torch head and the ONNX decoder graph."""
        return self.synthesise(self.controls(x), prev, phase, pos)

    def synthesise(self, cur: torch.Tensor, prev: torch.Tensor, phase: torch.Tensor, pos: torch.Tensor):
        """Controls (B, T, P) of `controls` and the state -> audio (B, T * hop) and the new state."""
        before = torch.cat([prev[:, None].to(cur), cur[:, :-1]], dim=1)  # (B, T, P): frame t - 1's
        f0_now, f0_before = cur[..., :1].detach(), before[..., :1].detach()  # (B, T, 1) each; no gradient
        f0 = f0_before[..., None] + self.ramp.to(cur) * (f0_now - f0_before)[..., None]  # (B, T, hop, 1)
        harmonic, new_phase = self._harmonics(f0, before, cur, phase)
        noise, new_pos = self._noise(before, cur, pos)
        audio = (harmonic + noise).flatten(1)  # (B, T * hop)
        return audio, cur[:, -1].to(prev.dtype), new_phase.to(phase.dtype), new_pos.to(pos.dtype)

    def controls(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, T, 1 + K + bands) float64: F0 in Hz (no gradient), harmonic amplitudes, noise gains.

        F0 is computed in float64: the running phase integrates it, so float32 rounding differences of
        the frames (streaming against full decoding) would otherwise grow into audible phase drift."""
        x = x.transpose(1, 2)  # (B, T, C)
        raw = self.proj(x)  # (B, T, 3 + K + bands)
        weight, bias = self.proj.weight[:1].double(), self.proj.bias[:1].double()
        f0 = self._f0(F.linear(x.double(), weight, bias)).detach()  # (B, T, 1); see the module docstring
        above = self.k * f0 >= self.sample_rate / 2  # (B, T, K)
        dist = torch.softmax(raw[..., 3 : 3 + self.harmonics].masked_fill(above, -1e9), dim=-1)
        loudness = torch.sigmoid(raw[..., 1:2]) * exp_sigmoid(raw[..., 2:3])  # voicing · harmonic loudness
        rest = torch.cat([loudness * dist, exp_sigmoid(raw[..., 3 + self.harmonics :])], dim=-1)
        return torch.cat([f0, rest.double()], dim=-1)

    def _f0(self, raw: torch.Tensor) -> torch.Tensor:
        return torch.exp(self.log_f0_min + torch.sigmoid(raw) * (self.log_f0_max - self.log_f0_min))

    def _harmonics(self, f0, before, cur, phase):
        """Sum of harmonic sinusoids -> (B, T, hop) and the new phase (B, 1), float64 modulo 2π."""
        b, t = cur.shape[:2]
        step = f0.flatten(1).double() * (2 * math.pi / self.sample_rate)  # (B, S) radians per sample
        run = torch.remainder(phase.double() + torch.cumsum(step, dim=1), 2 * math.pi)  # (B, S), sample n included
        sines = torch.sin(run.float()[..., None] * self.k).reshape(b, t, self.hop, self.harmonics)  # (B, T, hop, K)
        f0_top = torch.maximum(f0[:, :, 0], f0[:, :, -1])  # (B, T, 1): highest F0 within each hop
        keep = (self.k * f0_top < self.sample_rate / 2).to(sines)  # (B, T, K)
        amp = slice(1, 1 + self.harmonics)
        return self._crossfade(sines, before[..., amp].float() * keep, cur[..., amp].float() * keep), run[:, -1:]

    def _noise(self, before, cur, pos):
        """Filtered noise -> (B, T, hop) and the new table position (B, 1), int64 modulo the period."""
        b, t = cur.shape[:2]
        n = t * self.hop
        taps = self.noise_fir.shape[-1]
        index = torch.remainder(pos.long() + torch.arange(n + taps - 1, device=cur.device) - (taps - 1), NOISE_PERIOD)
        bands = F.conv1d(self.noise_table[index][:, None], self.noise_fir)  # (B, bands, S)
        bands = bands.transpose(1, 2).reshape(b, t, self.hop, self.bands)
        gains = slice(1 + self.harmonics, None)
        new_pos = torch.remainder(pos.long() + n, NOISE_PERIOD)
        return self._crossfade(bands, before[..., gains].float(), cur[..., gains].float()), new_pos

    def _crossfade(self, signals: torch.Tensor, before: torch.Tensor, cur: torch.Tensor) -> torch.Tensor:
        """Σ_c signals · (linearly interpolated weights): signals (B, T, hop, N), weights of frames t - 1
        and t (B, T, N) -> (B, T, hop). One matmul instead of materialising the audio-rate weights."""
        both = signals @ torch.stack([before, cur], dim=-1)  # (B, T, hop, 2)
        return torch.lerp(both[..., 0], both[..., 1], self.ramp[..., 0].to(both))


def f0_target(audio: np.ndarray, sample_rate: int, hop: int, f0_min: float, f0_max: float) -> np.ndarray:
    """pyworld DIO + StoneMask F0 of one clip (S,), S a multiple of hop -> (S // hop,) Hz, 0 where unvoiced.

    pyworld's frame i is centred on sample i · hop; decoder frame t's controls are reached at the
    end of its hop, so frame t is given pyworld's frame t + 1.
    """
    try:
        import pyworld
    except ImportError:
        raise ImportError("the F0 loss of head='hnm' needs pyworld: pip install pyworld-prebuilt") from None
    x = audio.astype(np.float64)
    period = 1000.0 * hop / sample_rate  # ms
    f0, times = pyworld.dio(x, sample_rate, f0_floor=f0_min, f0_ceil=f0_max, frame_period=period, speed=DIO_SPEED)
    f0 = pyworld.stonemask(x, f0, times, sample_rate)
    frames = len(audio) // hop
    out = np.zeros(frames)
    n = min(frames, len(f0) - 1)
    out[:n] = f0[1 : n + 1]
    return out


class F0Loss(nn.Module):
    """F0 supervision from pyworld on the training crop: {"f0": L1 on ln F0 over voiced frames,
    "voicing": BCE of the voicing logit against voiced/unvoiced}. The target costs DIO + StoneMask
    on the CPU, about 4–5 ms per second of audio (DIO_SPEED), computed in the loss each step."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.sample_rate, self.hop = cfg.audio.sample_rate, cfg.frame_hop
        self.f0_min, self.f0_max = cfg.hnm_f0_min, cfg.hnm_f0_max

    def target(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) -> (B, S // hop) pyworld F0 in Hz, 0 where unvoiced."""
        clips = audio.detach().float().cpu().numpy()
        f0 = np.stack([f0_target(c, self.sample_rate, self.hop, self.f0_min, self.f0_max) for c in clips])
        return torch.from_numpy(f0).float().to(audio.device)

    def forward(self, pred: F0Prediction, audio: torch.Tensor) -> dict[str, torch.Tensor]:
        target = self.target(audio)[:, : pred.hz.shape[1]]  # (B, T)
        voiced = (target > 0).float()
        log_target = torch.log(target.clamp(self.f0_min, self.f0_max))
        error = (torch.log(pred.hz.float()) - log_target).abs() * voiced
        return {
            "f0": error.sum() / voiced.sum().clamp(min=1.0),
            "voicing": F.binary_cross_entropy_with_logits(pred.voiced_logit.float(), voiced),
        }


def f0_loss_for(cfg: VAEConfig) -> F0Loss | None:
    """The `F0Loss` a config trains with: for head "hnm" with a non-zero F0 or voicing weight, else None."""
    return F0Loss(cfg) if cfg.head == "hnm" and (cfg.loss.f0 or cfg.loss.voicing) else None
