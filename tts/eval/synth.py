"""Synthesise the zero-shot test lists (tts/eval/protocol.py) with a TTS, one wav per item, through
the batch job (`latentlm-tts batch`, tts/batch/).

Setting A passes the prompt as a voice prompt; setting B passes the prefix and its words as a
continuation prompt (`voice_text`), so the audio written is the continuation only. Each item's
seed is a hash of its id plus `seed`, so an item sounds the same whatever else is in the list.
OUT/<setting>.batch.jsonl is the job's manifest (prompt stretches that are not whole files are cut
to OUT/prompts/<setting>/), OUT/<setting>/<id>.wav its output, with OUT/<setting>/manifest.jsonl.
Finished batches are kept, so an interrupted run resumes; under torchrun every process renders its
share.
"""

from __future__ import annotations

import json
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from latentlm_common.audio import rms_normalize, save_audio
from latentlm_common.files import atomic_write
from latentlm_common.jobs import ALONE, Group
from tts.batch.manifest import item_seed
from tts.eval.protocol import Clip, TestItem


def synthesize_lists(
    tts,
    lists: dict[str, list[TestItem]],
    out: str | Path,
    guidance_scale: float | None = None,
    steps: int | None = None,
    seed: int = 0,
    *,
    retries: int = 0,
    batch_size: int = 8,
    group: Group = ALONE,
    progress: bool = True,
) -> None:
    """Write OUT/<setting>/<id>.wav for every item of every list (see the module's docstring) and
    report each setting's counts; `retries` 0 keeps the raw model's first take."""
    from tts.batch.render import Job, run_job

    out = Path(out)
    guidance_scale, steps = tts.resolve_settings(guidance_scale, steps)  # InputError here, not once per item
    if group.main:
        for setting, items in lists.items():
            write_batch_manifest(items, out, setting, seed)
    group.barrier()
    for setting in lists:
        job = Job(out / setting, batch_size=batch_size, retries=retries, progress=progress)
        s = run_job(tts, out / f"{setting}.batch.jsonl", job, group, guidance_scale, steps)
        if s is not None:
            tqdm.write(f"setting {setting}: {s.items} items, written {s.items - s.refused}, failed {s.refused}, "
                       f"flagged {s.flagged}")  # fmt: skip


def write_batch_manifest(items: list[TestItem], out: Path, setting: str, seed: int) -> Path:
    """OUT/<setting>.batch.jsonl: each test item as a batch item (its seed from its id and `seed`)."""
    rows = [
        {"id": i.id, "text": i.text, "voice": prompt_file(i.prompt, out / "prompts" / setting / f"{i.id}.flac"),
         "voice_text": i.prompt_text, "seed": (item_seed(i.id) + seed) % 2**31}
        for i in items
    ]  # fmt: skip
    path = out / f"{setting}.batch.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def prompt_file(clip: Clip, cut: Path) -> str:
    """The clip's own file when it is the whole file, else the stretch written to `cut` (once)."""
    whole = clip.start == 0 and (clip.end is None or abs(clip.end - sf.info(clip.path).duration) < 1e-3)
    if whole:
        return str(Path(clip.path).resolve())
    if not cut.is_file():
        save_audio(cut, clip.load(sf.info(clip.path).samplerate), sf.info(clip.path).samplerate)
    return str(cut.resolve())


def resynthesize_items(vae, items: list[TestItem], out_dir: str | Path, progress: bool = True) -> dict[str, int]:
    """The codec's ceiling: out_dir/<id>.wav is the σ-VAE's reconstruction of each item's target
    (level-normalised as the TTS normalises prompts, encoded, decoded from μ). Scored like a system,
    it shows how much WER and SIM the codec alone costs."""
    sr, out = vae.config.audio.sample_rate, Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {"written": 0, "kept": 0}
    for item in tqdm(items, desc="resynthesize", unit="utt", disable=not progress):
        path = out / f"{item.id}.wav"
        if path.is_file():  # an interrupted run resumes
            counts["kept"] += 1
            continue
        y = vae.reconstruct(rms_normalize(item.target.load(sr), vae.config.audio.target_dbfs))
        atomic_write(path, lambda tmp, y=y: sf.write(tmp, y, sr, format="WAV"))
        counts["written"] += 1
    return counts
