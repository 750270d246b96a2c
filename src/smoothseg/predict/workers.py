"""Batch prediction over worker processes: one loaded model per worker, one worker per GPU.

:func:`predict_batch_parallel` first skips the finished cases (``statistics.json``, written
last, see :mod:`smoothseg.predict.batch`), then hands the others to ``workers`` processes
(forked on CPU, which starts them in milliseconds; ``spawn`` for CUDA, which a forked process
cannot use). Each worker loads the models once
(:meth:`Predictor.from_model_dir`) on its device and takes cases from a shared queue, so fast
and slow scans balance out. Devices:

* ``cpu``: ``workers`` processes (default 1), each with ``cores // workers`` torch threads;
* ``cuda``: one worker per visible GPU by default (``cuda:0``, ``cuda:1``...); more workers
  than GPUs share them round-robin;
* ``cuda:N``: every worker on that GPU.

A case that fails is reported and the rest go on; a worker that cannot load the models stops
the batch with that error. Interrupting the batch loses only the cases in flight: running it
again skips what finished.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Callable, Sequence
from dataclasses import replace
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from smoothseg.errors import SmoothsegError
from smoothseg.predict.batch import BatchInput, BatchOutcome, is_finished, predict_case
from smoothseg.predict.config import PredictConfig
from smoothseg.predict.predictor import Predictor


def worker_devices(device: str, workers: int | None = None) -> list[str]:
    """The device of each worker (see the module docs)."""
    if device == "cuda":
        import torch

        count = max(torch.cuda.device_count(), 1)
        n = workers or count
        return [f"cuda:{i % count}" for i in range(n)]
    return [device] * (workers or 1)


def predict_batch_parallel(
    model_dir: str | Path | None,
    config: PredictConfig,
    inputs: Sequence[BatchInput],
    out_dir: str | Path,
    *,
    workers: int | None = None,
    overwrite: bool = False,
    on_case: Callable[[BatchOutcome], None] | None = None,
) -> list[BatchOutcome]:
    """Predict every input into ``out_dir/<case id>/`` over worker processes (resumable).

    Args:
        model_dir: Model folder (``None``: the shipped model).
        config: Prediction options; ``device`` picks the workers' devices.
        inputs: The scans.
        out_dir: Output folder (one subfolder per case).
        workers: Worker processes (default: one per GPU, or 1 on CPU). With one worker (or
            one case left) everything runs in this process.
        overwrite: Redo finished cases too.
        on_case: Called in this process as each case ends (in completion order).

    Returns:
        One outcome per input, in input order.

    Raises:
        SmoothsegError: A worker could not load the models.

    """
    outcomes: dict[int, BatchOutcome] = {}
    todo: list[tuple[int, BatchInput]] = []
    for index, item in enumerate(inputs):
        if is_finished(out_dir, item.case_id) and not overwrite:
            outcomes[index] = BatchOutcome(item.case_id, "skipped")
            if on_case is not None:
                on_case(outcomes[index])
        else:
            todo.append((index, item))
    devices = worker_devices(config.device, workers)[: max(len(todo), 1)]
    if len(devices) <= 1:
        if todo:
            predictor = Predictor.from_model_dir(model_dir, replace(config, device=devices[0]))
            for index, item in todo:
                outcomes[index] = predict_case(predictor, item, out_dir, overwrite=overwrite)
                if on_case is not None:
                    on_case(outcomes[index])
    else:
        _run_workers(model_dir, config, todo, Path(out_dir), devices, overwrite, on_case, outcomes)
    return [outcomes[i] for i in range(len(inputs))]


def _run_workers(
    model_dir: str | Path | None,
    config: PredictConfig,
    todo: list[tuple[int, BatchInput]],
    out_dir: Path,
    devices: list[str],
    overwrite: bool,
    on_case: Callable[[BatchOutcome], None] | None,
    outcomes: dict[int, BatchOutcome],
) -> None:
    cpu_only = all(d == "cpu" for d in devices)
    # CPU workers fork (no re-import: they start in milliseconds); CUDA needs fresh processes
    if cpu_only and "fork" in mp.get_all_start_methods():
        ctx: ForkContext | SpawnContext = mp.get_context("fork")
    else:
        ctx = mp.get_context("spawn")
    tasks: Queue[Any] = ctx.Queue()
    results: Queue[Any] = ctx.Queue()
    for task in todo:
        tasks.put(task)
    for _ in devices:
        tasks.put(None)
    threads = max(1, (os.cpu_count() or 1) // len(devices))
    queues = (tasks, results)
    procs = [
        ctx.Process(
            target=_worker,
            args=(w, model_dir, replace(config, device=d), out_dir, overwrite, threads, queues),
            daemon=True,
        )
        for w, d in enumerate(devices)
    ]
    for proc in procs:
        proc.start()
    pending = {index: item for index, item in todo}
    fatal = ""
    try:
        while pending and not fatal:
            try:
                kind, index, payload = results.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            if kind == "fatal":
                fatal = str(payload)
                continue
            pending.pop(index, None)
            outcomes[index] = payload
            if on_case is not None:
                on_case(payload)
    finally:
        for proc in procs:
            if fatal:
                proc.terminate()
            proc.join(timeout=30)
    if fatal:
        raise SmoothsegError(fatal)
    for index, item in pending.items():
        outcomes[index] = BatchOutcome(item.case_id, "failed", error="a worker process died")


def _worker(
    index: int,
    model_dir: str | Path | None,
    config: PredictConfig,
    out_dir: Path,
    overwrite: bool,
    threads: int,
    queues: tuple[Queue[Any], Queue[Any]],
) -> None:
    """One worker: load the models once, then predict cases from ``tasks`` until ``None``."""
    import torch

    tasks, results = queues

    torch.set_num_threads(threads)
    try:
        predictor = Predictor.from_model_dir(model_dir, config)
    except Exception as exc:  # reported to the parent, which stops the batch
        results.put(("fatal", index, f"worker {index} ({config.device}): {exc}"))
        return
    while True:
        task = tasks.get()
        if task is None:
            return
        position, item = task
        try:
            outcome = predict_case(predictor, item, out_dir, overwrite=overwrite)
        except Exception as exc:  # anything else (e.g. out of memory): this case only
            outcome = BatchOutcome(item.case_id, "failed", error=f"{type(exc).__name__}: {exc}")
        results.put(("outcome", position, replace(outcome, result=None, worker=index)))
