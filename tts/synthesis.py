"""The front end shared by the PyTorch (`tts.api.TTS`) and ONNX Runtime (`tts.onnx.OnnxTTS`)
engines: voice prompts, text chunking, batching, joining, streaming, and the one check of every
setting. Torch-free, so the CLI can read the defaults and the ONNX runtime runs without torch.

Voice prompts: without a transcript the prompt is a voice prompt (any clip of the speaker) and
is trimmed to its first `max_voice_seconds` (training prompts are 2-5 s). With a transcript it
starts the speech (continuation, the paper's "prefix" protocol) and may be at most
`max_continuation_seconds`, since cutting it would break the transcript. Prompts with less than
`min_prompt_seconds` of sound after silence trimming, or silent, are refused.

Long text is split into chunks by the text frontend, synthesised as one batch (at most
`max_batch` sequences at a time) with the same voice, and joined with `pause_seconds` of silence.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from latentlm_common.audio import check_samples, load_audio, rms_normalize, trim_silence
from latentlm_common.errors import InputError
from tts.inference import EngineCore, SpeechRequest
from tts.text import PhonemeTokenizer, split_text, text_to_ids

DEFAULT_GUIDANCE_SCALE = 2.0  # CFG 2 doubled content accuracy over 1 in the design prototype
DEFAULT_STEPS = 10
MAX_STEPS = 100  # DPM-Solver++(2M) has converged long before; more only costs time
MAX_GUIDANCE_SCALE = 10.0


@dataclass(frozen=True)
class Settings:
    """Defaults and limits of synthesis; an ONNX export stores them in its config.json ("api")."""

    guidance_scale: float = DEFAULT_GUIDANCE_SCALE
    steps: int = DEFAULT_STEPS
    min_prompt_seconds: float = 1.0
    max_voice_seconds: float = 5.0
    max_continuation_seconds: float = 10.0
    pause_seconds: float = 0.25  # silence between the chunks of a long text
    max_batch: int = 16  # sequences per engine batch

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Settings:
        """Exports written before the rename store the guidance scale as "cfg_scale"."""
        d = {"guidance_scale": d["cfg_scale"], **d} if "cfg_scale" in d else d
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def check_settings(guidance_scale: float, steps: int) -> tuple[float, int]:
    """The one check of the per-call settings, shared by every front end and command."""
    if isinstance(steps, bool) or int(steps) != steps or not 1 <= steps <= MAX_STEPS:
        raise InputError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps}")
    if not 0.0 <= guidance_scale <= MAX_GUIDANCE_SCALE:  # also refuses NaN
        raise InputError(f"guidance scale must be from 0 to {MAX_GUIDANCE_SCALE:g}, got {guidance_scale}")
    return float(guidance_scale), int(steps)


@dataclass
class Audio:
    samples: np.ndarray  # (S,) float32
    sample_rate: int
    length_guard_hit: bool = False  # some chunk ended by the length guard, not the stop head


@dataclass
class Voice:
    latents: np.ndarray  # (K, D) raw σ-VAE latents of the prompt, float32
    ids: list[int] | None  # phoneme ids of its transcript (continuation) or None (voice prompt)


def prompt_audio(
    voice: str | Path | np.ndarray,
    sample_rate: int,
    target_dbfs: float,
    with_transcript: bool,
    settings: Settings = Settings(),
) -> np.ndarray:
    """A prompt file, or float samples at `sample_rate`, checked, trimmed and loudness-normalised."""
    if isinstance(voice, np.ndarray):  # the same checks, trimming and loudness as a file gets
        name = "voice prompt"
        x = np.asarray(voice, dtype=np.float32).reshape(-1)
        check_samples(x, name)
        x = rms_normalize(trim_silence(x, sample_rate), target_dbfs)
    else:
        x, name = load_audio(voice, sample_rate, normalize_dbfs=target_dbfs), str(voice)
    if len(x) < settings.min_prompt_seconds * sample_rate:
        raise InputError(
            f"{name}: the voice prompt has {len(x) / sample_rate:.2f} s of sound; "
            f"at least {settings.min_prompt_seconds:.0f} s is needed."
        )
    if not with_transcript:
        return x[: int(settings.max_voice_seconds * sample_rate)]
    if len(x) > settings.max_continuation_seconds * sample_rate:
        raise InputError(
            f"{name}: a prompt with a transcript may be at most "
            f"{settings.max_continuation_seconds:.0f} s long; it is {len(x) / sample_rate:.1f} s."
        )
    return x


def prompt_rate(n_frames: int, n_phonemes: int, base_rate: float) -> float:
    """Frames per phoneme of a continuation prompt, kept within 0.5x-2x of the training average."""
    return float(np.clip(n_frames / max(1, n_phonemes), 0.5 * base_rate, 2.0 * base_rate))


def join_with_pauses(parts: list[np.ndarray], sample_rate: int, pause_seconds: float) -> np.ndarray:
    """Concatenate audio chunks with `pause_seconds` of silence between them."""
    pause = np.zeros(int(pause_seconds * sample_rate), dtype=np.float32)
    pieces = [p for a in parts for p in (a, pause)][:-1]
    return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)


def make_requests(chunks: list[list[int]], voice: Voice | None, base_rate: float, space_id: int) -> list[SpeechRequest]:
    """One engine request per text chunk. No voice: the text alone. A voice prompt without
    transcript: `voice`. A continuation prompt: its transcript, a space and the chunk as the
    text, the prompt latents starting the speech, and the prompt's own speaking rate."""
    if voice is None:
        return [SpeechRequest(np.array(ids)) for ids in chunks]
    if voice.ids is None:
        return [SpeechRequest(np.array(ids), voice=voice.latents) for ids in chunks]
    rate = prompt_rate(len(voice.latents), len(voice.ids), base_rate)
    text = [np.array(voice.ids + [space_id] + ids) for ids in chunks]
    return [SpeechRequest(t, prompt=voice.latents, rate=rate) for t in text]


class Synthesizer:
    """Text (+ an optional voice prompt) in, audio out, on an `EngineCore` backend.

    Subclasses set `engine`, `tokenizer`, `sample_rate`, `hop`, `target_dbfs` and `settings`
    and implement the hooks below; everything else is shared."""

    engine: EngineCore
    tokenizer: PhonemeTokenizer
    sample_rate: int
    hop: int
    target_dbfs: float
    settings: Settings

    # ---- backend hooks ---------------------------------------------------------------
    def encode(self, samples: np.ndarray) -> np.ndarray:
        """(S,) float samples -> raw latents (ceil(S / hop), D) float32."""
        raise NotImplementedError

    def _noise(self, seed: int, n: int) -> list:
        """n noise sources for the engine, seeded seed, seed + 1, ..."""
        raise NotImplementedError

    def _stream_decoder(self):
        """A fresh decoder state: a callable from raw latents (k, D) (numpy or the engine's
        arrays) to the k * hop float32 samples they complete."""
        raise NotImplementedError

    def _decode_all(self, latents: np.ndarray) -> np.ndarray:
        """Raw latents (T, D), T > 0, -> T * hop samples; by default one push of a fresh decoder."""
        return self._stream_decoder()(latents)

    def _numpy(self, latents) -> np.ndarray:
        """The engine's latents (T, D) as float32 numpy."""
        return np.asarray(latents, dtype=np.float32)

    # ---- inputs ----------------------------------------------------------------------
    def load_voice(self, voice: str | Path | np.ndarray, voice_text: str | None = None) -> Voice:
        """Prompt audio (a file, or float samples at the model rate) -> latents, per the module docstring."""
        x = prompt_audio(voice, self.sample_rate, self.target_dbfs, voice_text is not None, self.settings)
        ids = text_to_ids(voice_text, self.tokenizer) if voice_text is not None else None
        return Voice(self.encode(x), ids)

    def _voice(self, voice, voice_text: str | None) -> Voice | None:
        """A prompt given as a file or samples is loaded; a `Voice` from `load_voice` is used as is."""
        if voice is None or isinstance(voice, Voice):
            return voice
        return self.load_voice(voice, voice_text)

    def _chunks(self, text: str) -> list[list[int]]:
        return [self.tokenizer.encode(c.phonemes) for c in split_text(text)]

    def _requests(self, chunks: list[list[int]], voice: Voice | None) -> list[SpeechRequest]:
        return make_requests(chunks, voice, self.engine.cfg.frames_per_phoneme, self.tokenizer.encode(" ")[0])

    def resolve_settings(self, guidance_scale=None, steps=None, cfg_scale=None) -> tuple[float, int]:
        """Defaults filled in (`cfg_scale` is the old name of `guidance_scale`), then checked."""
        if cfg_scale is not None and guidance_scale is None:
            guidance_scale = cfg_scale
        guidance_scale = self.settings.guidance_scale if guidance_scale is None else guidance_scale
        return check_settings(guidance_scale, self.settings.steps if steps is None else steps)

    @staticmethod
    def _seed(seed: int | None) -> int:
        return random.SystemRandom().randrange(2**31) if seed is None else int(seed)

    # ---- synthesis -------------------------------------------------------------------
    def synthesize(
        self,
        text: str,
        voice=None,
        voice_text: str | None = None,
        guidance_scale: float | None = None,
        steps: int | None = None,
        seed: int | None = None,
        *,
        cfg_scale: float | None = None,
    ) -> Audio:
        """One text as audio. `voice`: a file, float samples at the model rate, or a `Voice`."""
        return self.synthesize_batch([text], voice, voice_text, guidance_scale, steps, [seed], cfg_scale=cfg_scale)[0]

    def synthesize_batch(
        self,
        texts: list[str],
        voice=None,
        voice_text: str | None = None,
        guidance_scale: float | None = None,
        steps: int | None = None,
        seeds: list[int | None] | None = None,
        *,
        cfg_scale: float | None = None,
    ) -> list[Audio]:
        """One Audio per text, all chunks of all texts batched with the same voice."""
        guidance_scale, steps = self.resolve_settings(guidance_scale, steps, cfg_scale)
        seeds = seeds if seeds is not None else [None] * len(texts)
        v = self._voice(voice, voice_text)
        chunks = [self._chunks(t) for t in texts]
        flat = [(t, c) for t, cs in enumerate(chunks) for c in cs]
        noise = [src for t, cs in enumerate(chunks) for src in self._noise(self._seed(seeds[t]), len(cs))]
        audio, guard, size = [], [], self.settings.max_batch
        for start in range(0, len(flat), size):
            reqs = self._requests([c for _, c in flat[start : start + size]], v)
            out = self.engine.generate(reqs, noise[start : start + size], steps, guidance_scale)
            audio += [self.decode(z, v) for z in out.latents]
            guard += out.hit_length_guard
        parts = [[(a, g) for (t, _), a, g in zip(flat, audio, guard) if t == i] for i in range(len(texts))]
        return [self._join(p) for p in parts]

    def decode(self, latents, voice: Voice | None = None) -> np.ndarray:
        """Raw latents (T, D) -> samples; a continuation prompt primes the decoder and is cut off."""
        latents = self._numpy(latents)
        prefix = voice.latents if voice is not None and voice.ids is not None else latents[:0]
        if len(prefix) + len(latents) == 0:
            return np.zeros(0, np.float32)
        return self._decode_all(np.concatenate([prefix, latents]))[len(prefix) * self.hop :]

    def _join(self, parts: list[tuple[np.ndarray, bool]]) -> Audio:
        audio = join_with_pauses([a for a, _ in parts], self.sample_rate, self.settings.pause_seconds)
        return Audio(audio, self.sample_rate, any(g for _, g in parts))

    def stream(
        self,
        text: str,
        voice=None,
        voice_text: str | None = None,
        guidance_scale: float | None = None,
        steps: int | None = None,
        seed: int | None = None,
        frames_per_chunk: int = 1,
        *,
        cfg_scale: float | None = None,
    ) -> Iterator[np.ndarray]:
        """Audio chunks (float32 samples) as the frames are generated; the first arrives after
        `frames_per_chunk` frames (each frame is hop samples)."""
        guidance_scale, steps = self.resolve_settings(guidance_scale, steps, cfg_scale)
        v = self._voice(voice, voice_text)
        chunks = self._chunks(text)
        noise = self._noise(self._seed(seed), len(chunks))
        for i, (ids, source) in enumerate(zip(chunks, noise)):
            if i:
                yield np.zeros(int(self.settings.pause_seconds * self.sample_rate), dtype=np.float32)
            req = self._requests([ids], v)[0]
            yield from self._stream_chunk(req, source, steps, guidance_scale, v, max(1, int(frames_per_chunk)))

    def _stream_chunk(self, req, source, steps, guidance_scale, voice: Voice | None, frames_per_chunk: int):
        decode = self._stream_decoder()
        if voice is not None and voice.ids is not None:
            decode(voice.latents)  # prime the causal decoder state, output dropped
        pending = []
        for frame in self.engine.stream([req], [source], steps, guidance_scale):
            pending.append(frame.latents[0])
            if len(pending) == frames_per_chunk:
                yield decode(self.engine.stack(pending))
                pending = []
        if pending:
            yield decode(self.engine.stack(pending))
