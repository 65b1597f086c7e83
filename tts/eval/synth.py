"""Synthesise a zero-shot test list (tts/eval/protocol.py) with a TTS checkpoint, one wav per item.

Setting A passes the prompt as a voice prompt; setting B passes the prefix and its words as a
continuation prompt (`voice_text`), so the audio written is the continuation only. Each item's
seed is `seed` plus its position in the list. Files are written atomically and existing ones
are kept, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from tts.eval.protocol import TestItem
from vae_audio.errors import InputError

log = logging.getLogger(__name__)


def synthesize_items(tts, items: list[TestItem], out_dir: str | Path, cfg_scale: float | None = None,
                     steps: int | None = None, seed: int = 0, progress: bool = True) -> dict[str, int]:
    """Write out_dir/<id>.wav for every item; returns the counts of files written, kept from an
    earlier run, failed (the prompt was refused) and ended by the length guard."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    options = {k: v for k, v in (("cfg_scale", cfg_scale), ("steps", steps)) if v is not None}
    counts = {"written": 0, "kept": 0, "failed": 0, "length_guard": 0}
    for n, item in enumerate(tqdm(items, desc="synthesize", unit="utt", disable=not progress)):
        path = out / f"{item.id}.wav"
        if path.is_file():
            counts["kept"] += 1
            continue
        try:
            prompt = item.prompt.load(tts.sample_rate)
            audio = tts.synthesize(item.text, voice=prompt, voice_text=item.prompt_text, seed=seed + n, **options)
        except InputError as e:  # e.g. a prompt with too little sound; the table reports it as missing
            log.warning("%s: not synthesised: %s", item.id, e)
            counts["failed"] += 1
            continue
        counts["length_guard"] += audio.length_guard_hit
        tmp = path.with_suffix(".tmp.wav")
        sf.write(tmp, audio.samples, audio.sample_rate)
        os.replace(tmp, path)
        counts["written"] += 1
    return counts
