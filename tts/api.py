"""Python API on PyTorch: text (+ an optional voice prompt) in, 24 kHz audio out.

    tts = TTS.from_pretrained()                       # or a checkpoint directory
    audio = tts.synthesize("Hello there.", voice="me.wav", seed=0)
    for chunk in tts.stream("Hello there.", voice="me.wav"): ...

A TTS checkpoint is a directory: the LatentLM checkpoint (config.json with the tokenizer,
model.safetensors) plus the σ-VAE it was trained on in `vae/`. Prompts, chunking, batching,
joining, streaming and the settings checks are `tts.synthesis.Synthesizer`'s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from latentlm_common.errors import InputError
from tts.checkpoint import load_checkpoint, save_checkpoint
from tts.engine import Engine
from tts.lm import LatentLM
from tts.load import PRETRAINED, resolve_checkpoint
from tts.synthesis import Audio, Settings, Synthesizer, Voice
from tts.text import Lexicon, PhonemeTokenizer
from vae_audio.model import SigmaVAE

__all__ = ["TTS", "Audio", "Voice", "VAE_DIR", "PRETRAINED"]

VAE_DIR = "vae"


class TTS(Synthesizer):
    def __init__(
        self, model: LatentLM, vae: SigmaVAE, tokenizer: PhonemeTokenizer, lexicon: Lexicon | str | Path | None = None
    ):
        if vae.config.audio.latent_dim != model.cfg.latent_dim:
            raise InputError("the checkpoint's σ-VAE and LatentLM disagree on the latent size.")
        self.model, self.vae, self.tokenizer = model.eval(), vae.eval(), tokenizer
        self.engine = Engine(model)
        self.audio_config = vae.config.audio
        self.sample_rate, self.hop = self.audio_config.sample_rate, self.audio_config.hop
        self.target_dbfs = self.audio_config.target_dbfs
        self.settings = Settings()
        self.lexicon = Lexicon.load(lexicon)
        self.checkpoint_dir: Path | None = None  # set when loaded from a directory
        self._decoder_layout: list | None = None  # the streaming cache's modules (decoder_state)

    @classmethod
    def from_pretrained(
        cls, name_or_dir: str | Path = "default", device: str = "cpu", lexicon: Lexicon | str | Path | None = None
    ) -> TTS:
        """A bundled model by name ("default") or a checkpoint directory; `lexicon`: a `Lexicon` or
        a lexicon file (`tts.text.lexicon`)."""
        path = resolve_checkpoint(name_or_dir)
        model, config = load_checkpoint(path, device)
        if not config.get("tokenizer"):
            raise InputError(f"{path}: the checkpoint has no tokenizer in config.json.")
        vae = SigmaVAE.from_pretrained(path / VAE_DIR, map_location=device)
        tts = cls(model, vae, PhonemeTokenizer.from_dict(config["tokenizer"]), lexicon)
        tts.checkpoint_dir = path
        return tts

    def save_pretrained(self, directory: str | Path, half: bool = False, int8: bool = False, **extra) -> None:
        """`half`: store the weight matrices as float16 (half the size; they load back as float32).
        `int8`: besides, the LM's linear layers as int8 (a quarter; tts.checkpoint.int8_linears), the
        form `export-onnx --int8` reads without a second copy. The σ-VAE stays float16."""
        tokenizer = self.tokenizer.to_dict()
        save_checkpoint(directory, self.model, self.audio_config, tokenizer, half, int8, **extra)
        self.vae.save_pretrained(Path(directory) / VAE_DIR, half or int8)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # ---- backend hooks of Synthesizer ------------------------------------------------
    @torch.no_grad()
    def encode(self, samples: np.ndarray) -> np.ndarray:
        return self._numpy(self.vae.encode(torch.from_numpy(samples)[None].to(self.device))[0])

    def _noise(self, seed: int, n: int) -> list[torch.Generator]:
        return [torch.Generator(device=self.device).manual_seed(seed + i) for i in range(n)]

    def _stream_decoder(self):
        decoder = self.vae.stream_decoder(1)

        @torch.no_grad()
        def push(latents) -> np.ndarray:
            return decoder.push(self._tensor(latents)[None])[0].float().cpu().numpy()

        return push

    def decoder_state(self) -> list[torch.Tensor]:
        """The decoder's streaming cache as a flat list of (1, ...) tensors, zeros (a fresh cache)."""
        if self._decoder_layout is None:
            cache: dict = {}
            with torch.no_grad():
                self.vae.decoder(torch.zeros(1, 1, self.model.cfg.latent_dim, device=self.device), cache)
            self._decoder_layout = [(m, len(v) if isinstance(v, tuple) else 0) for m, v in cache.items()]
            self._decoder_zeros = [torch.zeros_like(t) for t in _flatten(cache, self._decoder_layout)]
        return list(self._decoder_zeros)

    @torch.no_grad()
    def decode_slots(self, states: list, latents: np.ndarray) -> tuple[np.ndarray, list]:
        flat = [torch.cat(column) for column in zip(*states)]
        cache, at = {}, 0
        for module, n in self._decoder_layout:
            cache[module] = tuple(flat[at : at + n]) if n else flat[at]
            at += max(n, 1)
        audio = self.vae.decoder(self._tensor(latents), cache).float().cpu().numpy()
        flat = _flatten(cache, self._decoder_layout)
        return audio, [[t[i : i + 1] for t in flat] for i in range(len(states))]

    @torch.no_grad()
    def _decode_all(self, latents: np.ndarray) -> np.ndarray:
        return self.vae.decode(self._tensor(latents)[None])[0].float().cpu().numpy()

    def _numpy(self, latents) -> np.ndarray:
        return latents.float().cpu().numpy() if isinstance(latents, torch.Tensor) else np.asarray(latents, np.float32)

    def _tensor(self, latents) -> torch.Tensor:
        return torch.as_tensor(latents, device=self.device).float()


def _flatten(cache: dict, layout: list) -> list[torch.Tensor]:
    """A decoder streaming cache as a flat tensor list, in `layout`'s module order."""
    return [t for module, n in layout for t in (cache[module] if n else (cache[module],))]
