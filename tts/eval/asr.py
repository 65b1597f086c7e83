"""Speech recognisers behind one interface: `transcribe(audio, sample_rate) -> str`.

The offline backends (`moonshine`, `pocketsphinx`) carry their weights in their wheels. `hubert`
is the paper's WER-H model and loads from the Hugging Face hub, or from any local directory
holding a `HubertForCTC` checkpoint and its processor.
"""

from __future__ import annotations

import os
import tempfile
from typing import Protocol

import numpy as np
import soundfile as sf
import soxr

ASR_RATE = 16000  # every backend here takes 16 kHz mono


class ASR(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> str: ...


def to_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    audio = np.asarray(audio, np.float32).reshape(-1)
    return audio if sample_rate == ASR_RATE else soxr.resample(audio, sample_rate, ASR_RATE).astype(np.float32)


class MoonshineASR:
    """Moonshine base-en through moonshine-cpp; 0.5 s of silence is padded on both sides, since
    without it words at the very edges of a clip are often lost. With that padding it returns
    nothing for some clips of plain speech (5 of 440 generated setting-A clips: 1 % of the items,
    each scored as all words wrong), which 0.25 s transcribes; an empty result is tried again so."""

    name = "moonshine"
    PAD_SECONDS = 0.5
    RETRY_PAD_SECONDS = 0.25

    def __init__(self):
        import moonshine_cpp

        self.model = moonshine_cpp.MoonshineModel(language="en")

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> str:
        x = to_16k(audio, sample_rate)
        return self._padded(x, self.PAD_SECONDS) or self._padded(x, self.RETRY_PAD_SECONDS)

    def _padded(self, x: np.ndarray, seconds: float) -> str:
        pad = np.zeros(int(seconds * ASR_RATE), np.float32)
        fd, path = tempfile.mkstemp(suffix=".wav")  # its API reads a file
        os.close(fd)
        try:
            sf.write(path, np.concatenate([pad, x, pad]), ASR_RATE, subtype="PCM_16")
            return self.model.transcribe_wav(path).strip()
        finally:
            os.unlink(path)


class PocketsphinxASR:
    name = "pocketsphinx"

    def __init__(self):
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=ASR_RATE, loglevel="FATAL")

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> str:
        pcm = (np.clip(to_16k(audio, sample_rate), -1, 1) * 32767).astype(np.int16).tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""


class HubertASR:
    """HuBERT-Large fine-tuned for CTC on LibriSpeech 960 h (greedy decoding), the paper's WER-H."""

    name = "hubert"
    DEFAULT = "facebook/hubert-large-ls960-ft"

    def __init__(self, model: str = DEFAULT, device: str = "cpu"):
        import torch
        from transformers import AutoProcessor, HubertForCTC

        self.torch = torch
        self.processor = AutoProcessor.from_pretrained(model)
        self.model = HubertForCTC.from_pretrained(model).eval().to(device)

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> str:
        inputs = self.processor(to_16k(audio, sample_rate), sampling_rate=ASR_RATE, return_tensors="pt")
        device = next(self.model.parameters()).device
        with self.torch.inference_mode():
            logits = self.model(inputs.input_values.to(device)).logits  # (1, frames, vocab)
        ids = logits.argmax(-1)[0].cpu()
        return self.processor.decode(ids, skip_special_tokens=True).strip()


ASR_BACKENDS = {"moonshine": MoonshineASR, "pocketsphinx": PocketsphinxASR, "hubert": HubertASR}


def load_asr(name: str, **kwargs) -> ASR:
    if name not in ASR_BACKENDS:
        raise ValueError(f"unknown ASR backend {name!r}; choose from {', '.join(ASR_BACKENDS)}")
    return ASR_BACKENDS[name](**kwargs)
