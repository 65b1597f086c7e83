"""Audio constants: the one place the sample rate, hop and latent size are written down.

Every other module reads them from a loaded checkpoint's config (which embeds an
`AudioConfig`), never from a copied literal.
"""

from dataclasses import asdict, dataclass


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
