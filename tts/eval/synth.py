"""Synthesise a zero-shot test list (tts/eval/protocol.py) with a TTS checkpoint, one wav per item.

Setting A passes the prompt as a voice prompt; setting B passes the prefix and its words as a
continuation prompt (`voice_text`), so the audio written is the continuation only. Each item's
seed is `seed` plus its position in the list. Files are written atomically and existing ones
are kept, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import logging
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from latentlm_common.errors import InputError
from latentlm_common.files import atomic_write
from tts.eval.protocol import TestItem

log = logging.getLogger(__name__)


def synthesize_items(
    tts,
    items: list[TestItem],
    out_dir: str | Path,
    guidance_scale: float | None = None,
    steps: int | None = None,
    seed: int = 0,
    progress: bool = True,
    retries: int = 0,
) -> dict[str, int]:
    """Write out_dir/<id>.wav for every item; returns the counts of files written, kept from an
    earlier run, failed (the prompt was refused) and ended by the length guard."""
    guidance_scale, steps = tts.resolve_settings(guidance_scale, steps)  # InputError here, not once per item
    options = {"guidance_scale": guidance_scale, "steps": steps, "retries": retries}

    def make(n: int, item: TestItem):
        prompt = item.prompt.load(tts.sample_rate)
        audio = tts.synthesize(item.text, voice=prompt, voice_text=item.prompt_text, seed=seed + n, **options)
        return audio.samples, audio.sample_rate, audio.length_guard_hit

    return _write_items(items, out_dir, make, "synthesize", progress)


def resynthesize_items(vae, items: list[TestItem], out_dir: str | Path, progress: bool = True) -> dict[str, int]:
    """The codec's ceiling: out_dir/<id>.wav is the σ-VAE's reconstruction of each item's target
    (level-normalised as the TTS normalises prompts, encoded, decoded from μ). Scored like a system,
    it shows how much WER and SIM the codec alone costs."""
    from latentlm_common.audio import rms_normalize

    sr = vae.config.audio.sample_rate

    def make(n: int, item: TestItem):
        return vae.reconstruct(rms_normalize(item.target.load(sr), vae.config.audio.target_dbfs)), sr, False

    return _write_items(items, out_dir, make, "resynthesize", progress)


def _write_items(items: list[TestItem], out_dir: str | Path, make, desc: str, progress: bool) -> dict[str, int]:
    """make(n, item) -> (samples, sample_rate, length guard hit) for each item without a wav yet."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {"written": 0, "kept": 0, "failed": 0, "length_guard": 0}
    for n, item in enumerate(tqdm(items, desc=desc, unit="utt", disable=not progress)):
        path = out / f"{item.id}.wav"
        if path.is_file():
            counts["kept"] += 1
            continue
        try:
            samples, sample_rate, guard = make(n, item)
        except InputError as e:  # e.g. a prompt with too little sound; the table reports it as missing
            log.warning("%s: not synthesised: %s", item.id, e)
            counts["failed"] += 1
            continue
        counts["length_guard"] += guard
        _write_wav(path, samples, sample_rate)
        counts["written"] += 1
    return counts


def _write_wav(path: Path, samples, sample_rate: int) -> None:
    atomic_write(path, lambda tmp: sf.write(tmp, samples, sample_rate, format="WAV"))
