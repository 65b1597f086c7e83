"""The open TTS engines the corpus is spoken by, and the catalog of their English base voices.

An engine that is not installed, or that fails a one-phrase probe, is skipped with a logged
message and listed in the data card; it is never skipped silently.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

PROBE_TEXT = "This is a test."


@dataclass(frozen=True)
class BaseVoice:
    code: int  # two digits, fixed forever: speaker ids are built from it, so ids stay stable
    engine: str
    name: str
    sex: str  # "F" or "M", as the voice sounds

    @property
    def key(self) -> str:
        return f"{self.engine}:{self.name}"


def _voices(engine: str, first_code: int, names_sex: str) -> list[BaseVoice]:
    pairs = [item.rsplit("/", 1) for item in names_sex.split()]
    return [BaseVoice(first_code + i, engine, name, sex) for i, (name, sex) in enumerate(pairs)]


# Append only: a voice's code must never change. espeak-ng "+variant" names pick its voice variants.
CATALOG: list[BaseVoice] = (
    _voices(
        "espeak",
        10,
        "en-us/M en-us+f2/F en-us+m3/M en-us+f4/F en/M en+f3/F en-gb-scotland/M "
        "en-gb-scotland+f1/F en-029/M en-029+f5/F en-gb-x-rp+m5/M en-gb-x-rp+f2/F "
        "en-us-nyc+m7/M en-gb-x-gbclan+m2/M en-gb-x-gbcwmd+f4/F en-us+klatt/M",
    )
    + _voices("mbrola", 40, "us1/F us2/M us3/M en1/M")
    + _voices("flite", 50, "kal16/M awb/M rms/M slt/F")
    + _voices("festival", 60, "ked_diphone/M cmu_us_slt_arctic_hts/F")
)
ENGINES = ("espeak", "mbrola", "flite", "festival")


def synthesize(voice: BaseVoice, text: str) -> tuple[np.ndarray, int]:
    """Speak `text` with a base voice; returns (float32 mono samples, sample rate)."""
    if voice.engine == "espeak":
        from recipes.synthetic.espeak import espeak_library

        lib = espeak_library()
        return lib.synth(text, voice.name), lib.sample_rate
    if voice.engine == "mbrola":  # espeak-ng drives mbrola through the Debian binary and voice files
        return _run_to_wav(["espeak-ng", "-v", f"mb-{voice.name}", "-f", "{text}", "-w", "{wav}"], text)
    if voice.engine == "flite":
        return _run_to_wav(["flite", "-voice", voice.name, "-f", "{text}", "-o", "{wav}"], text)
    if voice.engine == "festival":
        return _run_to_wav(["text2wave", "-eval", f"(voice_{voice.name})", "{text}", "-o", "{wav}"], text)
    raise ValueError(f"unknown engine {voice.engine!r}")


def _run_to_wav(argv: list[str], text: str) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        text_path, wav_path = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
        text_path.write_text(text + "\n", encoding="utf-8")
        argv = [a.format(text=text_path, wav=wav_path) for a in argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or not wav_path.is_file():
            raise RuntimeError(f"{argv[0]} failed (exit {proc.returncode}): {proc.stderr.strip()[:200]}")
        x, sr = sf.read(str(wav_path), dtype="float32", always_2d=True)
    return x.mean(axis=1), sr


def missing_requirement(voice: BaseVoice) -> str | None:
    """Why `voice` cannot be used here (a missing program or voice file), or None when it can."""
    if voice.engine == "espeak":
        return None  # the library ships in the espeakng-loader wheel, a base dependency
    needs = {"mbrola": ["espeak-ng", "mbrola"], "flite": ["flite"], "festival": ["text2wave"]}[voice.engine]
    for program in needs:
        if shutil.which(program) is None:
            return f"program {program!r} is not installed"
    if voice.engine == "mbrola" and not Path("/usr/share/mbrola", voice.name, voice.name).is_file():
        return f"mbrola voice file /usr/share/mbrola/{voice.name}/{voice.name} is not installed"
    if voice.engine == "festival" and not any(Path("/usr/share/festival/voices").glob(f"*/{voice.name}")):
        return f"festival voice {voice.name} is not installed under /usr/share/festival/voices"
    return None


def probe(voice: BaseVoice) -> str | None:
    """Speak one short phrase; returns why the voice is unusable, or None if it works."""
    reason = missing_requirement(voice)
    if reason is not None:
        return reason
    try:
        x, sr = synthesize(voice, PROBE_TEXT)
    except Exception as e:  # any engine failure means "skip this voice", reported with its cause
        return f"probe synthesis failed: {str(e).strip()[:200] or type(e).__name__}"
    if x.size < sr // 4 or not np.all(np.isfinite(x)) or float(np.abs(x).max()) < 1e-3:
        return "probe synthesis produced no usable audio"
    return None


def resolve_voices(engines: list[str], voices: list[BaseVoice] | None = None) -> tuple[list[BaseVoice], list[str]]:
    """Usable base voices of the requested engines, plus one message per skipped engine or voice."""
    voices = CATALOG if voices is None else voices
    skipped = [f"engine {e!r} is unknown (known: {', '.join(ENGINES)}); skipped" for e in engines if e not in ENGINES]
    usable = []
    for voice in voices:
        if voice.engine not in engines:
            continue
        reason = probe(voice)
        if reason is None:
            usable.append(voice)
        else:
            skipped.append(f"voice {voice.key} skipped: {reason}")
    for message in skipped:
        log.warning(message)
    return usable, skipped
