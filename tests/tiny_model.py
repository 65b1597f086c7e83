"""A random-initialised tiny TTS checkpoint for tests of everything built on the Python API."""

import torch

from tts.api import TTS
from tts.config import preset
from tts.lm import LatentLM
from tts.text import PhonemeTokenizer
from vae_audio.model import SigmaVAE


def make_tiny_checkpoint(path, seed: int = 0, stop_bias: float = -50.0):
    """Save a tiny LatentLM + tiny σ-VAE to `path`. The stop head is a constant `stop_bias`
    logit: the default never stops, so the length guard ends every utterance."""
    tok = PhonemeTokenizer()
    torch.manual_seed(seed)
    model = LatentLM(preset("tiny", **tok.lm_ids()))
    with torch.no_grad():
        model.stop_head.weight.zero_()
        model.stop_head.bias.fill_(stop_bias)
    TTS(model, SigmaVAE.from_preset("tiny"), tok).save_pretrained(path)
    return path
