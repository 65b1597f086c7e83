"""Speaker encoders behind one interface: `embed(audio, sample_rate) -> (dim,)` unit vector.

SIM between two utterances is the cosine of their embeddings. `resemblyzer` works offline;
`wavlm` (WavLM + x-vector head, the family of the paper's WavLM-TDNN) and `ecapa` (speechbrain)
load from the hub or a local directory.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from tts.eval.asr import ASR_RATE, to_16k


class SpeakerEncoder(Protocol):
    name: str

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray: ...


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float32).reshape(-1)
    return v / (np.linalg.norm(v) + 1e-12)


class ResemblyzerEncoder:
    """GE2E d-vectors from resemblyzer (weights in the wheel); its VAD trims silences first."""

    name = "resemblyzer"

    def __init__(self, device: str = "cpu"):
        from resemblyzer import VoiceEncoder

        self.encoder = VoiceEncoder(device=device, verbose=False)

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        from resemblyzer import preprocess_wav

        return _unit(self.encoder.embed_utterance(preprocess_wav(to_16k(audio, sample_rate), source_sr=ASR_RATE)))


class WavLMEncoder:
    """WavLM with an x-vector head (`WavLMForXVector`), e.g. microsoft/wavlm-base-plus-sv."""

    name = "wavlm"
    DEFAULT = "microsoft/wavlm-base-plus-sv"

    def __init__(self, model: str = DEFAULT, device: str = "cpu"):
        import torch
        from transformers import AutoFeatureExtractor, WavLMForXVector

        self.torch = torch
        self.features = AutoFeatureExtractor.from_pretrained(model)
        self.model = WavLMForXVector.from_pretrained(model).eval().to(device)

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        inputs = self.features(to_16k(audio, sample_rate), sampling_rate=ASR_RATE, return_tensors="pt")
        device = next(self.model.parameters()).device
        with self.torch.inference_mode():
            out = self.model(inputs.input_values.to(device)).embeddings  # (1, dim)
        return _unit(out[0].cpu().numpy())


class EcapaEncoder:
    """ECAPA-TDNN from speechbrain; an optional extra, since speechbrain needs torchaudio."""

    name = "ecapa"
    DEFAULT = "speechbrain/spkrec-ecapa-voxceleb"

    def __init__(self, model: str = DEFAULT, device: str = "cpu"):
        try:
            import torch
            from speechbrain.inference.speaker import EncoderClassifier
        except Exception as e:  # ImportError, or torchaudio failing inside speechbrain's import
            raise RuntimeError(
                f"the ecapa backend needs speechbrain (and torchaudio): {type(e).__name__}: {e}"
            ) from None
        self.torch = torch
        self.model = EncoderClassifier.from_hparams(source=model, run_opts={"device": device})

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        wav = self.torch.from_numpy(to_16k(audio, sample_rate))[None]
        with self.torch.inference_mode():
            return _unit(self.model.encode_batch(wav).cpu().numpy())


SIM_BACKENDS = {"resemblyzer": ResemblyzerEncoder, "wavlm": WavLMEncoder, "ecapa": EcapaEncoder}


def load_speaker_encoder(name: str, **kwargs) -> SpeakerEncoder:
    if name not in SIM_BACKENDS:
        raise ValueError(f"unknown speaker-similarity backend {name!r}; choose from {', '.join(SIM_BACKENDS)}")
    return SIM_BACKENDS[name](**kwargs)
