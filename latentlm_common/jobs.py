"""Long jobs split over torchrun's processes, resumably: the one place a job (batch synthesis, the
audiobook, latent extraction) decides which process does what.

- `join_group()`: this process's place (rank, world, local rank) from torchrun's environment, or
  a world of one without torchrun. Torch is imported only under torchrun, so an ONNX Runtime job
  run alone never imports it.
- `length_batches(items, size, length)`: the job's items sorted by length and cut into batches
  once, from the whole job. A batch's members therefore never depend on the number of processes
  or on which items an earlier run finished, so a batch renders the same bytes wherever it runs.
- `deal(costs, world)`: whole batches dealt to ranks, balanced by cost (the costliest batch
  first, each to the least loaded rank, ties to the lower rank): a pure function of its inputs.
- `run_batches(...)`: render this rank's unfinished batches, each whole (a batch that is
  finished is skipped), behind a tqdm bar of items done, audio made and the ETA.
- `Group.barrier()`: wait for every rank; the job's last step (its manifest) is rank 0's, after it.
- `digest`, `file_digest`, `tree_digest`: stable short hashes (never Python's salted `hash()`) of
  what decides an output, so a rerun knows which outputs it may keep.

Outputs live on a file system every process sees (one machine, or a shared one across nodes);
the processes never send each other data, only wait at the barrier.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
BARRIER_TIMEOUT = timedelta(days=7)  # ranks finish hours apart on a resumed run; torchrun ends a group whose rank died


@dataclass(frozen=True)
class Group:
    """Where this process stands among the job's processes."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0  # rank on this machine
    local_world: int = 1  # processes on this machine

    @property
    def main(self) -> bool:
        """Rank 0: the process that writes the job's final files."""
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def threads(self, requested: int | None = None) -> int:
        """Threads for this process: `requested`, else this machine's cores shared among its processes."""
        return requested or max(1, (os.cpu_count() or 1) // self.local_world)

    def share(self, batches: list[list[T]], cost: Callable[[list[T]], float]) -> list[list[T]]:
        """This rank's batches, in the job's order (see `deal`)."""
        return [batches[i] for i in deal([cost(b) for b in batches], self.world)[self.rank]]


ALONE = Group()  # a world of one


def join_group() -> Group:
    """The torchrun group if this process runs under torchrun (joined once), else a world of one."""
    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return Group()
    from latentlm_common.distributed import setup_distributed

    d = setup_distributed(timeout=BARRIER_TIMEOUT)
    return Group(d.rank, d.world, int(os.environ.get("LOCAL_RANK", "0")), int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def leave_group(group: Group) -> None:
    if group.world > 1:
        from latentlm_common.distributed import teardown_distributed

        teardown_distributed()


def length_batches(items: Sequence[T], size: int, length: Callable[[T], tuple]) -> list[list[T]]:
    """`items` sorted by `length` (make it total: add a unique key to break ties), cut into batches of `size`."""
    ordered = sorted(items, key=length)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def deal(costs: Sequence[float], world: int) -> list[list[int]]:
    """The batch indices of each rank: the costliest batch first, each to the least loaded rank
    (greedy longest-processing-time scheduling); each rank's indices in ascending order."""
    loads, ranks = [0.0] * world, [[] for _ in range(world)]
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        r = min(range(world), key=lambda r: (loads[r], r))
        loads[r] += costs[i]
        ranks[r].append(i)
    return [sorted(r) for r in ranks]


def run_batches(
    batches: list[list[T]],
    finished: Callable[[list[T]], bool],
    render: Callable[[list[T]], float],
    group: Group = ALONE,
    desc: str = "batches",
    unit: str = "item",
    progress: bool = True,
) -> float:
    """Call render(batch) on every batch that is not `finished`; render returns the seconds of
    audio it made. Returns the seconds made by this process."""
    todo = [b for b in batches if not finished(b)]
    total, seconds = sum(len(b) for b in batches), 0.0
    label = f"{desc} [rank {group.rank}/{group.world}]" if group.world > 1 else desc
    with tqdm(
        total=total, initial=total - sum(len(b) for b in todo), unit=unit, desc=label,
        position=group.local_rank, disable=not progress,
    ) as bar:  # fmt: skip
        for batch in todo:
            seconds += render(batch)
            bar.update(len(batch))
            bar.set_postfix(audio=f"{seconds / 60:.1f} min")
    return seconds


def digest(obj) -> str:
    """A short stable hash of any JSON-serialisable object."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def file_digest(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:20]


def tree_digest(directory: str | os.PathLike) -> str:
    """Hash of every file under a directory (a checkpoint), so outputs of another model are never reused."""
    root, h = Path(directory), hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(file_digest(f).encode())
    return h.hexdigest()[:20]
