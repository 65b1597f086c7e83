"""Train the LatentLM decoder on a latent dataset (see tts/data.py). Runs alone or under torchrun.

    torchrun --nproc_per_node 2 -m tts.train --data DATA_DIR --out CKPT_DIR --preset small --steps 20000

DDP (nccl on CUDA, gloo on CPU), bf16 autocast (default on CUDA; `--bf16` on CPU), AdamW with
linear warmup and cosine decay, gradient clipping, TensorBoard and tqdm on rank 0.
Every `--save-every` steps the output directory gets a checkpoint (config.json +
model.safetensors) and `train_state.pt` (optimizer, scheduler, step, RNG); rerunning the same
command resumes exactly where it stopped.
"""

from __future__ import annotations

import argparse
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from latentlm_common.distributed import setup_distributed, teardown_distributed
from latentlm_common.errors import one_line_errors
from latentlm_common.files import atomic_write
from latentlm_common.train_cli import add_trainer_flags
from tts.checkpoint import CONFIG, WEIGHTS, load_weights, read_config, save_checkpoint
from tts.config import LMConfig, preset
from tts.data import LatentDataset, StepBatches, TrainBatch
from tts.lm import LatentLM, count_parameters

STATE = "train_state.pt"


@dataclass
class TrainConfig:
    data: str
    out: str
    preset: str = "small"
    steps: int = 20000  # total steps of the schedule
    stop_at: int | None = None  # end this run early (saving) at this step; rerun to resume
    batch_size: int = 16  # sequences per rank and step
    lr: float = 1e-3
    warmup: int = 300
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    save_every: int = 1000
    log_every: int = 20
    seed: int = 0
    bf16: bool | None = None  # None: on CUDA only
    threads: int | None = None  # torch CPU threads per process
    workers: int = 0  # DataLoader processes building batches ahead (0: in the training loop, one core)
    tensorboard: bool = True
    progress: bool = True
    overrides: dict = field(default_factory=dict)  # LMConfig fields (--set KEY=JSON), e.g. {"ctc_weight": 0}
    init: str | None = None  # start from this checkpoint's weights (fresh optimizer and schedule)
    data_latent_stats: bool = False  # with init: normalise latents by the data's stats, not init's
    train_only: list[str] | None = None  # train only the parameters under these module names; None: all


class LossModule(nn.Module):
    """Wraps `LatentLM.loss` as a forward so DDP sees (and synchronises) the whole step."""

    def __init__(self, model: LatentLM):
        super().__init__()
        self.model = model

    def forward(self, tb: TrainBatch):
        return self.model.loss(tb.batch, tb.n_frames, tb.text, tb.text_lens, tb.has_text)


def lr_factor(step: int, warmup: int, total: int, min_ratio: float) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def build_model(tc: TrainConfig, ds: LatentDataset) -> LatentLM:
    unknown = sorted(set(tc.overrides) - {f.name for f in fields(LMConfig)})
    if unknown:
        raise SystemExit(f"--set: unknown LMConfig field(s) {', '.join(unknown)}")
    cfg: LMConfig = preset(tc.preset, **{**ds.lm_config_overrides(), **weights_latent_stats(tc), **tc.overrides})
    return LatentLM(cfg)


def weights_latent_stats(tc: TrainConfig) -> dict:
    """The latent scale and bias of the checkpoint the weights come from (this run's, when it resumes,
    else --init's): a trained LatentLM keeps its latent normalisation. Empty for a fresh model, which
    takes the dataset's, and for --init with `data_latent_stats`: latents of another σ-VAE than the
    one --init was trained on have their own scale."""
    resumes = (Path(tc.out) / STATE).is_file()
    source = tc.out if resumes else None if tc.data_latent_stats else tc.init
    if source is None or not (Path(source) / CONFIG).is_file():
        return {}
    lm = read_config(source)["lm"]
    return {"latent_scale": lm["latent_scale"], "latent_bias": lm["latent_bias"]}


def save(tc: TrainConfig, model: LatentLM, ds: LatentDataset, opt, sched, step: int) -> None:
    save_checkpoint(
        tc.out,
        model,
        ds.audio,
        ds.meta.get("tokenizer"),
        training={"data": str(tc.data), "steps": step, "preset": tc.preset},
    )
    state = {
        "step": step,
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }
    atomic_write(Path(tc.out) / STATE, lambda tmp: torch.save(state, tmp))


def try_resume(tc: TrainConfig, model: LatentLM, opt, sched, device) -> int:
    """Load weights and training state from tc.out if a previous run left them; return the step."""
    state_path = Path(tc.out) / STATE
    if not state_path.is_file():
        return 0
    load_weights(model, Path(tc.out) / WEIGHTS, device)
    state = torch.load(state_path, map_location="cpu", weights_only=False)
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return int(state["step"])


def trainable(model: LatentLM, names: list[str] | None) -> list[nn.Parameter]:
    """The parameters to train: all, or those under the named submodules (`--train-only ctc_head`:
    the rest is frozen, so the model generates exactly what it did)."""
    if not names:
        return list(model.parameters())
    known = dict(model.named_modules())
    unknown = [n for n in names if n not in known or not n]
    if unknown:
        raise SystemExit(f"--train-only: no submodule {', '.join(unknown)} (e.g. ctc_head, stop_head, head)")
    keep = {id(p) for n in names for p in known[n].parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)
    return [p for p in model.parameters() if p.requires_grad]


def load_init(model: LatentLM, ckpt: str, device) -> None:
    """Warm start: a trained checkpoint's weights into a model of the same shape."""
    path = Path(ckpt) / WEIGHTS
    if not path.is_file():
        raise SystemExit(f"--init {ckpt}: no {WEIGHTS} there")
    try:
        load_weights(model, path, device)
    except RuntimeError:  # missing, unexpected or mis-shaped tensors
        raise SystemExit(
            f"--init {ckpt}: its weights do not fit this model; it needs the same --preset and --set as this run"
        ) from None


def train(tc: TrainConfig) -> list[dict]:
    """Run training; return rank 0's per-step losses (for tests and notebooks)."""
    if tc.threads:
        torch.set_num_threads(tc.threads)
    rank, world, device = setup_distributed()
    torch.manual_seed(tc.seed + rank)
    ds = LatentDataset(tc.data)
    model = build_model(tc, ds).to(device)
    params = trainable(model, tc.train_only)
    opt = torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, tc.warmup, tc.steps, tc.min_lr_ratio))
    start = try_resume(tc, model, opt, sched, device)
    if start == 0 and tc.init:
        load_init(model, tc.init, device)
    step_fn = LossModule(model)
    if world > 1:
        step_fn = nn.parallel.DistributedDataParallel(step_fn)
    use_bf16 = tc.bf16 if tc.bf16 is not None else device.type == "cuda"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if use_bf16 else nullcontext()
    writer = _writer(tc) if rank == 0 else None
    history: list[dict] = []
    end = tc.steps if tc.stop_at is None else min(tc.steps, tc.stop_at)
    batches = DataLoader(
        StepBatches(ds, model.cfg, tc.batch_size, tc.seed, rank, world),
        batch_size=None,  # StepBatches yields whole batches
        sampler=range(start, end),
        num_workers=tc.workers,
        prefetch_factor=4 if tc.workers else None,
        generator=torch.Generator(),  # its own: the loader's seed draw would move the global RNG a resume restores
    )
    bar = tqdm(range(start, end), initial=start, total=tc.steps, disable=rank != 0 or not tc.progress)
    if rank == 0:
        bar.write(
            f"LatentLM {tc.preset}: {count_parameters(model) / 1e6:.1f} M parameters, "
            f"{len(ds)} utterances, {world} process(es) on {device.type}, bf16={use_bf16}"
        )
    t0 = time.perf_counter()
    for step, tb in zip(bar, batches):
        tb = tb.to(device)
        with autocast:
            losses = step_fn(tb)
        opt.zero_grad(set_to_none=True)
        losses.total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
        opt.step()
        sched.step()
        record = {
            "step": step + 1,
            "lr": sched.get_last_lr()[0],
            "grad_norm": float(grad_norm),
            "seconds": time.perf_counter() - t0,  # since this run's first step
            **{k: getattr(losses, k).item() for k in ("total", "diffusion", "stop", "ctc")},
        }
        if rank == 0:
            history.append(record)
            _log(writer, bar, record, tc.log_every)
        if (step + 1) % tc.save_every == 0 or step + 1 in (tc.steps, tc.stop_at):
            if rank == 0:
                save(tc, model, ds, opt, sched, step + 1)
            if world > 1:
                dist.barrier()
    if writer is not None:
        writer.close()
    return history


def _writer(tc: TrainConfig):
    if not tc.tensorboard:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(Path(tc.out) / "tensorboard"))


def _log(writer, bar, record: dict, every: int) -> None:
    if writer is not None:
        for k, v in record.items():
            if k not in ("step", "seconds"):
                writer.add_scalar(f"train/{k}", v, record["step"])
    if record["step"] % every == 0:
        bar.set_postfix(
            diff=f"{record['diffusion']:.3f}",
            stop=f"{record['stop']:.3f}",
            ctc=f"{record['ctc']:.2f}",
            lr=f"{record['lr']:.1e}",
        )


def parse_args(argv=None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="python -m tts.train", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="latent dataset directory (tts/data.py format)")
    p.add_argument("--out", required=True, help="checkpoint directory (resumed if it holds a run)")
    defaults = TrainConfig(data="", out="")
    for name in (
        "preset",
        "steps",
        "batch_size",
        "lr",
        "warmup",
        "min_lr_ratio",
        "weight_decay",
        "grad_clip",
        "save_every",
        "log_every",
        "seed",
        "threads",
        "workers",
    ):
        value = getattr(defaults, name)
        p.add_argument("--" + name.replace("_", "-"), type=type(value) if value is not None else int, default=value)
    p.add_argument(
        "--bf16", action=argparse.BooleanOptionalAction, default=None, help="bf16 autocast (default: on CUDA only)"
    )
    p.add_argument("--no-tensorboard", dest="tensorboard", action="store_false")
    p.add_argument(
        "--init",
        default=None,
        metavar="CKPT",
        help="start from this checkpoint's weights (fine-tuning: fresh optimizer and schedule); "
        "ignored when --out already holds a run",
    )
    p.add_argument(
        "--data-latent-stats",
        action="store_true",
        help="with --init: normalise the latents by --data's scale and bias instead of --init's "
        "(for latents of another σ-VAE than the one --init was trained with)",
    )
    p.add_argument(
        "--train-only",
        nargs="+",
        default=None,
        metavar="MODULE",
        help="train only these submodules, the rest frozen (e.g. --train-only ctc_head with "
        "--set ctc_listens=true: a listening CTC head for a trained model, whose speech stays the same)",
    )
    add_trainer_flags(p, "LMConfig")  # --set KEY=JSON (e.g. --set ctc_weight=0), --stop-at STEP
    return TrainConfig(**vars(p.parse_args(argv)))


def main(argv=None) -> None:
    try:
        with one_line_errors("python -m tts.train"):
            train(parse_args(argv))
    finally:
        teardown_distributed()


if __name__ == "__main__":
    main()
