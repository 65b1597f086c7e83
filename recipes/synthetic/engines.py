"""The open TTS engines the corpus is spoken by, and the catalog of their English base voices.

An engine that is not installed, or that fails a one-phrase probe, is skipped with a logged
message and listed in the data card; it is never skipped silently.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

PROBE_TEXT = "This is a test."


@dataclass(frozen=True)
class Licence:
    """The terms of a voice's data, as its Debian copyright file gives them."""

    name: str
    commercial: bool  # False: the voice data may not be sold or put in a product that is sold without leave
    source: str  # where the full terms are

    @property
    def use(self) -> str:
        return "any" if self.commercial else "non-commercial"


ESPEAK = Licence("GPL-3.0-or-later (espeak-ng)", True, "espeakng-loader wheel; /usr/share/doc/espeak-ng-data/copyright")
FLITE = Licence("CMU Flite licence (BSD-style)", True, "/usr/share/doc/flite/copyright")
FESTVOX_KED = Licence("CSTR Edinburgh licence (BSD-style)", True, "/usr/share/doc/festvox-kdlpc16k/copyright")
FESTVOX_SLT = Licence("CMU EST-2003, BSD-3-Clause (HTS)", True, "/usr/share/doc/festvox-us-slt-hts/copyright")
MBROLA_EN1 = Licence("MBROLA en1: Edinburgh ROGER terms, any purpose", True, "/usr/share/doc/mbrola-en1/copyright")
MBROLA_NC = Licence(
    "MBROLA database licence: not to be sold or put in a sold product without the owner's leave",
    False,
    "/usr/share/doc/mbrola-NAME/copyright",
)
MBROLA_NC_DE4 = Licence(
    MBROLA_NC.name + "; no military or pornographic use", False, "/usr/share/doc/mbrola-de4/copyright"
)


@dataclass(frozen=True)
class BaseVoice:
    code: int  # two digits, fixed forever: speaker ids are built from it, so ids stay stable
    engine: str
    name: str
    sex: str  # "F" or "M", as the voice sounds
    licence: Licence

    @property
    def key(self) -> str:
        return f"{self.engine}:{self.name}"

    @property
    def real_timbre(self) -> bool:
        """Concatenated from one recorded person's speech (diphones, units, or an HTS model of them)."""
        return self.engine != "espeak"

    @property
    def mbrola_database(self) -> str:
        """The mbrola diphone database: "us1" for mb-us1, "de1" for mb-de1-en (German diphones, English text)."""
        return self.name.split("-", 1)[0]


def _voices(engine: str, first_code: int, names_sex: str, licence: Licence) -> list[BaseVoice]:
    pairs = [item.rsplit("/", 1) for item in names_sex.split()]
    return [BaseVoice(first_code + i, engine, name, sex, licence) for i, (name, sex) in enumerate(pairs)]


# Append only: a voice's code must never change. espeak-ng "+variant" names pick its voice variants;
# mbrola "xx1-en" names are espeak-ng's English voices on another language's diphone database (a
# recorded person's timbre with that language's accent). Sex is as the voice sounds (mbrola: the
# Debian package description and espeak-ng's pitch for it).
CATALOG: list[BaseVoice] = (
    _voices(
        "espeak",
        10,
        "en-us/M en-us+f2/F en-us+m3/M en-us+f4/F en/M en+f3/F en-gb-scotland/M "
        "en-gb-scotland+f1/F en-029/M en-029+f5/F en-gb-x-rp+m5/M en-gb-x-rp+f2/F "
        "en-us-nyc+m7/M en-gb-x-gbclan+m2/M en-gb-x-gbcwmd+f4/F en-us+klatt/M",
        ESPEAK,
    )
    + _voices("mbrola", 40, "us1/F us2/M us3/M", MBROLA_NC)
    + _voices("mbrola", 43, "en1/M", MBROLA_EN1)
    + _voices("flite", 50, "kal16/M awb/M rms/M slt/F", FLITE)
    + _voices("festival", 60, "ked_diphone/M", FESTVOX_KED)
    + _voices("festival", 61, "cmu_us_slt_arctic_hts/F", FESTVOX_SLT)
    + _voices("mbrola", 70, "de1-en/F de2-en/M de3-en/F", MBROLA_NC)
    + _voices("mbrola", 73, "de4-en/M", MBROLA_NC_DE4)
    + _voices(
        "mbrola",
        74,
        "de5-en/F de6-en/M fr1-en/M fr4-en/F nl2-en/M af1-en/M gr2-en/M hu1-en/F pl1-en/F ro1-en/M sw1-en/M sw2-en/F",
        MBROLA_NC,
    )
)
ENGINES = ("espeak", "mbrola", "flite", "festival")


@dataclass(frozen=True)
class Mix:
    """A named choice of catalog voices for a build (`--mix`)."""

    name: str
    description: str
    keep: Callable[[BaseVoice], bool]
    unseen_voices: int  # base voices held out whole, unless --unseen-voices says otherwise

    def voices(self) -> list[BaseVoice]:
        return [v for v in CATALOG if self.keep(v)]


V1_LAST_CODE = 61  # the catalog as the 1-, 6- and 20-hour builds knew it: their speakers must not move
# Corpus v2, decided by the per-voice WER in voice_wer.tsv (recipes/synthetic/README.md): the espeak
# voices as intelligible as the flite voices (WER <= 15%), and every real-timbre voice except the two
# whose sentences nearly all fail the QC (9 and 10 of 10 above WER 0.35).
V2_ESPEAK = (
    "en-us",
    "en-us+f2",
    "en-us+m3",
    "en-029",
    "en-gb-x-rp+m5",
    "en-gb-x-rp+f2",
    "en-us-nyc+m7",
    "en-gb-x-gbclan+m2",
)
V2_DROPPED = ("mbrola:af1-en", "mbrola:pl1-en")
MIXES = {
    m.name: m
    for m in (
        Mix("v1", "the 26 voices of the 1-, 6- and 20-hour builds", lambda v: v.code <= V1_LAST_CODE, 2),
        Mix(
            "v2",
            f"the real-timbre voices but {' '.join(V2_DROPPED)}, and the espeak voices {' '.join(V2_ESPEAK)}",
            lambda v: (v.real_timbre and v.key not in V2_DROPPED) or (v.engine == "espeak" and v.name in V2_ESPEAK),
            3,
        ),
        Mix("all", "the whole catalog", lambda v: True, 2),
        Mix("commercial", "the voices whose licence allows commercial use", lambda v: v.licence.commercial, 2),
    )
}


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
    database = Path("/usr/share/mbrola", voice.mbrola_database, voice.mbrola_database)
    if voice.engine == "mbrola" and not database.is_file():
        return f"mbrola voice file {database} is not installed (Debian package mbrola-{voice.mbrola_database})"
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
