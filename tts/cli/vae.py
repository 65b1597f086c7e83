"""`latentlm-tts vae encode|decode|eval|stats`: the σ-VAE audio tokenizer from the command line.

    latentlm-tts vae encode IN.wav -o Z.npy            # (T, 32) float32 raw latents μ, T = ceil(seconds · 15)
    latentlm-tts vae decode Z.npy -o OUT.wav
    latentlm-tts vae eval --ckpt DIR AUDIO_DIR_OR_MANIFEST   # Mel dist / PESQ / STOI / compression ratio
    latentlm-tts vae stats --ckpt DIR AUDIO_DIR_OR_MANIFEST  # print the latent scale/bias; writes nothing

`--ckpt` defaults to the σ-VAE bundled with the package (tts/pretrained/default/vae) when one
exists, except for `stats`, which needs it given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

BUNDLED_VAE = Path(__file__).resolve().parent.parent / "pretrained" / "default" / "vae"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "vae",
        help="encode audio to σ-VAE latents, decode them, evaluate a σ-VAE",
        description="The σ-VAE audio tokenizer: 24 kHz audio <-> 15 Hz latents.",
    )
    sub = parser.add_subparsers(dest="vae_command", metavar="ACTION", required=True)
    ckpt = argparse.ArgumentParser(add_help=False)
    ckpt.add_argument(
        "--ckpt", type=Path, default=None, help=f"σ-VAE checkpoint directory (default: the bundled one, {BUNDLED_VAE})"
    )
    p = sub.add_parser("encode", parents=[ckpt], help="audio file -> latents (.npy, shape (T, latent_dim))")
    p.add_argument("input", type=Path, metavar="IN", help="audio file (wav, flac, ogg, mp3)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="Z.npy")
    p.set_defaults(func=run_encode)
    p = sub.add_parser("decode", parents=[ckpt], help="latents (.npy) -> audio file")
    p.add_argument("input", type=Path, metavar="Z.npy", help="raw latents, shape (T, latent_dim) or (1, T, latent_dim)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.wav")
    p.set_defaults(func=run_decode)
    p = sub.add_parser("eval", parents=[ckpt], help="reconstruction quality over a set of utterances")
    add_data_args(p)
    p.set_defaults(func=run_eval)
    p = sub.add_parser(
        "stats",
        help="print the latent scale/bias over a set of utterances (writes nothing)",
        description="Encode the utterances with the σ-VAE of --ckpt and print the latent scale and bias "
        "(tts.data.latent_stats over every value), to inspect a σ-VAE or a corpus. Nothing is written: "
        "the only stored pair is a LatentLM's own (config.json, lm.latent_scale/latent_bias), which "
        "python -m tts.train computes over its training latents, and which must not change after training.",
    )
    p.add_argument("--ckpt", type=Path, required=True, help="σ-VAE checkpoint directory")
    add_data_args(p)
    p.set_defaults(func=run_stats)


def add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data",
        type=Path,
        metavar="AUDIO_DIR_OR_MANIFEST",
        help="directory of audio files or a Lhotse cuts/recordings manifest",
    )
    p.add_argument(
        "--limit", type=int, default=None, help="use at most this many utterances, evenly spaced over the list"
    )


def load_vae(ckpt: Path | None):
    from latentlm_common.errors import InputError
    from vae_audio.model import SigmaVAE

    if ckpt is None:
        if not (BUNDLED_VAE / "config.json").is_file():
            raise InputError(f"no --ckpt given and no bundled σ-VAE at {BUNDLED_VAE}; pass --ckpt DIR.")
        ckpt = BUNDLED_VAE
    if not ckpt.is_dir():
        raise InputError(f"{ckpt}: no such checkpoint directory.")
    return SigmaVAE.from_pretrained(ckpt)


def run_encode(args) -> int:
    import numpy as np
    import torch

    from latentlm_common.audio import load_audio

    vae = load_vae(args.ckpt)
    audio = vae.config.audio
    x = load_audio(args.input, audio.sample_rate, normalize_dbfs=audio.target_dbfs, trim=False)
    with torch.no_grad():
        mu = vae.encode(torch.from_numpy(x)[None])[0]  # (T, D)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.output, mu.numpy().astype(np.float32))
    print(f"{args.output}: {mu.shape[0]} frames x {mu.shape[1]} ({len(x) / audio.sample_rate:.2f} s)")
    return 0


def read_latents(path: Path, latent_dim: int):
    """A .npy of shape (T, D) or (1, T, D) with D == latent_dim -> float32 (T, D); else InputError."""
    import numpy as np

    from latentlm_common.errors import InputError

    if not path.is_file():
        raise InputError(f"{path}: no such latent file.")
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError):
        raise InputError(f"{path}: not a NumPy .npy file.") from None
    if z.ndim == 3 and z.shape[0] == 1:
        z = z[0]
    if z.ndim != 2 or z.shape[1] != latent_dim or z.shape[0] == 0:
        raise InputError(f"{path}: latents must have shape (frames, {latent_dim}); got {z.shape}.")
    if not np.issubdtype(z.dtype, np.floating) or not np.all(np.isfinite(z)):
        raise InputError(f"{path}: latents must be finite floating-point numbers (dtype {z.dtype}).")
    return z.astype(np.float32)


def run_decode(args) -> int:
    import torch

    from latentlm_common.audio import save_audio

    vae = load_vae(args.ckpt)
    z = read_latents(args.input, vae.config.audio.latent_dim)
    with torch.no_grad():
        y = vae.decode(torch.from_numpy(z)[None])[0].numpy()
    save_audio(args.output, y, vae.config.audio.sample_rate)
    print(f"{args.output}: {len(y) / vae.config.audio.sample_rate:.2f} s from {len(z)} frames")
    return 0


def run_eval(args) -> int:
    from vae_audio.data import AudioSource
    from vae_audio.metrics import CodecMetrics, evaluate

    vae = load_vae(args.ckpt)
    audio = vae.config.audio
    scores = evaluate(vae, AudioSource(args.data, audio.sample_rate, audio.target_dbfs), args.limit, progress=True)
    print(CodecMetrics(audio).table(scores))
    return 0


def run_stats(args) -> int:
    import torch
    from tqdm import tqdm

    from tts.data import latent_stats
    from vae_audio.data import AudioSource
    from vae_audio.metrics import spaced

    vae = load_vae(args.ckpt)
    source = AudioSource(args.data, vae.config.audio.sample_rate, vae.config.audio.target_dbfs)
    chosen = spaced(len(source), args.limit)
    with torch.no_grad():
        latents = (
            vae.encode(torch.from_numpy(source.load(i))[None])[0].numpy()
            for i in tqdm(chosen, desc="vae stats", unit="utt")
        )
        scale, bias = latent_stats(latents)
    print(f"latent_scale={scale:.6g} latent_bias={bias:.6g} over {len(chosen)} utterances")
    return 0
