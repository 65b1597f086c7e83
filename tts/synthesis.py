"""Synthesis settings and prompt handling shared by the PyTorch (`tts.api.TTS`) and ONNX Runtime
(`tts.onnx.OnnxTTS`) front ends. Torch-free, so the CLI can read the defaults and the ONNX
runtime can check prompts without importing torch.

Voice prompts: without a transcript the prompt is a voice prompt (any clip of the speaker) and
is trimmed to its first MAX_VOICE_SECONDS (training prompts are 2-5 s). With a transcript it
starts the speech (continuation, the paper's "prefix" protocol) and may be at most
MAX_CONTINUATION_SECONDS, since cutting it would break the transcript. Prompts with less than
MIN_PROMPT_SECONDS of sound after silence trimming, or silent, are refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vae_audio.audio import check_samples, load_audio, rms_normalize, trim_silence
from vae_audio.errors import InputError

DEFAULT_CFG_SCALE = 2.0  # CFG 2 doubled content accuracy over 1 in the design prototype
DEFAULT_STEPS = 10
MIN_PROMPT_SECONDS = 1.0
MAX_VOICE_SECONDS = 5.0
MAX_CONTINUATION_SECONDS = 10.0
PAUSE_SECONDS = 0.25  # silence between the chunks of a long text
MAX_BATCH = 16  # sequences per engine batch


def prompt_audio(
    voice: str | Path | np.ndarray,
    sample_rate: int,
    target_dbfs: float,
    with_transcript: bool,
    min_seconds: float = MIN_PROMPT_SECONDS,
    max_voice_seconds: float = MAX_VOICE_SECONDS,
    max_continuation_seconds: float = MAX_CONTINUATION_SECONDS,
) -> np.ndarray:
    """A prompt file, or float samples at `sample_rate`, checked, trimmed and loudness-normalised."""
    if isinstance(voice, np.ndarray):  # the same checks, trimming and loudness as a file gets
        name = "voice prompt"
        x = np.asarray(voice, dtype=np.float32).reshape(-1)
        check_samples(x, name)
        x = rms_normalize(trim_silence(x, sample_rate), target_dbfs)
    else:
        x, name = load_audio(voice, sample_rate, normalize_dbfs=target_dbfs), str(voice)
    if len(x) < min_seconds * sample_rate:
        raise InputError(
            f"{name}: the voice prompt has {len(x) / sample_rate:.2f} s of sound; "
            f"at least {min_seconds:.0f} s is needed."
        )
    if not with_transcript:
        return x[: int(max_voice_seconds * sample_rate)]
    if len(x) > max_continuation_seconds * sample_rate:
        raise InputError(
            f"{name}: a prompt with a transcript may be at most "
            f"{max_continuation_seconds:.0f} s long; it is {len(x) / sample_rate:.1f} s."
        )
    return x


def prompt_rate(n_frames: int, n_phonemes: int, base_rate: float) -> float:
    """Frames per phoneme of a continuation prompt, kept within 0.5x-2x of the training average."""
    return float(np.clip(n_frames / max(1, n_phonemes), 0.5 * base_rate, 2.0 * base_rate))


def join_with_pauses(parts: list[np.ndarray], sample_rate: int, pause_seconds: float = PAUSE_SECONDS) -> np.ndarray:
    """Concatenate audio chunks with `pause_seconds` of silence between them."""
    pause = np.zeros(int(pause_seconds * sample_rate), dtype=np.float32)
    pieces = [p for a in parts for p in (a, pause)][:-1]
    return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)


def request_fields(
    chunks: list[list[int]], voice_latents, voice_ids: list[int] | None, base_rate: float, space_id: int
) -> list[dict]:
    """Keyword arguments of one engine `SpeechRequest` per text chunk (torch and numpy engines alike).

    No voice: the text alone. A voice prompt without transcript: `voice`. A continuation prompt:
    its transcript, a space and the chunk as the text, the prompt latents starting the speech,
    and the prompt's own speaking rate."""
    if voice_latents is None:
        return [{"text": ids} for ids in chunks]
    if voice_ids is None:
        return [{"text": ids, "voice": voice_latents} for ids in chunks]
    rate = prompt_rate(len(voice_latents), len(voice_ids), base_rate)
    return [{"text": voice_ids + [space_id] + ids, "prompt": voice_latents, "rate": rate} for ids in chunks]
