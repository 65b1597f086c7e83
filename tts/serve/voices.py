"""The speech server's voices: NAME.wav (+ optional NAME.txt transcript) in one directory, plus
OpenAI's voice names, which stand for the bundled example voices.

Names are letters, digits, - and _ (at most 64), so a name is never a path. An upload is
checked before it is stored: its size, that it decodes as audio, its duration, and the prompt
checks of `tts.synthesis.prompt_audio` (enough sound, not silent). Error messages name the
voice, never a file path of the server.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import soundfile as sf

from latentlm_common.errors import InputError
from latentlm_common.files import atomic_write

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# OpenAI's voices, each standing for one of the bundled example voices (demo/examples/voiceN.wav)
OPENAI_VOICES = ["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse"]
EXAMPLES = 3


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_seconds: float = 30.0


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise InputError("a voice name is 1-64 letters, digits, '-' or '_'")
    return name


def bundled_voice(name: str) -> Path | None:
    """The example voice an OpenAI voice name stands for, None for other names."""
    if name not in OPENAI_VOICES:
        return None
    return Path(str(files("demo") / "examples" / f"voice{OPENAI_VOICES.index(name) % EXAMPLES + 1}.wav"))


class VoiceStore:
    """Voices on disk in `directory` (created if missing), then the OpenAI names."""

    def __init__(self, directory: str | Path, limits: UploadLimits = UploadLimits()):
        self.directory, self.limits = Path(directory), limits
        self.directory.mkdir(parents=True, exist_ok=True)

    def names(self) -> list[dict]:
        own = sorted(p.stem for p in self.directory.glob("*.wav") if NAME.match(p.stem))
        listed = [{"object": "voice", "name": n, "transcript": (self.directory / f"{n}.txt").is_file()} for n in own]
        builtin = [n for n in OPENAI_VOICES if n not in own]
        return listed + [{"object": "voice", "name": n, "transcript": False, "builtin": True} for n in builtin]

    def resolve(self, name: str) -> tuple[Path, str | None]:
        """The audio file of voice `name` and its stored transcript (None without one)."""
        check_name(name)
        path = self.directory / f"{name}.wav"
        if path.is_file():
            text = self.directory / f"{name}.txt"
            return path, (text.read_text().strip() or None) if text.is_file() else None
        bundled = bundled_voice(name)
        if bundled is None or not bundled.is_file():
            raise LookupError(f"no voice named {name!r}; GET /v1/voices lists them")
        return bundled, None

    def add(self, name: str, data: bytes, transcript: str | None, check) -> None:
        """Store an upload after `check(samples, sample_rate)` (the synthesiser's prompt checks) passes."""
        check_name(name)
        if len(data) > self.limits.max_bytes:
            raise InputError(f"the upload is larger than {self.limits.max_bytes // (1024 * 1024)} MB")
        try:
            samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except Exception:  # libsndfile raises several types for undecodable bytes
            raise InputError("the upload is not readable audio (WAV, FLAC, OGG or MP3)") from None
        if len(samples) > self.limits.max_seconds * rate:
            raise InputError(f"the upload is {len(samples) / rate:.1f} s long; at most {self.limits.max_seconds:g} s")
        check(samples.mean(axis=1), rate)
        atomic_write(self.directory / f"{name}.wav", lambda tmp: sf.write(tmp, samples, rate, "PCM_16", format="WAV"))
        text = self.directory / f"{name}.txt"
        if transcript and transcript.strip():
            atomic_write(text, lambda tmp: Path(tmp).write_text(transcript.strip()))
        else:
            text.unlink(missing_ok=True)

    def remove(self, name: str) -> None:
        path = self.directory / f"{check_name(name)}.wav"
        if not path.is_file():
            raise LookupError(f"no uploaded voice named {name!r}")
        path.unlink()
        (self.directory / f"{name}.txt").unlink(missing_ok=True)
