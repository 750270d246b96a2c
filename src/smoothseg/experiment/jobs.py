"""The experiment's training runs as independent jobs, run here or over worker processes.

Every training run of every replication depends only on the prepared cache, its split and
(for the smoothed tumor model) the replication's soft labels, so they can run in any order.
:func:`run_train_jobs` runs them in this process (``workers=1``) or hands them to ``workers``
spawned processes with ``threads`` torch threads each, longest first so the workers finish
together. Small CPU models use two cores better as two one-thread trainings than as one
two-thread training. Each job is a resumable step (:func:`~smoothseg.experiment.steps.run_step`):
an interrupted experiment redoes only the unfinished ones.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import pickle
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoothseg.datasets.splits import Split
from smoothseg.errors import SmoothsegError
from smoothseg.experiment.steps import TrainStep, run_step, train_model

Log = Callable[[str], None]
# CPU seconds of one training step relative to U-Net's, measured at the cpu-small widths
STEP_COST: dict[str, float] = {
    "unet": 1.0,
    "unet_large": 1.3,
    "manet": 2.0,
    "segresnet": 3.0,
    "segresnetvae": 3.5,
    "unetpp": 3.5,
}


@dataclass(frozen=True)
class TrainJob:
    """One training run of one replication.

    Attributes:
        name: ``<replication>/<step>`` (e.g. ``replication_1/liver``).
        step: The model and its training config.
        step_config: What the result depends on (saved in the step folder).
        folder: The step folder (the bundle lands in ``folder/bundle``).
        cache: Prepared cache.
        split: The replication's split.
        soft_labels: The replication's soft labels (used only where the loss has α > 0).

    """

    name: str
    step: TrainStep
    step_config: Mapping[str, Any]
    folder: Path
    cache: Path
    split: Split
    soft_labels: Mapping[str, float]

    @property
    def cost(self) -> float:
        """Relative training cost (epochs x patches x ROI voxels x model factor), for ordering."""
        config = self.step.config
        patches = len(self.split.train) * config.preprocess.samples_per_volume
        factor = STEP_COST.get(config.model.name, 3.0)
        return config.max_epochs * patches * math.prod(config.model.roi_size) * factor


def run_train_job(job: TrainJob, progress: bool = False) -> float:
    """Train one job's model (resuming an interrupted run); returns its seconds."""
    start = time.perf_counter()

    def work(folder: Path) -> Path:
        return train_model(
            job.step,
            cache=job.cache,
            split=job.split,
            soft_labels=job.soft_labels,
            folder=folder,
            progress=progress,
        )

    run_step(job.folder, job.step_config, work, skip=False, keep_partial=True)
    return round(time.perf_counter() - start, 1)


def _pool_job(job: TrainJob) -> float:
    """:func:`run_train_job` in a worker process.

    An error that cannot cross processes is re-raised as a
    :class:`~smoothseg.errors.SmoothsegError` with its message.
    """
    try:
        return run_train_job(job, False)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise SmoothsegError(f"{job.name}: {type(exc).__name__}: {exc}") from None
        raise


def _set_threads(threads: int) -> None:
    """Worker initializer: ``threads`` torch threads (set before any torch work)."""
    import torch

    torch.set_num_threads(threads)


def run_train_jobs(
    jobs: Sequence[TrainJob],
    *,
    workers: int = 1,
    threads: int | None = None,
    progress: bool = True,
    say: Log | None = None,
) -> dict[str, float]:
    """Run ``jobs`` and return seconds per job name.

    Args:
        jobs: The training runs (all independent).
        workers: Processes training at once (1: in this process, in the given order).
        threads: Torch threads per worker (default: this machine's cores // ``workers``).
        progress: Progress bars (only with one worker; several would interleave).
        say: Receives a line as each job starts (one worker) or ends (several).

    Raises:
        Exception: The first job's error; the jobs not started yet are cancelled.

    """
    tell = say or (lambda _: None)
    seconds: dict[str, float] = {}
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            tell(f"{job.name}: training ({_describe(job)})")
            seconds[job.name] = run_train_job(job, progress)
        return seconds
    import os

    per_worker = threads or max(1, (os.cpu_count() or 1) // workers)
    ordered = sorted(jobs, key=lambda j: -j.cost)
    tell(
        f"training {len(jobs)} model(s) on {workers} worker processes x {per_worker} thread(s), "
        "longest first"
    )
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_set_threads,
        initargs=(per_worker,),
    ) as pool:
        futures: dict[Future[float], TrainJob] = {
            pool.submit(_pool_job, job): job for job in ordered
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = futures[future]
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    raise error
                seconds[job.name] = future.result()
                tell(
                    f"{job.name}: trained ({_describe(job)}) in {seconds[job.name]:.0f} s "
                    f"[{len(seconds)}/{len(jobs)}]"
                )
    return seconds


def _describe(job: TrainJob) -> str:
    config = job.step.config
    alpha = config.loss.alpha if job.step.smoothing else 0.0
    return f"{config.model.name}, {config.max_epochs} epochs, α={alpha:g}"
