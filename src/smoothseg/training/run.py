"""Run folders: starting, resuming or overwriting a training run, and the :func:`train` entry.

See :mod:`smoothseg.training.trainer` for what a run folder holds.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from smoothseg.bundle import versions
from smoothseg.datasets.splits import Split
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.io.atomic import atomic_output
from smoothseg.training.checkpoint import load_checkpoint, seed_everything
from smoothseg.training.config import TrainConfig, TrainConfigError
from smoothseg.training.data import stage_data
from smoothseg.training.distributed import barrier, init_from_env, process_group, rank_seed
from smoothseg.training.interrupt import interrupt_guard
from smoothseg.training.loss_registry import build_loss, loss_name
from smoothseg.training.synthetic import provenance as synthetic_provenance
from smoothseg.training.trainer import Trainer, TrainResult

RUN_OUTPUTS = (
    "config.json",
    "run.json",
    "metrics.csv",
    "curves.png",
    "last.pt",
    "best.pt",
    "bundle",
)
#: Fields a resumed run may change; everything else must match the saved config.
RESUMABLE = (
    "max_epochs",
    "early_stopping_patience",
    "val_every",
    "device",
    "num_workers",
    "amp",
    "compile",
    "cudnn_benchmark",
    "persistent_cache",
    "cache_dir",
    "cache_in_memory",
)


def resume_config(run_dir: str | Path, **overrides: Any) -> TrainConfig:
    """The saved config of a run with the resumable fields (:data:`RESUMABLE`) replaced.

    Raises:
        InputError: No ``config.json`` in ``run_dir``.
        TrainConfigError: An override of a field that cannot change on resume.

    """
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise InputError(run_dir, "no config.json: not a training run folder")
    config = TrainConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))
    bad = sorted(k for k, v in overrides.items() if v is not None and k not in RESUMABLE)
    if bad:
        raise TrainConfigError(f"cannot change {bad} when resuming; only {', '.join(RESUMABLE)}")
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})


def resume_changes(saved: TrainConfig, config: TrainConfig) -> list[str]:
    """The fields outside :data:`RESUMABLE` in which ``config`` differs from ``saved``."""
    return [
        f.name
        for f in fields(TrainConfig)
        if f.name not in RESUMABLE and getattr(saved, f.name) != getattr(config, f.name)
    ]


def _check_resume(run: Path, config: TrainConfig) -> None:
    differ = resume_changes(resume_config(run), config)
    if differ:
        raise TrainConfigError(f"{run}: config differs from the saved run in {differ}")


def _prepare_run(run: Path, config: TrainConfig, *, resume: bool, overwrite: bool) -> None:
    if resume:
        if not (run / "last.pt").is_file():
            raise InputError(run, "nothing to resume: no last.pt")
        _check_resume(run, config)
        return
    existing = [name for name in RUN_OUTPUTS if (run / name).exists()]
    if existing and not overwrite:
        raise OutputExistsError(run / existing[0])
    for name in existing:
        target = run / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    run.mkdir(parents=True, exist_ok=True)


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def uses_tlvr(config: TrainConfig) -> bool:
    """Whether the run's loss has the TLVR soft-label term with a weight α > 0."""
    name = loss_name(config.loss, classes=config.model.out_channels)
    return name == "knowledge_informed" and config.loss.alpha > 0


def _check_soft_labels(
    config: TrainConfig,
    split: Split,
    labels: Mapping[str, float],
    path: str | Path | None,
) -> int:
    """Training cases with a soft label; none while α > 0 is an error, never a silent α = 0.

    Synthetic phantoms carry no soft label: ``synthetic_only`` runs count none.
    """
    train = () if config.synthetic_only else split.train
    n = sum(c in labels for c in train)
    if not uses_tlvr(config) or n > 0:
        return n
    if config.synthetic_only:
        why = "synthetic phantoms (--synthetic-only) carry none"
    elif not labels:
        why = "no soft labels were given"
    else:
        why = (
            f"none of the {len(labels)} soft-label case ids matches the {len(train)} "
            f"training cases (e.g. {sorted(labels)[0]!r} vs {min(train, default='')!r})"
        )
    raise InputError(
        path if path is not None else "--soft-labels",
        f"alpha = {config.loss.alpha} needs soft labels for the training cases but {why}; "
        "pass --soft-labels, or --alpha 0 ([loss] alpha = 0) to train without the TLVR term",
    )


def train(
    config: TrainConfig,
    *,
    data: str | Path,
    split: Split,
    out: str | Path,
    soft_labels: Mapping[str, float] | None = None,
    soft_labels_path: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    checksum_dir: str | Path | None = None,
) -> TrainResult:
    """Train one stage and write the run folder (see the module docs).

    Args:
        config: Resolved training config.
        data: Prepared cache folder.
        split: Which cases train and validate (its test cases are never touched).
        out: Run folder.
        soft_labels: Case id → soft TLVR label (used where the loss has the TLVR term, i.e.
            α > 0 on a model with a tumor class; ignored otherwise).
        soft_labels_path: Where they came from (recorded in ``run.json``).
        resume: Continue from ``out/last.pt`` (the config must match, see :data:`RESUMABLE`).
        overwrite: Replace the outputs of an earlier run in ``out``.
        progress: Show a progress bar.
        stop_after: Pause after this epoch (1-based), leaving a run that ``resume`` continues
            exactly as if it had not paused (the bundle holds the best weights so far).
        checksum_dir: Debug: each rank appends a checksum of its weights after every step to
            ``checksum_dir/rank<R>.txt`` (distributed runs: all ranks must agree).

    Under ``torchrun`` (``RANK``/``WORLD_SIZE`` set) every process calls this; they train one
    DDP model and rank 0 writes the run folder (see :mod:`smoothseg.training.distributed`).

    Raises:
        OutputExistsError: ``out`` holds a run and neither ``resume`` nor ``overwrite``.
        InputError: Bad data, split or checkpoint.

    """
    run = Path(out)
    tlvr = uses_tlvr(config)
    labels = dict(soft_labels or {}) if tlvr else {}
    n_soft = _check_soft_labels(config, split, labels, soft_labels_path)
    ctx = init_from_env(config.device)  # under torchrun: join the process group
    if ctx.is_main:
        _prepare_run(run, config, resume=resume, overwrite=overwrite)
    barrier(ctx)
    info = {
        "data": str(Path(data).resolve()),
        "split": split.name,
        "train": [] if config.synthetic_only else list(split.train),
        "val": list(split.val),
        "soft_labels": None if soft_labels_path is None else str(soft_labels_path),
        "soft_label_cases": sorted(c for c in (*split.train, *split.val) if c in labels),
        "loss": loss_name(config.loss, classes=config.model.out_channels),
        "alpha_effective": config.loss.alpha if tlvr else 0.0,
        "soft_label_train_cases": n_soft,
        "versions": versions(),
    }
    if resume:
        saved = json.loads((run / "run.json").read_text(encoding="utf-8"))
        if saved.get("train") != info["train"] or saved.get("val") != info["val"]:
            raise InputError(
                run / "run.json", "the split differs from the one the run started with"
            )
    seed_everything(rank_seed(config.seed, ctx.rank), deterministic=config.deterministic)
    stage = stage_data(config, data, split, labels)
    if stage.synthetic is not None:
        info["synthetic"] = synthetic_provenance(stage.synthetic.cases, only=config.synthetic_only)
    checksums = None if checksum_dir is None else Path(checksum_dir)
    loss = build_loss(config.loss, classes=config.model.out_channels)
    provenance = {
        k: info[k] for k in ("loss", "alpha_effective", "soft_label_train_cases", "soft_labels")
    }
    trainer = Trainer(
        config,
        stage,
        run,
        loss=loss,
        progress=progress,
        dist=ctx,
        checksum_dir=checksums,
        provenance={**provenance, "train_cases": len(stage.train_ids)},
    )
    if resume:
        trainer.restore(load_checkpoint(run / "last.pt", trainer.device))
        if ctx.rank:  # last.pt holds rank 0's random state: other ranks draw their own
            seed_everything(rank_seed(config.seed + trainer.epoch, ctx.rank))
    if ctx.is_main:
        _write_json(run / "config.json", config.to_dict())
        _write_json(run / "run.json", info)
    # SIGTERM/SIGINT: stop cleanly, last.pt resumes (see .interrupt)
    with process_group(ctx), interrupt_guard():
        return trainer.fit(stop_after)
