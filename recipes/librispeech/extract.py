"""Stage 1 of the LibriSpeech recipe: σ-VAE latents and phoneme ids of every cut, in the
LatentLM dataset format (tts/data.py). The latent scale/bias are not stored here: training
computes them over the dataset (`tts.data.latent_stats`) into the LatentLM's config.

    python recipes/librispeech/extract.py --manifest data/librispeech/manifests/cuts_train.jsonl.gz \
        --vae exp/libritts/sigma_vae --out data/librispeech/latents/train [--batch-size 16 --device cuda --threads 1]

Audio is read at 24 kHz (soxr) and RMS-normalised as the σ-VAE expects; cuts are encoded in
batches of similar length (right zero-padding does not change a causal encoder's frames, and
each result is cut to ceil(samples / hop) frames). Every `--shard-size` cuts are written to
OUT/shards/ as they finish; a rerun skips the finished shards, so extraction resumes after a
crash. The shards are then joined into OUT/{meta.json, index.jsonl, data.safetensors}.

Under torchrun the shards are dealt to the processes, balanced by duration
(`latentlm_common.jobs`; `--device cuda` then means each process's own GPU), and rank 0 joins
them once all are written:

    torchrun --standalone --nproc-per-node 4 recipes/librispeech/extract.py --manifest ... --device cuda
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from latentlm_common.files import atomic_write
from latentlm_common.jobs import join_group, leave_group, run_batches
from tts.cli.options import add_threads_option
from tts.data import Utterance, write_latent_dataset
from tts.text import PhonemeTokenizer, texts_to_ids
from vae_audio.data import AudioSource
from vae_audio.model import SigmaVAE

SHARDS = "shards"


def special_ids(tok: PhonemeTokenizer) -> dict[str, int]:
    return {
        "pad": tok.pad_id,
        "bos": tok.bos_id,
        "voice": tok.voice_id,
        "voice_end": tok.voice_end_id,
        "text": tok.text_id,
        "text_end": tok.text_end_id,
        "speech": tok.speech_id,
    }


@torch.no_grad()
def encode_batch(vae: SigmaVAE, waves: list[np.ndarray]) -> list[np.ndarray]:
    """Raw latents (T_i, D) of each wave, encoded as one right-padded batch."""
    device = next(vae.parameters()).device
    batch = torch.zeros(len(waves), max(len(w) for w in waves))  # (B, S)
    for i, w in enumerate(waves):
        batch[i, : len(w)] = torch.from_numpy(w)
    mu = vae.encode(batch.to(device)).float().cpu().numpy()  # (B, T, D)
    return [mu[i, : vae.num_frames(len(w))] for i, w in enumerate(waves)]


def extract_shard(
    vae: SigmaVAE, source: AudioSource, tok: PhonemeTokenizer, indices: list[int], batch_size: int, path: Path
) -> None:
    """Encode the cuts `indices` (longest first, in batches) and write one shard atomically."""
    order = sorted(indices, key=lambda i: -source.cuts[i].duration)
    latents: dict[int, np.ndarray] = {}
    for start in range(0, len(order), batch_size):
        part = order[start : start + batch_size]
        latents.update(zip(part, encode_batch(vae, [source.load(i) for i in part])))
    cuts = [source.cuts[i] for i in indices]
    phonemes = texts_to_ids([c.supervisions[0].text for c in cuts], tok)
    index = [
        {"id": c.id, "speaker": str(c.supervisions[0].speaker), "frames": len(latents[i]), "phonemes": ph}
        for c, i, ph in zip(cuts, indices, phonemes)
    ]
    arrays = {"latents": np.concatenate([latents[i] for i in indices]).astype(np.float32)}
    atomic_write(path.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(index)))
    atomic_write(path, lambda tmp: save_file(arrays, tmp))  # last: the .safetensors file marks the shard done


def read_shards(out: Path) -> list[Utterance]:
    utts = []
    for path in sorted((out / SHARDS).glob("*.safetensors")):
        lat = load_file(str(path))["latents"]
        offset = 0
        for r in json.loads(path.with_suffix(".json").read_text()):
            utts.append(Utterance(r["id"], r["speaker"], lat[offset : offset + r["frames"]], r["phonemes"]))
            offset += r["frames"]
    return utts


def extract(
    manifest: Path,
    vae_dir: Path,
    out: Path,
    batch_size: int = 16,
    shard_size: int = 512,
    device: str = "cpu",
    progress: bool = True,
    threads: int | None = None,
) -> int:
    """Run the stage; returns the number of utterances. `threads`: torch threads per process
    (default: this machine's cores shared among its processes)."""
    group = join_group()
    torch.set_num_threads(group.threads(threads))
    if device == "cuda" and group.world > 1:
        device = f"cuda:{group.local_rank}"
    vae = SigmaVAE.from_pretrained(vae_dir, map_location=device).eval()
    audio = vae.config.audio
    source = AudioSource(manifest, audio.sample_rate, audio.target_dbfs)
    tok = PhonemeTokenizer()
    (out / SHARDS).mkdir(parents=True, exist_ok=True)
    shards = [list(range(k, min(len(source), k + shard_size))) for k in range(0, len(source), shard_size)]
    path = lambda shard: out / SHARDS / f"{shard[0] // shard_size:06d}.safetensors"  # noqa: E731

    def render(shard: list[int]) -> float:
        extract_shard(vae, source, tok, shard, batch_size, path(shard))
        return sum(source.cuts[i].duration for i in shard)

    mine = group.share(shards, lambda shard: sum(source.cuts[i].duration for i in shard))
    run_batches(
        [[s] for s in mine],
        lambda b: path(b[0]).is_file(),
        lambda b: render(b[0]),
        group,
        "extract latents",
        "shard",
        progress,
    )
    group.barrier()
    if group.main:
        write_latent_dataset(out, read_shards(out), audio, len(tok), special_ids(tok), tok.to_dict())
    group.barrier()  # the dataset is complete for every rank
    leave_group(group)
    return len(source)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, required=True, help="Lhotse cuts manifest with transcripts (stage 0)")
    p.add_argument("--vae", type=Path, required=True, help="σ-VAE checkpoint directory")
    p.add_argument("--out", type=Path, required=True, help="latent dataset directory")
    p.add_argument("--batch-size", type=int, default=16, help="cuts per encoder call")
    p.add_argument("--shard-size", type=int, default=512, help="cuts per resumable shard")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    add_threads_option(p)
    args = p.parse_args(argv)
    n = extract(args.manifest, args.vae, args.out, args.batch_size, args.shard_size, args.device, threads=args.threads)
    print(f"{n} utterances in {args.out}")


if __name__ == "__main__":
    main()
