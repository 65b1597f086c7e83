"""Audio constants: the one place the sample rate, hop and latent size are written down.

Every other module reads them from a loaded checkpoint's config (which embeds an
`AudioConfig`), never from a copied literal.
"""

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class AudioConfig:
    sample_rate: int = 24000  # Hz, model input and output
    hop: int = 1600  # samples per latent frame -> 15 latent frames per second
    latent_dim: int = 32  # channels of one latent frame
    target_dbfs: float = -25.0  # loudness every input is RMS-normalised to before encoding

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "AudioConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class LossConfig:
    """Loss weights and the GAN schedule of σ-VAE training (DAC-style weights)."""

    mel: float = 15.0  # multi-scale log-mel L1
    stft: float = 1.0  # multi-resolution STFT (spectral convergence + log magnitude)
    adversarial: float = 1.0  # generator's hinge-free LSGAN term, summed over discriminators
    feature_matching: float = 2.0  # L1 between discriminator features of real and decoded audio
    mu_l2: float = 1e-2  # σ-VAE regulariser: mean square of μ
    # on a head's predicted spectra (head="apnet", vae_audio/head_apnet.py); 0 leaves them off
    amplitude: float = 0.0  # log-amplitude MSE against the target's causal STFT
    phase: float = 0.0  # anti-wrapping instantaneous phase + group delay + instantaneous frequency
    real_imag: float = 0.0  # L1 on the real and imaginary parts of the spectrum
    consistency: float = 0.0  # squared distance of the spectrum to the STFT of the head's own output
    # on a head's predicted F0 (head="hnm", vae_audio/head_hnm.py), against pyworld's; 0 leaves them off
    f0: float = 0.0  # L1 on ln F0 over voiced frames
    voicing: float = 0.0  # BCE of the predicted voicing against pyworld's voiced/unvoiced decision
    warmup_steps: int = 2000  # reconstruction-only steps before the discriminators join

    @classmethod
    def from_dict(cls, d: dict) -> "LossConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class VAEConfig:
    """Everything that rebuilds a `SigmaVAE`; saved as config.json beside the weights.

    The model is frame-domain (docs/ARCHITECTURE.md): a log-mel encoder at `sample_rate / frame_hop`
    frames per second, downsampled to the latent rate, and a ConvNeXt decoder at the same frame
    rate whose head is either an inverse STFT (`head="istft"`) or transposed convolutions
    (`head="upsample"`) back to samples.
    """

    audio: AudioConfig = AudioConfig()
    frame_hop: int = 320  # samples per encoder/decoder frame (75 Hz); must divide audio.hop
    n_fft: int = 1024  # encoder STFT window
    n_mels: int = 80  # encoder log-mel channels
    enc_dim: int = 256
    enc_depth: tuple[int, int] = (4, 2)  # ConvNeXt blocks at the frame rate, then at the latent rate
    dec_dim: int = 320
    dec_depth: int = 6  # ConvNeXt blocks at the frame rate
    kernel: int = 7  # depthwise causal conv width of every ConvNeXt block
    mlp_ratio: int = 4
    head: str = "istft"  # "istft", "upsample", "apnet" (vae_audio/head_apnet.py) or "hnm" (vae_audio/head_hnm.py)
    encoder: str = "convnext"  # "mel": no encoder, the causal log-mel frames are the latents (a bake-off ceiling)
    istft_n_fft: int = 1280  # iSTFT window; the hop is frame_hop
    upsample_strides: tuple[int, ...] = (8, 8, 5)  # "upsample" head; product == frame_hop
    hnm_harmonics: int = 64  # "hnm" head: harmonic sinusoids (those above Nyquist are dropped)
    hnm_noise_bands: int = 32  # "hnm" head: linearly spaced bands of the filtered noise
    hnm_f0_min: float = 50.0  # "hnm" head: F0 range in Hz (a sigmoid on ln F0), also pyworld's search range
    hnm_f0_max: float = 600.0
    sigma_c: float = 0.5  # σ = N(0, 1) · sigma_c / 0.8, one draw per example
    disc_channels: int = 16  # base width of both discriminators
    mpd_periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    mrd_ffts: tuple[int, ...] = (512, 1024, 2048)
    loss: LossConfig = field(default_factory=LossConfig)
    format_version: int = 1

    @property
    def downsample(self) -> int:
        return self.audio.hop // self.frame_hop

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "VAEConfig":
        """Unknown keys are ignored, so older config.json files load: e.g. "latent_scale" and
        "latent_bias", which the LatentLM's config now holds alone (tts.data.latent_stats)."""
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        kw["audio"] = AudioConfig.from_dict(d.get("audio", {}))
        kw["loss"] = LossConfig.from_dict(d.get("loss", {}))
        for k in ("enc_depth", "upsample_strides", "mpd_periods", "mrd_ffts"):
            if k in kw:
                kw[k] = tuple(kw[k])
        return cls(**kw)


VAE_PRESETS: dict[str, VAEConfig] = {
    # tests: a training step well under a second on one CPU thread
    "tiny": VAEConfig(
        n_mels=40,
        enc_dim=48,
        enc_depth=(1, 1),
        dec_dim=64,
        dec_depth=2,
        disc_channels=8,
        mpd_periods=(2, 3),
        mrd_ffts=(512, 1024),
        loss=LossConfig(warmup_steps=100),
    ),
    # the bundled default: <= 10 M parameters, trainable on 2 CPU cores in a few hours
    "small": VAEConfig(),
    # GPU training on LibriTTS
    "base": VAEConfig(
        n_mels=100,
        enc_dim=512,
        enc_depth=(6, 4),
        dec_dim=768,
        dec_depth=12,
        disc_channels=32,
        loss=LossConfig(warmup_steps=5000),
    ),
}
