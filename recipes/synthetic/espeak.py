"""Waveform synthesis through the libespeak-ng shipped in the `espeakng-loader` wheel (no apt needed).

Hand-written ctypes binding because the pip wrappers we found only phonemize; this one calls the
synthesis API in synchronous mode and collects the samples from the callback.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
CHARS_UTF8 = 1
PARAM_RATE, PARAM_PITCH, PARAM_RANGE = 1, 3, 4
DEFAULT_RATE, DEFAULT_PITCH, DEFAULT_RANGE = 175, 50, 50  # espeak-ng's own defaults (wpm, 0-100, 0-100)

# int callback(short *wav, int numsamples, espeak_EVENT *events); returning 0 continues synthesis
SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakEvent(ctypes.Structure):
    """espeak_EVENT of speak_lib.h (the union `id` as 8 bytes)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds from the start of the synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


EVENT_LIST_END, EVENT_WORD = 0, 1


class EspeakLibrary:
    """One initialised libespeak-ng per process (the C library keeps global state)."""

    def __init__(self, lib_path: str, data_path: str):
        self.lib = ctypes.CDLL(lib_path)
        self.libc = ctypes.CDLL(None)  # the process's C library, whose rand() espeak-ng draws noise from
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.sample_rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed for data path {data_path}")
        self._chunks: list[np.ndarray] = []
        self.words: list[tuple[int, int, float]] = []  # of the last synth: (text start, length, seconds)
        self._callback = SYNTH_CALLBACK(self._collect)  # kept alive on self: C holds only a raw pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, n, events) -> int:
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        event = ctypes.cast(events, ctypes.POINTER(EspeakEvent)) if events else None
        for k in range(10_000) if event else ():
            if event[k].type == EVENT_LIST_END:
                break
            if event[k].type == EVENT_WORD:
                self.words.append((event[k].text_position - 1, event[k].length, event[k].audio_position / 1000))
        return 0

    def synth(
        self,
        text: str,
        voice: str,
        rate: int = DEFAULT_RATE,
        pitch: int = DEFAULT_PITCH,
        pitch_range: int = DEFAULT_RANGE,
    ) -> np.ndarray:
        """Speak `text` with voice name `voice` (e.g. "en-us+m3"); returns float32 at `sample_rate`.
        Afterwards `words` holds each word's (start character, length, start time in seconds)."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice named {voice!r}")
        for param, value in ((PARAM_RATE, rate), (PARAM_PITCH, pitch), (PARAM_RANGE, pitch_range)):
            self.lib.espeak_SetParameter(param, int(value), 0)
        self._chunks, self.words = [], []
        self.lib.espeak_ng_SetRandSeed(ctypes.c_long(0))  # espeak-ng's own generator (intonation, noise)
        self.libc.srand(0)  # and the libc rand() it also draws from
        data = text.encode("utf-8") + b"\0"
        err = self.lib.espeak_Synth(data, len(data), 0, 0, 0, CHARS_UTF8, None, None)
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed with error {err} for voice {voice!r}")
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return pcm.astype(np.float32) / 32768.0


@lru_cache(maxsize=1)
def espeak_library() -> EspeakLibrary:
    """The process-wide espeak-ng instance, created on first use (never at import)."""
    import espeakng_loader

    return EspeakLibrary(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())
