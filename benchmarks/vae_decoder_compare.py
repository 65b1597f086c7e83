"""Decoder head comparison: iSTFT (Vocos-style) vs transposed convolutions, at equal CPU time.

    python benchmarks/vae_decoder_compare.py --train DIR --eval DIR --head istft --cpu-seconds 600

Trains one σ-VAE of --preset with the given head on reconstruction losses only (mel + STFT + μ L2,
the warm-up phase of train.py) for a fixed budget of process CPU time on one thread, and prints
Mel distance / PESQ / STOI on the --eval utterances (and the --train ones) at 1/4, 1/2 and the
full budget. Evaluation time is not counted. Run once per head, on the same data and budget.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from vae_audio.config import VAE_PRESETS, VAEConfig
from vae_audio.data import AudioSource, CropDataset
from vae_audio.losses import GeneratorLoss
from vae_audio.metrics import evaluate
from vae_audio.model import SigmaVAE


def summary(model: SigmaVAE, source: AudioSource) -> dict:
    model.eval()
    scores = evaluate(model, source)
    model.train()
    return {k: round(float(np.nanmean([getattr(s, k) for s in scores])), 4) for k in ("mel_distance", "pesq", "stoi")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", required=True)
    p.add_argument("--eval", required=True)
    p.add_argument("--head", choices=["istft", "upsample"], required=True)
    p.add_argument("--preset", default="small", choices=sorted(VAE_PRESETS))
    p.add_argument("--cpu-seconds", type=float, default=600.0)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--crop-seconds", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    model = SigmaVAE.from_preset(args.preset, head=args.head)
    cfg: VAEConfig = model.config
    loss = GeneratorLoss(cfg.audio.sample_rate, cfg.loss)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.8, 0.99))
    train_src = AudioSource(args.train, cfg.audio.sample_rate, cfg.audio.target_dbfs)
    eval_src = AudioSource(args.eval, cfg.audio.sample_rate, cfg.audio.target_dbfs)
    crop = max(1, round(args.crop_seconds * cfg.audio.frame_rate)) * cfg.audio.hop
    data = CropDataset(train_src, crop, args.seed)
    params = sum(q.numel() for q in model.decoder.parameters())
    marks = [args.cpu_seconds / 4, args.cpu_seconds / 2, args.cpu_seconds]
    spent, step = 0.0, 0
    while marks:
        t0 = time.process_time()
        x = torch.stack([data[step * args.batch_size + j] for j in range(args.batch_size)])
        out = model(x, torch.Generator().manual_seed(step))
        total, _ = loss(out.audio, x, out.mu)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        spent += time.process_time() - t0
        step += 1
        if spent >= marks[0]:
            marks.pop(0)
            row = {
                "head": args.head,
                "decoder_params": params,
                "cpu_seconds": round(spent, 1),
                "steps": step,
                "eval": summary(model, eval_src),
                "train": summary(model, train_src),
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
