"""Python API: text (+ an optional voice prompt) in, 24 kHz audio out.

    tts = TTS.from_pretrained()                       # or a checkpoint directory
    audio = tts.synthesize("Hello there.", voice="me.wav", seed=0)
    for chunk in tts.stream("Hello there.", voice="me.wav"): ...

A TTS checkpoint is a directory: the LatentLM checkpoint (config.json with the tokenizer,
model.safetensors) plus the σ-VAE it was trained on in `vae/`.

Voice prompts are checked and trimmed as `tts.synthesis` describes: without `voice_text` a
clip of the speaker (voice-prompt mode), with it the start of the speech (continuation). Long
text is split into chunks by the frontend, synthesised as one batch with the same voice and
joined with short pauses.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tts.checkpoint import load_checkpoint, save_checkpoint
from tts.engine import Engine, SpeechRequest
from tts.lm import LatentLM
from tts.synthesis import (
    DEFAULT_CFG_SCALE,
    DEFAULT_STEPS,
    MAX_BATCH,
    PAUSE_SECONDS,
    join_with_pauses,
    prompt_audio,
    request_fields,
)
from tts.text import PhonemeTokenizer, split_text, text_to_ids
from vae_audio.errors import InputError
from vae_audio.model import SigmaVAE

VAE_DIR = "vae"
PRETRAINED = Path(__file__).parent / "pretrained"


@dataclass
class Audio:
    samples: np.ndarray  # (S,) float32
    sample_rate: int
    length_guard_hit: bool = False  # some chunk ended by the length guard, not the stop head


@dataclass
class Voice:
    latents: torch.Tensor  # (K, D) raw σ-VAE latents of the prompt
    ids: list[int] | None  # phoneme ids of its transcript (continuation) or None (voice prompt)


class TTS:
    def __init__(self, model: LatentLM, vae: SigmaVAE, tokenizer: PhonemeTokenizer):
        if vae.config.audio.latent_dim != model.cfg.latent_dim:
            raise InputError("the checkpoint's σ-VAE and LatentLM disagree on the latent size.")
        self.model, self.vae, self.tokenizer = model.eval(), vae.eval(), tokenizer
        self.engine = Engine(model)
        self.audio_config = vae.config.audio
        self.sample_rate = self.audio_config.sample_rate
        self.checkpoint_dir: Path | None = None  # set when loaded from a directory

    @classmethod
    def from_pretrained(cls, name_or_dir: str | Path = "default", device: str = "cpu") -> TTS:
        """A bundled model by name ("default") or a checkpoint directory."""
        path = Path(name_or_dir)
        if not path.exists() and (PRETRAINED / str(name_or_dir)).exists():
            path = PRETRAINED / str(name_or_dir)
        if not path.is_dir() and str(name_or_dir) == "default":
            raise InputError(
                f"the bundled default model is missing from this installation ({PRETRAINED / 'default'}); "
                "reinstall the package or pass --ckpt DIR."
            )
        if not path.is_dir():
            raise InputError(f"{name_or_dir}: no such checkpoint directory or bundled model.")
        model, config = load_checkpoint(path, device)
        if not config.get("tokenizer"):
            raise InputError(f"{path}: the checkpoint has no tokenizer in config.json.")
        vae = SigmaVAE.from_pretrained(path / VAE_DIR, map_location=device)
        tts = cls(model, vae, PhonemeTokenizer.from_dict(config["tokenizer"]))
        tts.checkpoint_dir = path
        return tts

    def save_pretrained(self, directory: str | Path, half: bool = False, **extra) -> None:
        """`half`: store the weight matrices as float16 (half the size; they load back as float32)."""
        save_checkpoint(directory, self.model, self.audio_config, self.tokenizer.to_dict(), half, **extra)
        self.vae.save_pretrained(Path(directory) / VAE_DIR, half)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # ---- inputs -------------------------------------------------------------------------
    @torch.no_grad()
    def load_voice(self, voice: str | Path | np.ndarray, voice_text: str | None = None) -> Voice:
        """Prompt audio (a file, or float samples at the model rate) -> latents, per the module docstring."""
        x = prompt_audio(voice, self.sample_rate, self.audio_config.target_dbfs, voice_text is not None)
        latents = self.vae.encode(torch.from_numpy(x)[None].to(self.device))[0]  # (K, D)
        ids = text_to_ids(voice_text, self.tokenizer) if voice_text is not None else None
        return Voice(latents, ids)

    def _voice(self, voice, voice_text: str | None) -> Voice | None:
        """A prompt given as a file or samples is loaded; a `Voice` from `load_voice` is used as is."""
        if voice is None or isinstance(voice, Voice):
            return voice
        return self.load_voice(voice, voice_text)

    def _requests(self, chunks: list[list[int]], voice: Voice | None) -> list[SpeechRequest]:
        latents, ids = (voice.latents, voice.ids) if voice is not None else (None, None)
        fields = request_fields(chunks, latents, ids, self.model.cfg.frames_per_phoneme, self.tokenizer.encode(" ")[0])
        return [SpeechRequest(torch.tensor(f.pop("text")), **f) for f in fields]

    def _chunks(self, text: str) -> list[list[int]]:
        return [self.tokenizer.encode(c.phonemes) for c in split_text(text)]

    def _generators(self, seed: int | None, n: int) -> list[torch.Generator]:
        seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
        return [torch.Generator(device=self.device).manual_seed(seed + i) for i in range(n)]

    # ---- synthesis ----------------------------------------------------------------------
    @torch.no_grad()
    def synthesize(
        self,
        text: str,
        voice: str | Path | np.ndarray | Voice | None = None,
        voice_text: str | None = None,
        cfg_scale: float = DEFAULT_CFG_SCALE,
        steps: int = DEFAULT_STEPS,
        seed: int | None = None,
    ) -> Audio:
        return self.synthesize_batch([text], voice, voice_text, cfg_scale, steps, seeds=[seed])[0]

    @torch.no_grad()
    def synthesize_batch(
        self,
        texts: list[str],
        voice: str | Path | np.ndarray | Voice | None = None,
        voice_text: str | None = None,
        cfg_scale: float = DEFAULT_CFG_SCALE,
        steps: int = DEFAULT_STEPS,
        seeds: list[int | None] | None = None,
    ) -> list[Audio]:
        """One Audio per text, all chunks of all texts batched with the same voice."""
        seeds = seeds if seeds is not None else [None] * len(texts)
        v = self._voice(voice, voice_text)
        chunks = [self._chunks(t) for t in texts]
        flat = [(t, c) for t, cs in enumerate(chunks) for c in cs]
        gens = [g for t, cs in enumerate(chunks) for g in self._generators(seeds[t], len(cs))]
        audio, guard = [], []
        for start in range(0, len(flat), MAX_BATCH):
            reqs = self._requests([c for _, c in flat[start : start + MAX_BATCH]], v)
            out = self.engine.generate(reqs, gens[start : start + MAX_BATCH], steps, cfg_scale)
            audio += [self._decode(z, v) for z in out.latents]
            guard += out.hit_length_guard
        return [self._join([(a, g) for (t, _), a, g in zip(flat, audio, guard) if t == i]) for i in range(len(texts))]

    def _decode(self, latents: torch.Tensor, voice: Voice | None) -> np.ndarray:
        """Raw latents (T, D) -> samples; a continuation prompt is decoded first (decoder state) then cut."""
        prefix = voice.latents if voice is not None and voice.ids is not None else latents[:0]
        wav = self.vae.decode(torch.cat([prefix, latents])[None].float())[0]
        return wav[len(prefix) * self.audio_config.hop :].float().cpu().numpy()

    def _join(self, parts: list[tuple[np.ndarray, bool]]) -> Audio:
        return Audio(
            join_with_pauses([a for a, _ in parts], self.sample_rate), self.sample_rate, any(g for _, g in parts)
        )

    @torch.no_grad()
    def stream(
        self,
        text: str,
        voice: str | Path | np.ndarray | Voice | None = None,
        voice_text: str | None = None,
        cfg_scale: float = DEFAULT_CFG_SCALE,
        steps: int = DEFAULT_STEPS,
        seed: int | None = None,
        frames_per_chunk: int = 1,
    ) -> Iterator[np.ndarray]:
        """Audio chunks (float32 samples) as the frames are generated; the first arrives after
        `frames_per_chunk` frames (each frame is hop samples, 1/15 s)."""
        v = self._voice(voice, voice_text)
        chunks = self._chunks(text)
        gens = self._generators(seed, len(chunks))
        for i, (ids, g) in enumerate(zip(chunks, gens)):
            if i:
                yield np.zeros(int(PAUSE_SECONDS * self.sample_rate), dtype=np.float32)
            yield from self._stream_chunk(self._requests([ids], v)[0], g, steps, cfg_scale, v, frames_per_chunk)

    def _stream_chunk(
        self, req: SpeechRequest, gen, steps, cfg_scale, voice: Voice | None, frames_per_chunk: int
    ) -> Iterator[np.ndarray]:
        decoder = self.vae.stream_decoder(1)
        if voice is not None and voice.ids is not None:
            decoder.push(voice.latents[None].float())  # prime the causal decoder state, output dropped
        pending = []
        for frame in self.engine.stream([req], [gen], steps, cfg_scale):
            pending.append(frame.latents)
            if len(pending) >= max(1, int(frames_per_chunk)):
                yield decoder.push(torch.stack(pending, 1).float())[0].cpu().numpy()
                pending = []
        if pending:
            yield decoder.push(torch.stack(pending, 1).float())[0].cpu().numpy()
        tail = decoder.flush()
        if tail.shape[-1]:
            yield tail[0].cpu().numpy()
