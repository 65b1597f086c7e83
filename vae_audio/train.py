"""Train a σ-VAE; one process per device under torchrun (or a plain single process).

    torchrun --nproc-per-node 2 -m vae_audio.train --data DIR_OR_MANIFEST --out runs/vae --preset small

DDP uses nccl on GPUs and gloo on CPUs; CUDA runs in bf16 autocast. The first
`loss.warmup_steps` steps train on reconstruction only (mel, STFT, μ L2), then the discriminators
join (LSGAN + feature matching). Every `--save-every` steps rank 0 writes a loadable checkpoint
(config.json + model.safetensors) and the training state; running the same command again
resumes exactly, since batches and σ-VAE noise are functions of (seed, step, rank) and no global
RNG is used. The latents' scale and bias are not the σ-VAE's business: the LatentLM computes them
over its training latents (`tts.data.latent_stats`) and stores them in its own config.

No EMA of the generator: the codecs this follows (DAC, Vocos, EnCodec) train without one, the
discriminator is fitted to the live generator rather than to an average, and an EMA copy would
add a third model's memory to CPU training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from latentlm_common.distributed import Dist, setup_distributed, teardown_distributed
from latentlm_common.train_cli import add_trainer_flags
from vae_audio.checkpoint import WEIGHTS_NAME, load_training_state, read_config, save_model, save_training_state
from vae_audio.config import VAE_PRESETS, VAEConfig
from vae_audio.data import AudioSource, CropDataset, StepBatchSampler
from vae_audio.discriminators import DiscOutput, Discriminators
from vae_audio.head_hnm import f0_loss_for
from vae_audio.losses import GeneratorLoss, discriminator_loss
from vae_audio.model import SigmaVAE

LOG_NAME = "losses.jsonl"


class Trainer:
    """Holds the models, optimizers and loss; `step(i, batch)` runs one generator (and discriminator) update."""

    def __init__(self, args, d: Dist):
        self.args, self.d = args, d
        out = Path(args.out)
        resume = (out / WEIGHTS_NAME).is_file() and not args.restart
        if resume:
            config = read_config(out)
        else:
            config = apply_overrides(read_config(args.init) if args.init else VAE_PRESETS[args.preset], args.overrides)
        torch.manual_seed(args.seed)
        self.model = SigmaVAE(config).to(d.device)
        if args.init and not resume:
            self.model.load_state_dict(SigmaVAE.from_pretrained(args.init, d.device).state_dict())
        if args.freeze_encoder:
            self.model.encoder.requires_grad_(False)
        self.disc = Discriminators(config).to(d.device)
        self.loss = GeneratorLoss(config.audio.sample_rate, config.loss, f0_loss_for(config)).to(d.device)
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.opt_g = torch.optim.AdamW(trainable, lr=args.lr, betas=(0.8, 0.99))
        self.opt_d = torch.optim.AdamW(self.disc.parameters(), lr=args.lr, betas=(0.8, 0.99))
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.opt_g, args.lr_decay)
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.opt_d, args.lr_decay)
        self.start_step = self._resume(out) if resume else 0
        ddp_kw = {"device_ids": [d.device.index]} if d.device.type == "cuda" else {}
        self.g = DDP(self.model, **ddp_kw) if d.world > 1 else self.model
        self.dd = DDP(self.disc, **ddp_kw) if d.world > 1 else self.disc

    def _resume(self, out: Path) -> int:
        self.model.load_state_dict(SigmaVAE.from_pretrained(out, self.d.device).state_dict())
        state = load_training_state(out, self.disc, self.d.device)
        if state is None:
            return 0
        for name in ("opt_g", "opt_d", "sched_g", "sched_d"):
            getattr(self, name).load_state_dict(state[name])
        return state["step"]

    def autocast(self):
        return torch.autocast(self.d.device.type, dtype=torch.bfloat16, enabled=self.d.device.type == "cuda")

    def noise(self, step: int) -> torch.Generator:
        return torch.Generator().manual_seed((self.args.seed * 1_000_003 + step) * self.d.world + self.d.rank)

    def step(self, step: int, x: torch.Tensor) -> tuple[dict, torch.Tensor]:
        """x (B, S) -> ({loss name: value}, decoded audio (B, S))."""
        gan = step >= self.model.config.loss.warmup_steps
        with self.autocast():
            out = self.g(x, self.noise(step))
        logs = self._disc_step(x, out.audio.detach()) if gan else {}
        with self.autocast():
            real, fake = self._disc_features(x, out.audio) if gan else (None, None)
        total, terms = self.loss(out.audio.float(), x, out.mu, real, fake, out.spectra, out.f0)  # float32
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        terms["grad_norm_g"] = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip_g))
        self.opt_g.step()
        self.sched_g.step()
        return {**terms, **logs, "total": float(total.detach())}, out.audio.detach()

    def _disc_step(self, x: torch.Tensor, x_hat: torch.Tensor) -> dict:
        with self.autocast():
            both = self.dd(torch.cat([x, x_hat]))  # one forward, as DDP expects
            loss = discriminator_loss(*split_real_fake(both, x.shape[0]))
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(self.disc.parameters(), self.args.clip_d)
        self.opt_d.step()
        self.sched_d.step()
        return {"disc": float(loss.detach()), "grad_norm_d": float(norm)}

    def _disc_features(self, x, x_hat):
        """Discriminator outputs for real and decoded audio, with the discriminator frozen."""
        self.disc.requires_grad_(False)
        both = self.disc(torch.cat([x, x_hat]))
        self.disc.requires_grad_(True)
        return split_real_fake(both, x.shape[0])

    def save(self, step: int) -> None:
        """Rank 0: write the model, then the training state."""
        out = Path(self.args.out)
        save_model(self.model, out)
        state = {name: getattr(self, name).state_dict() for name in ("opt_g", "opt_d", "sched_g", "sched_d")}
        save_training_state(out, self.disc, {**state, "step": step, "seed": self.args.seed})


def apply_overrides(config: VAEConfig, overrides: dict) -> VAEConfig:
    """`--set KEY=JSON` values on top of a config, e.g. {"head": "upsample", "loss": {"warmup_steps": 0}};
    an object merges into a nested config."""
    d = config.to_dict()
    unknown = sorted(set(overrides) - set(d))
    if unknown:
        raise SystemExit(f"--set: unknown VAEConfig field(s) {', '.join(unknown)}")
    for key, v in overrides.items():
        d[key] = {**d[key], **v} if isinstance(v, dict) and isinstance(d[key], dict) else v
    return VAEConfig.from_dict(d)


def split_real_fake(outputs: list[DiscOutput], b: int) -> tuple[list[DiscOutput], list[DiscOutput]]:
    """Discriminator outputs on cat([real, fake]) (first b examples real) -> (real outputs, fake outputs)."""
    real = [(logits[:b], [f[:b] for f in feats]) for logits, feats in outputs]
    fake = [(logits[b:], [f[b:] for f in feats]) for logits, feats in outputs]
    return real, fake


def crop_samples(args, config: VAEConfig) -> int:
    """--crop-seconds rounded to whole latent frames (at least one), so decoded crops match their input."""
    return max(1, round(args.crop_seconds * config.audio.frame_rate)) * config.audio.hop


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train a σ-VAE audio tokenizer (run under torchrun for several processes).")
    p.add_argument("--data", required=True, help="directory of audio files or a Lhotse cuts/recordings manifest")
    p.add_argument("--out", required=True, help="checkpoint directory; an existing one is resumed")
    p.add_argument("--preset", default="small", choices=sorted(VAE_PRESETS))
    p.add_argument(
        "--init",
        default=None,
        metavar="CKPT",
        help="start from this σ-VAE checkpoint's config and weights (fresh optimizers and "
        "discriminators, step 0); --set still applies, e.g. to the loss weights",
    )
    p.add_argument(
        "--freeze-encoder",
        action="store_true",
        help="train the decoder only: the latents (and any LatentLM trained on them) stay valid",
    )
    add_trainer_flags(p, "VAEConfig")  # --set KEY=JSON (e.g. --set head='"upsample"'), --stop-at STEP
    p.add_argument("--steps", type=int, default=200_000, help="total optimizer steps of the schedule")
    p.add_argument("--batch-size", type=int, default=8, help="crops per process")
    p.add_argument("--crop-seconds", type=float, default=2.0)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--lr-decay", type=float, default=0.999996, help="per-step exponential decay")
    p.add_argument("--clip-g", type=float, default=1000.0)
    p.add_argument("--clip-d", type=float, default=10.0)
    p.add_argument("--save-every", type=int, default=2000)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--audio-every", type=int, default=2000, help="TensorBoard audio samples every N steps (0: never)")
    p.add_argument("--num-workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads per process")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in --out")
    p.add_argument("--no-tensorboard", action="store_true")
    return p


def main(argv: list[str] | None = None) -> Path:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    d = setup_distributed()
    try:
        train(args, d)
    finally:
        teardown_distributed()
    return Path(args.out)


def train(args, d: Dist) -> None:
    trainer = Trainer(args, d)
    audio = trainer.model.config.audio
    source = AudioSource(args.data, audio.sample_rate, audio.target_dbfs)
    stop = args.steps if args.stop_at is None else min(args.steps, args.stop_at)
    sampler = StepBatchSampler(args.batch_size, d.rank, d.world, trainer.start_step, stop)
    crops = CropDataset(source, crop_samples(args, trainer.model.config), args.seed)
    loader = torch.utils.data.DataLoader(crops, batch_sampler=sampler, num_workers=args.num_workers)
    log = Logger(args, d.main)
    first = trainer.start_step
    for step, x in enumerate(tqdm(loader, initial=first, total=stop, disable=not d.main, desc="σ-VAE"), start=first):
        x = x.to(d.device)
        logs, x_hat = trainer.step(step, x)
        log.scalars(step, logs)
        log.audio(step, x, x_hat, audio.sample_rate)
        if d.main and (step + 1) % args.save_every == 0:
            trainer.save(step + 1)
    if d.main and stop > trainer.start_step:
        trainer.save(stop)
    log.close()
    if dist.is_initialized():
        dist.barrier()


class Logger:
    """Rank 0 only: losses.jsonl, TensorBoard scalars and audio."""

    def __init__(self, args, active: bool):
        self.args, self.active = args, active
        self.tb = None
        if active and not args.no_tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(Path(args.out) / "tensorboard"))

    def scalars(self, step: int, logs: dict) -> None:
        if not self.active or step % self.args.log_every:
            return
        Path(self.args.out).mkdir(parents=True, exist_ok=True)
        with open(Path(self.args.out) / LOG_NAME, "a") as f:
            f.write(json.dumps({"step": step, **logs}) + "\n")
        for k, v in logs.items():
            if self.tb:
                self.tb.add_scalar(f"train/{k}", v, step)

    def audio(self, step: int, x: torch.Tensor, x_hat: torch.Tensor, sample_rate: int) -> None:
        if self.tb and self.args.audio_every and step % self.args.audio_every == 0:
            self.tb.add_audio("audio/input", x[0].float().cpu().clamp(-1, 1), step, sample_rate)
            self.tb.add_audio("audio/decoded", x_hat[0].float().cpu().clamp(-1, 1), step, sample_rate)

    def close(self) -> None:
        if self.tb:
            self.tb.close()


if __name__ == "__main__":
    main()
