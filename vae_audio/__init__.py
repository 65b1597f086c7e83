"""σ-VAE audio tokenizer: 24 kHz audio <-> 15 Hz, 32-dimensional continuous latents."""

from vae_audio.config import AudioConfig

__all__ = ["AudioConfig"]
