"""Zero-shot TTS evaluation: ASR backends for WER, speaker encoders for SIM, one WER normaliser.

| name          | kind | weights                                         | needs            |
|---------------|------|-------------------------------------------------|------------------|
| `moonshine`   | ASR  | Moonshine base-en, shipped in the wheel         | moonshine-cpp    |
| `pocketsphinx`| ASR  | en-us acoustic model, shipped in the wheel      | pocketsphinx     |
| `hubert`      | ASR  | facebook/hubert-large-ls960-ft (the paper's WER-H), hub | transformers |
| `resemblyzer` | SIM  | GE2E speaker encoder, shipped in the wheel      | resemblyzer      |
| `wavlm`       | SIM  | microsoft/wavlm-base-plus-sv, hub               | transformers     |
| `ecapa`       | SIM  | speechbrain/spkrec-ecapa-voxceleb, hub          | speechbrain      |

The protocol of the paper's Table 4 builds on them: `protocol.py` (test lists of settings A and B),
`synth.py` (synthesis of a list), `score.py` (per-utterance scores and the table), `worker.py`
(an ASR backend in a recycled child process).
"""

from tts.eval.asr import ASR_BACKENDS, load_asr
from tts.eval.similarity import SIM_BACKENDS, cosine, load_speaker_encoder
from tts.eval.wer import normalize_for_wer, wer

__all__ = ["ASR_BACKENDS", "SIM_BACKENDS", "cosine", "load_asr", "load_speaker_encoder", "normalize_for_wer", "wer"]
