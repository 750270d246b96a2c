"""Resumable steps, each owning a folder.

A step saves its resolved config there first and writes the marker ``done.json`` last
(atomically). A folder with a marker whose config equals the one asked for is finished and
skipped; one without is an interrupted step and is redone.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from smoothseg.datasets.splits import Split
from smoothseg.errors import InputError
from smoothseg.io.atomic import atomic_output
from smoothseg.training.config import TrainConfig
from smoothseg.training.run import train

DONE = "done.json"
STEP_CONFIG = "step_config.json"
TIMING_FILE = "timing.json"
T = TypeVar("T")


def write_json(path: Path, data: Any) -> Path:
    """Write JSON atomically (replacing an older file)."""
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _normal(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def is_done(folder: Path, config: Mapping[str, Any]) -> bool:
    """Whether ``folder`` holds a finished step of exactly ``config``.

    Raises:
        InputError: It holds a finished step of another config (the experiment changed: use
            a new output folder or ``--overwrite``).

    """
    marker = folder / DONE
    if not marker.is_file():
        return False
    saved = json.loads(marker.read_text(encoding="utf-8")).get("config")
    if saved != _normal(config):
        raise InputError(
            folder,
            "finished with a different config than this experiment's; use another --out or "
            "pass --overwrite",
        )
    return True


def run_step(
    folder: Path,
    config: Mapping[str, Any],
    work: Callable[[Path], T],
    *,
    skip: bool = True,
    keep_partial: bool = False,
) -> tuple[T | None, bool]:
    """Run ``work(folder)`` unless finished; returns (its result or ``None``, whether it ran).

    An interrupted step's folder is cleared first, unless ``keep_partial`` and it was started
    with the same config: then ``work`` finds what it left (a training run resumes).
    """
    if skip and is_done(folder, config):
        return None, False
    started = folder / STEP_CONFIG
    same = started.is_file() and json.loads(started.read_text("utf-8")) == _normal(config)
    if not (keep_partial and same) and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(started, _normal(config))
    start = time.perf_counter()
    result = work(folder)
    write_json(
        folder / DONE,
        {
            "config": _normal(config),
            "seconds": round(time.perf_counter() - start, 2),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    return result, True


def step_seconds(folder: Path) -> float:
    """Seconds a finished step took (0 when unknown)."""
    marker = folder / DONE
    if not marker.is_file():
        return 0.0
    return float(json.loads(marker.read_text(encoding="utf-8")).get("seconds", 0.0))


def record_wall_time(out: Path, seconds: float, steps_run: int) -> float:
    """Add an invocation that ran steps to ``out/timing.json``; returns the results' wall time.

    The results' wall time is the sum over the invocations that ran at least one step (the
    first run, plus resumptions that finished interrupted steps); a re-run that only skips
    finished steps adds nothing, so the first run's time is kept.
    """
    path = out / TIMING_FILE
    runs: list[dict[str, Any]] = []
    if path.is_file():
        runs = list(json.loads(path.read_text(encoding="utf-8")).get("runs", []))
    if steps_run:
        runs.append(
            {
                "seconds": round(seconds, 1),
                "steps_run": steps_run,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
    total = round(sum(float(r["seconds"]) for r in runs), 1)
    write_json(path, {"seconds": total, "runs": runs})
    return total


@dataclass
class RunLog:
    """What ran and what was skipped (step names), with seconds per step run."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainStep:
    """One model to train in a replication.

    Attributes:
        name: Folder name (``liver``, ``tumor_smooth``, ``multiclass_unet``...).
        config: Its training config.
        smoothing: Train with the TLVR soft-label term (tumor stage, or ablation I's
            multi-class model).

    """

    name: str
    config: TrainConfig
    smoothing: bool = False


def train_step_config(step: TrainStep, split: Split) -> dict[str, Any]:
    """What a training step's result depends on (its resolved config and split)."""
    return {
        "train": step.config.to_dict(),
        "smoothing": step.smoothing,
        "split": {"name": split.name, "train": list(split.train), "val": list(split.val)},
    }


def train_model(
    step: TrainStep,
    *,
    cache: Path,
    split: Split,
    soft_labels: Mapping[str, float],
    folder: Path,
    progress: bool,
) -> Path:
    """Train one step's model into ``folder`` and return its bundle folder.

    Every model goes through :func:`smoothseg.training.train`, the path of ``smoothseg
    train``: its loss comes from the loss registry (knowledge-informed wherever α > 0, which
    then needs soft labels), with the same checks, run folder and interrupt guard. A run
    interrupted after a finished epoch (``last.pt``) resumes from it.
    """
    resume = (folder / "last.pt").is_file() and (folder / "config.json").is_file()
    result = train(
        step.config,
        data=cache,
        split=split,
        out=folder,
        soft_labels=soft_labels,  # used only where the loss has the TLVR term
        progress=progress,
        resume=resume,
        overwrite=not resume,
    )
    return result.bundle_dir
