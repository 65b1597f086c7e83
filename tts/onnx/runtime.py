"""OnnxTTS: the Python API of `tts.api.TTS` on exported ONNX graphs, without torch.

    tts = OnnxTTS("model-onnx/")                       # written by `latentlm-tts export-onnx`
    audio = tts.synthesize("Hello there.", voice="me.wav", seed=0)
    for chunk in tts.stream("Hello there.", voice="me.wav"): ...

Built on numpy, onnxruntime, the text frontend (`tts.text`) and the sampler table
(`tts.sampler`) only; importing this module never imports torch. Voice prompts, chunking,
batching, joining and the length guard follow `tts.api.TTS` (its limits and defaults are
stored in the export's config.json). Seeds drive numpy generators, so a seed gives the same
audio on every run of OnnxTTS, but not the same audio as the torch engine; for the same
noise both engines agree (see tests/test_onnx.py).

Providers: by default CUDAExecutionProvider first when onnxruntime-gpu offers it, then the CPU.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from tts.onnx.engine import NoiseSource, OnnxEngine, SpeechRequest
from tts.synthesis import join_with_pauses, prompt_audio, request_fields
from tts.text import PhonemeTokenizer, split_text, text_to_ids
from vae_audio.errors import InputError

FORMAT = "latentlm-tts-onnx"  # the `format` field of config.json (tts.onnx.export writes it)


@dataclass
class Audio:
    samples: np.ndarray  # (S,) float32
    sample_rate: int
    length_guard_hit: bool = False


@dataclass
class Voice:
    latents: np.ndarray  # (K, D) raw σ-VAE latents of the prompt
    ids: list[int] | None  # phoneme ids of its transcript (continuation) or None (voice prompt)


def default_providers() -> list[str]:
    """CUDA first when this onnxruntime build has it, the CPU always."""
    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def read_config(directory: Path) -> dict:
    path = directory / "config.json"
    if not path.is_file():
        raise InputError(f"{directory}: not an ONNX export (no config.json); run `latentlm-tts export-onnx`.")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON ({e.msg}).") from None
    if config.get("format") != FORMAT:
        raise InputError(f"{path}: not an ONNX export of LatentLM-TTS (format {config.get('format')!r}).")
    return config


class OnnxTTS:
    def __init__(
        self,
        directory: str | Path,
        providers: list[str] | None = None,
        session_options: ort.SessionOptions | None = None,
    ):
        self.checkpoint_dir = Path(directory)
        self.config = read_config(self.checkpoint_dir)
        self.providers = providers or default_providers()
        self.sessions = {name: self._session(file, session_options) for name, file in self.config["graphs"].items()}
        self.engine = OnnxEngine(self.sessions, self.config)
        self.tokenizer = PhonemeTokenizer.from_dict(self.config["tokenizer"])
        self.audio = self.config["audio"]
        self.sample_rate, self.hop = int(self.audio["sample_rate"]), int(self.audio["hop"])
        self.limits = self.config["api"]

    def _session(self, file: str, options) -> ort.InferenceSession:
        path = self.checkpoint_dir / file
        if not path.is_file():
            raise InputError(f"{path}: missing graph of the ONNX export.")
        return ort.InferenceSession(str(path), sess_options=options, providers=self.providers)

    # ---- inputs -------------------------------------------------------------------------
    def encode(self, audio: np.ndarray) -> np.ndarray:
        """(S,) float samples -> μ (ceil(S / hop), D), zero-padded to whole hops like `SigmaVAE.encode`."""
        x = np.pad(audio.astype(np.float32), (0, -len(audio) % self.hop))[None]
        return self.sessions["vae_encoder"].run(None, {"audio": x})[0][0]

    def load_voice(self, voice: str | Path | np.ndarray, voice_text: str | None = None) -> Voice:
        """Prompt audio (a file, or float samples at the model rate) -> latents, as `TTS.load_voice`."""
        lim = self.limits
        x = prompt_audio(
            voice,
            self.sample_rate,
            self.audio["target_dbfs"],
            voice_text is not None,
            lim["min_prompt_seconds"],
            lim["max_voice_seconds"],
            lim["max_continuation_seconds"],
        )
        ids = text_to_ids(voice_text, self.tokenizer) if voice_text is not None else None
        return Voice(self.encode(x), ids)

    def _voice(self, voice, voice_text: str | None) -> Voice | None:
        if voice is None or isinstance(voice, Voice):
            return voice
        return self.load_voice(voice, voice_text)

    def _requests(self, chunks: list[list[int]], voice: Voice | None) -> list[SpeechRequest]:
        latents, ids = (voice.latents, voice.ids) if voice is not None else (None, None)
        fields = request_fields(
            chunks, latents, ids, self.config["lm"]["frames_per_phoneme"], self.tokenizer.encode(" ")[0]
        )
        return [SpeechRequest(np.array(f.pop("text")), **f) for f in fields]

    def _chunks(self, text: str) -> list[list[int]]:
        return [self.tokenizer.encode(c.phonemes) for c in split_text(text)]

    @staticmethod
    def _noise(seed: int | None, n: int) -> list[NoiseSource]:
        seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
        return [np.random.default_rng(seed + i) for i in range(n)]

    def _settings(self, cfg_scale, steps) -> tuple[float, int]:
        cfg_scale = self.limits["cfg_scale"] if cfg_scale is None else float(cfg_scale)
        steps = self.limits["steps"] if steps is None else int(steps)
        if steps < 1:
            raise InputError(f"steps must be at least 1, got {steps}")
        return cfg_scale, steps

    # ---- synthesis ----------------------------------------------------------------------
    def synthesize(
        self,
        text: str,
        voice=None,
        voice_text: str | None = None,
        cfg_scale: float | None = None,
        steps: int | None = None,
        seed: int | None = None,
    ) -> Audio:
        return self.synthesize_batch([text], voice, voice_text, cfg_scale, steps, seeds=[seed])[0]

    def synthesize_batch(
        self,
        texts: list[str],
        voice=None,
        voice_text: str | None = None,
        cfg_scale: float | None = None,
        steps: int | None = None,
        seeds: list[int | None] | None = None,
    ) -> list[Audio]:
        """One Audio per text, all chunks of all texts batched with the same voice."""
        cfg_scale, steps = self._settings(cfg_scale, steps)
        seeds = seeds if seeds is not None else [None] * len(texts)
        v = self._voice(voice, voice_text)
        chunks = [self._chunks(t) for t in texts]
        flat = [(t, c) for t, cs in enumerate(chunks) for c in cs]
        noise = [g for t, cs in enumerate(chunks) for g in self._noise(seeds[t], len(cs))]
        audio, guard, size = [], [], int(self.limits["max_batch"])
        for start in range(0, len(flat), size):
            reqs = self._requests([c for _, c in flat[start : start + size]], v)
            out = self.engine.generate(reqs, noise[start : start + size], steps, cfg_scale)
            audio += [self.decode(z, v) for z in out.latents]
            guard += out.hit_length_guard
        return [self._join([(a, g) for (t, _), a, g in zip(flat, audio, guard) if t == i]) for i in range(len(texts))]

    def decode(self, latents: np.ndarray, voice: Voice | None = None) -> np.ndarray:
        """Raw latents (T, D) -> samples; a continuation prompt primes the decoder and is cut off."""
        prefix = voice.latents if voice is not None and voice.ids is not None else latents[:0]
        z = np.concatenate([prefix, latents]).astype(np.float32)
        if len(z) == 0:
            return np.zeros(0, np.float32)
        decoder = StreamDecoder(self.sessions["vae_decoder"], self.config["vae"]["decoder_states"], 1)
        return decoder.push(z[None])[0, len(prefix) * self.hop :]

    def _join(self, parts: list[tuple[np.ndarray, bool]]) -> Audio:
        audio = join_with_pauses([a for a, _ in parts], self.sample_rate, self.limits["pause_seconds"])
        return Audio(audio, self.sample_rate, any(g for _, g in parts))

    def stream(
        self,
        text: str,
        voice=None,
        voice_text: str | None = None,
        cfg_scale: float | None = None,
        steps: int | None = None,
        seed: int | None = None,
        frames_per_chunk: int = 1,
    ) -> Iterator[np.ndarray]:
        """Audio chunks (float32 samples) as the frames are generated, as `TTS.stream`."""
        cfg_scale, steps = self._settings(cfg_scale, steps)
        v = self._voice(voice, voice_text)
        chunks = self._chunks(text)
        noise = self._noise(seed, len(chunks))
        for i, (ids, source) in enumerate(zip(chunks, noise)):
            if i:
                yield np.zeros(int(self.limits["pause_seconds"] * self.sample_rate), dtype=np.float32)
            yield from self._stream_chunk(self._requests([ids], v)[0], source, steps, cfg_scale, v, frames_per_chunk)

    def _stream_chunk(self, req, source, steps, cfg_scale, voice: Voice | None, frames_per_chunk: int):
        decoder = StreamDecoder(self.sessions["vae_decoder"], self.config["vae"]["decoder_states"], 1)
        if voice is not None and voice.ids is not None:
            decoder.push(voice.latents[None].astype(np.float32))  # prime the causal decoder, output dropped
        pending = []
        for frame in self.engine.stream([req], [source], steps, cfg_scale):
            pending.append(frame.latents)
            if len(pending) >= max(1, int(frames_per_chunk)):
                yield decoder.push(np.stack(pending, 1))[0]
                pending = []
        if pending:
            yield decoder.push(np.stack(pending, 1))[0]


class StreamDecoder:
    """The σ-VAE decoder graph with its conv and iSTFT states carried between calls:
    `push((B, k, D))` returns the k * hop samples those latents complete."""

    def __init__(self, session: ort.InferenceSession, state_shapes: list[list[int]], batch_size: int):
        self.session = session
        self.states = [np.zeros((batch_size, *s), np.float32) for s in state_shapes]
        self.names = [i.name for i in session.get_inputs()]

    def push(self, latents: np.ndarray) -> np.ndarray:
        if latents.shape[1] == 0:
            return np.zeros((latents.shape[0], 0), np.float32)
        audio, *self.states = self.session.run(None, dict(zip(self.names, [latents.astype(np.float32), *self.states])))
        return audio
