"""Response formats of the speech server: wav, flac, pcm (16-bit little-endian mono) always; mp3
and opus (Ogg) where this libsndfile can write them, else through ffmpeg when it is on PATH; aac
through ffmpeg only.

`encode` makes a whole file. Streaming (`stream_header` + `pcm16` per chunk) is for wav and pcm:
a streamed WAV's header declares the largest size (the length is not known yet), as OpenAI's
streamed WAV does; other formats are sent whole when generation ends.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from functools import cache

import numpy as np
import soundfile as sf

CONTENT_TYPES = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "pcm": "audio/pcm",
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
}
STREAMABLE = ("wav", "pcm")
SOUNDFILE = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "opus": ("OGG", "OPUS"),
}
FFMPEG = {"mp3": ["-f", "mp3"], "opus": ["-c:a", "libopus", "-f", "ogg"], "aac": ["-c:a", "aac", "-f", "adts"]}


@cache
def _soundfile_can(fmt: str) -> bool:
    if fmt not in SOUNDFILE:
        return False
    container, subtype = SOUNDFILE[fmt]
    return container in sf.available_formats() and subtype in sf.available_subtypes(container)


def available_formats() -> list[str]:
    ffmpeg = shutil.which("ffmpeg") is not None
    return [f for f in CONTENT_TYPES if f == "pcm" or _soundfile_can(f) or (ffmpeg and f in FFMPEG)]


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def stream_header(fmt: str, sample_rate: int) -> bytes:
    """What a stream of `fmt` starts with: a WAV header of unknown length, nothing for pcm."""
    if fmt == "pcm":
        return b""
    size = 0xFFFFFFFF
    fmt_chunk = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return struct.pack("<4sI4s", b"RIFF", size, b"WAVE") + fmt_chunk + struct.pack("<4sI", b"data", size - 36)


def encode(samples: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """A whole file of `fmt` (one of `available_formats()`)."""
    if fmt == "pcm":
        return pcm16(samples)
    if _soundfile_can(fmt):
        container, subtype = SOUNDFILE[fmt]
        buf = io.BytesIO()
        sf.write(buf, samples, sample_rate, subtype=subtype, format=container)
        return buf.getvalue()
    return _ffmpeg(samples, sample_rate, FFMPEG[fmt])


def _ffmpeg(samples: np.ndarray, sample_rate: int, args: list[str]) -> bytes:
    cmd = ["ffmpeg", "-loglevel", "error", "-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "-", *args, "-"]
    return subprocess.run(cmd, input=pcm16(samples), capture_output=True, check=True, timeout=120).stdout
