r"""Data-parallel training with PyTorch's own engine: ``torch.distributed`` + DDP under torchrun.

One process per GPU (or per CPU share), all running the same :func:`smoothseg.training.train`.
``torchrun`` sets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``;
:func:`init_from_env` joins the process group (``nccl`` when the run uses CUDA, ``gloo`` on CPU)
and each rank then:

* builds the same model from the same seed (DDP also broadcasts rank 0's weights), wrapped in
  :class:`~torch.nn.parallel.DistributedDataParallel`, which averages gradients every step, so
  all ranks hold identical weights after each step;
* draws its share of each epoch's cases from a ``DistributedSampler`` (seeded by the run's
  seed, reshuffled per epoch) and augments with its own seed (:func:`rank_seed`);
* leaves logging, validation, checkpoints and the bundle to rank 0; the early-stopping
  decision is broadcast from rank 0.

Launch: ``smoothseg train ... --nproc N`` (spawns ``python -m torch.distributed.run``, see
:mod:`smoothseg.cli.torchrun`), or torchrun directly::

    torchrun --standalone --nproc-per-node 4 -m smoothseg train liver --data ... --out RUN
    # two nodes: the same command on each (RUN on a shared file system)
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29400 \
        -m smoothseg train liver ...
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from smoothseg.training.config import TrainConfigError

ENV_KEYS = ("RANK", "LOCAL_RANK", "WORLD_SIZE")
#: Minutes a rank waits for the others (rank 0's validation, bundle writing) before failing.
GROUP_TIMEOUT_MIN = 60


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a distributed run (a single process: rank 0 of 1).

    Attributes:
        rank: Global rank.
        local_rank: Rank on this node (selects the GPU).
        world_size: Number of processes.
        backend: ``nccl``, ``gloo`` or ``""`` (not distributed).
        owns_group: Whether :func:`init_from_env` created the process group (and must end it).

    """

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    backend: str = ""
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        """True when more than one process trains."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 logs, validates and writes."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """Whether the environment holds torchrun's rank variables."""
    return all(key in os.environ for key in ENV_KEYS)


def init_from_env(device: str) -> DistContext:
    """Join the process group torchrun set up (a no-op context when not under torchrun).

    Args:
        device: The config's device (``auto``, ``cpu``, ``cuda``...): CUDA runs use ``nccl``.

    Raises:
        TrainConfigError: CUDA asked for with fewer GPUs than local ranks.

    """
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) < 2:
        return DistContext()
    rank, local = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    world = int(os.environ["WORLD_SIZE"])
    cuda = device != "cpu" and torch.cuda.is_available()
    if cuda:
        if local >= torch.cuda.device_count():
            raise TrainConfigError(
                f"local rank {local} has no GPU ({torch.cuda.device_count()} visible); "
                "use --nproc <= the GPU count"
            )
        torch.cuda.set_device(local)
    backend = "nccl" if cuda else "gloo"
    if dist.is_initialized():
        return DistContext(rank, local, world, str(dist.get_backend()), owns_group=False)
    # rank 0 validates while the others wait: allow long validations before timing out
    dist.init_process_group(backend=backend, timeout=timedelta(minutes=GROUP_TIMEOUT_MIN))
    return DistContext(rank, local, world, backend, owns_group=True)


def shutdown(ctx: DistContext) -> None:
    """Leave the process group if :func:`init_from_env` created it."""
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def process_group(ctx: DistContext) -> Iterator[DistContext]:
    """Yield ``ctx`` and leave the process group afterwards (see :func:`shutdown`)."""
    try:
        yield ctx
    finally:
        shutdown(ctx)


def rank_device(ctx: DistContext, device: torch.device) -> torch.device:
    """A CUDA device becomes ``cuda:<local rank>`` in a distributed run."""
    if ctx.enabled and device.type == "cuda":
        return torch.device("cuda", ctx.local_rank)
    return device


def rank_seed(seed: int, rank: int) -> int:
    """The seed of ``rank``'s random streams (rank 0 keeps the run's seed)."""
    return seed if rank == 0 else (seed + 1_000_003 * rank) % (2**63)


class AuxForward(nn.Module):
    """Makes ``model.forward_with_aux`` the ``forward`` DDP hooks into."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(logits, auxiliary loss or None)``."""
        forward = getattr(self.model, "forward_with_aux")  # noqa: B009 (any network)
        out: tuple[Tensor, Tensor | None] = forward(x)
        return out


def training_module(model: nn.Module, ctx: DistContext, device: torch.device) -> nn.Module:
    """The module a training step calls: ``(logits, aux)``; DDP-wrapped when distributed."""
    module: nn.Module = AuxForward(model)
    if not ctx.enabled:
        return module
    ids = [device.index] if device.type == "cuda" and device.index is not None else None
    return DistributedDataParallel(module, device_ids=ids, broadcast_buffers=True)


def all_reduce_sums(
    sums: Mapping[str, float], count: int, ctx: DistContext, device: torch.device
) -> tuple[dict[str, float], int]:
    """Sum per-rank loss sums and batch counts over all ranks (identity when not distributed)."""
    if not ctx.enabled:
        return dict(sums), count
    keys = sorted(sums)
    values = torch.tensor([*(sums[k] for k in keys), float(count)], dtype=torch.float64)
    on = values.to(device) if ctx.backend == "nccl" else values
    dist.all_reduce(on)
    total = on.cpu().tolist()
    return dict(zip(keys, total[:-1], strict=True)), int(total[-1])


def broadcast_flag(flag: bool, ctx: DistContext, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every rank."""
    if not ctx.enabled:
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int64)
    on = value.to(device) if ctx.backend == "nccl" else value
    dist.broadcast(on, src=0)
    return bool(on.item())


def agreed_signal(signum: int | None, ctx: DistContext, device: torch.device) -> int | None:
    """The stop signal any rank received (largest number), the same on every rank.

    Ranks see SIGTERM at different batches; agreeing after every batch makes all of them stop
    at the same batch edge instead of leaving one waiting in a collective.
    """
    if not ctx.enabled:
        return signum
    value = torch.tensor([signum or 0], dtype=torch.int64)
    on = value.to(device) if ctx.backend == "nccl" else value
    dist.all_reduce(on, op=dist.ReduceOp.MAX)
    agreed = int(on.item())
    return agreed or None


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op when not distributed)."""
    if ctx.enabled and dist.is_initialized():
        dist.barrier()


def weights_checksum(model: nn.Module) -> str:
    """SHA-256 of every parameter's bytes (float32, CPU) in ``state_dict`` order."""
    digest = hashlib.sha256()
    for name, value in model.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
