"""LatentLM-TTS: zero-shot voice cloning with next-token diffusion over σ-VAE latents."""

__version__ = "0.1.0"
