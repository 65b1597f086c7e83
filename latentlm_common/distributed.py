"""The torchrun process group of both trainers (`tts.train`, `vae_audio.train`).

`setup_distributed()` is the one place that reads torchrun's environment: run alone it returns
a world of one on the first CUDA device or the CPU; under torchrun it joins the group (nccl on
CUDA, gloo on CPU) and takes the rank from the group itself. The only module of this package
that imports torch.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import NamedTuple

import torch
import torch.distributed as dist


class Dist(NamedTuple):
    rank: int  # global rank, 0 when run alone
    world: int  # number of processes
    device: torch.device  # cuda:LOCAL_RANK when CUDA is available, else cpu

    @property
    def main(self) -> bool:
        """Rank 0: the process that logs and writes checkpoints."""
        return self.rank == 0


def setup_distributed(timeout: timedelta | None = None) -> Dist:
    """Join the torchrun group if there is one (once; a second call reuses it); else a world of one.
    `timeout`: how long a collective (a barrier) waits for the slowest process (torch's default: 30 min)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
    if world == 1:
        return Dist(0, 1, device)
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timeout)
    return Dist(dist.get_rank(), dist.get_world_size(), device)


def teardown_distributed() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_initialized():
        dist.destroy_process_group()
