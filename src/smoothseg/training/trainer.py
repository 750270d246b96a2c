"""The training loop of one stage (paper table SB3): Adam, cosine annealing, validation, resume.

Run folder ``RUN/``::

    config.json   resolved TrainConfig          run.json     data, split, soft labels, versions
    metrics.csv   one row per epoch             curves.png   training loss and validation Dice
    last.pt       full state for exact resume   best.pt      weights of the best validation
    bundle/       the model for inference (weights of best.pt; see :mod:`.bundle`)

Randomness: python/numpy/torch are seeded from ``config.seed`` at the start; each epoch's
shuffling and augmentation are seeded from ``(seed, epoch)``; the torch stream (dropout, VAE
noise) is saved in ``last.pt``. Training ``2`` epochs equals training ``1`` and resuming for
``1`` (same device and thread count).
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from rich.progress import Progress

from smoothseg.bundle import save_bundle
from smoothseg.errors import InputError
from smoothseg.models.network import SegmentationNetwork
from smoothseg.models.registry import build_model
from smoothseg.training.checkpoint import (
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from smoothseg.training.config import TrainConfig, TrainConfigError
from smoothseg.training.data import StageData
from smoothseg.training.distributed import (
    DistContext,
    agreed_signal,
    all_reduce_sums,
    barrier,
    broadcast_flag,
    rank_device,
    training_module,
    weights_checksum,
)
from smoothseg.training.divergence import stop_if_diverged
from smoothseg.training.fastpath import (
    autocast_dtype,
    configure_backends,
    maybe_compile,
    needs_scaler,
)
from smoothseg.training.interrupt import raise_if_interrupted
from smoothseg.training.losses import LossTerms, SegmentationLoss
from smoothseg.training.progress import epoch_bar, epoch_task
from smoothseg.training.report import write_curves, write_metrics
from smoothseg.training.synthetic import provenance
from smoothseg.training.validation import validate

log = logging.getLogger(__name__)

#: Redraw ``curves.png`` every this many epochs (and at the end); ``metrics.csv`` is per epoch.
CURVES_EVERY = 10


@dataclass(frozen=True)
class TrainResult:
    """What a run produced.

    Attributes:
        run_dir: The run folder.
        bundle_dir: The inference bundle.
        epochs: Epochs completed in total (resumed ones included).
        best_epoch: Epoch of the best validation score (``None`` without validation).
        best_score: That score (``None`` without validation).
        stopped_early: Whether early stopping ended the run.
        history: One dict per epoch (the rows of ``metrics.csv``).

    """

    run_dir: Path
    bundle_dir: Path
    epochs: int
    best_epoch: int | None
    best_score: float | None
    stopped_early: bool
    history: list[dict[str, Any]]


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; otherwise the named device (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainConfigError(f"device {name!r} asked for but CUDA is not available")
    return device


class Trainer:
    """One stage's training run (see the module docs). Use :func:`train` unless customising.

    Args:
        config: Resolved training config.
        data: The stage's datasets.
        run_dir: Run folder.
        loss: The loss to minimise, e.g. ``build_loss(config.loss, classes=...)`` (see
            :data:`smoothseg.training.loss_registry.LOSSES`); it receives every batch's soft labels
            and uses them or not.
        progress: Show a progress bar.
        dist: Distributed context (``None``: one process).
        checksum_dir: Debug: per-step weight checksums of each rank.
        provenance: Recorded in the bundle's ``training`` section (e.g. the loss, effective
            α and how many training cases had a soft label).

    """

    def __init__(
        self,
        config: TrainConfig,
        data: StageData,
        run_dir: Path,
        *,
        loss: SegmentationLoss,
        progress: bool = True,
        dist: DistContext | None = None,
        checksum_dir: Path | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.data = data
        self.run = run_dir
        self.dist = dist or DistContext()
        self.progress = progress and self.dist.is_main
        self.checksum_dir = checksum_dir  # debug: per-step weight checksums of each rank
        self.device = rank_device(self.dist, resolve_device(config.device))
        self.amp_dtype = autocast_dtype(config, self.device)
        self.amp = self.amp_dtype is not None
        configure_backends(config, self.device)
        self.model: SegmentationNetwork = build_model(config.model, seed=config.seed).to(
            self.device
        )
        # what a step calls: (logits, aux); DDP-wrapped when distributed, compiled if asked
        self.net = maybe_compile(training_module(self.model, self.dist, self.device), config)
        self.loss = loss
        self.provenance = dict(provenance or {})
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.scheduler = (
            torch.optim.lr_scheduler.CosineAnnealingLR(
                self.optimizer, T_max=config.max_epochs, eta_min=config.min_lr
            )
            if config.scheduler == "cosine"
            else None
        )
        self.scaler = (
            torch.amp.GradScaler("cuda") if needs_scaler(self.amp_dtype, self.device) else None
        )
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.bad_validations = 0

    # --- state -------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything :meth:`restore` needs to continue exactly."""
        return {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "rng": rng_state(),
            "history": self.history,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "bad_validations": self.bad_validations,
            "config": self.config.to_dict(),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Load a :meth:`state` (from ``last.pt``)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
            self.scheduler.T_max = self.config.max_epochs  # a resumed run may extend it
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.epoch = int(state["epoch"])
        self.history = [dict(row) for row in state["history"]]
        self.best_score = state["best_score"]
        self.best_epoch = state["best_epoch"]
        self.bad_validations = int(state["bad_validations"])
        set_rng_state(state["rng"])

    # --- loop --------------------------------------------------------------------------------
    def step(self, batch: Mapping[str, Any]) -> LossTerms:
        """One optimisation step on a batch."""
        image = batch["image"].to(self.device, non_blocking=True)
        label = batch["label"].to(self.device, non_blocking=True)
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp):
            logits, aux = self.net(image)
        vae = None if aux is None else aux.float()
        soft, whole = batch.get("soft_tlvr"), batch.get("whole_tlvr_voxels")
        terms = self.loss.compute(
            logits.float(),
            label,
            vae_loss=vae,
            soft_tlvr=None if soft is None else torch.as_tensor(soft, dtype=torch.float32),
            whole_voxels=None if whole is None else torch.as_tensor(whole, dtype=torch.float32),
        )
        if self.scaler is not None:
            self.scaler.scale(terms.total).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            terms.total.backward()
            self.optimizer.step()
        return terms

    def train_epoch(self, bar: Progress | None) -> dict[str, Any]:
        """Train one epoch; returns the epoch's mean loss terms."""
        self.model.train()
        loader = self.data.train_loader(self.config, self.epoch, self.dist)
        sums: dict[str, float] = defaultdict(float)
        count = 0
        start = time.perf_counter()
        task = None
        if bar is not None:
            task = epoch_task(bar, len(loader), f"epoch {self.epoch + 1}/{self.config.max_epochs}")
        for batch in loader:
            terms = self.step(batch)
            values = terms.as_floats()
            stop_if_diverged(self.model, self.run, self.epoch, values["total"])
            for key, value in values.items():
                sums[key] += value
            count += 1
            self._record_checksum()
            self._stop_if_interrupted()  # SIGTERM/SIGINT: stop at a batch edge
            if bar is not None and task is not None:
                stats = f"loss {sums['total'] / count:.4f}  dice-loss {sums['dice'] / count:.4f}"
                bar.update(task, advance=1, stats=stats + self._best_text())
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scheduler is not None:
            self.scheduler.step()
        if count == 0:
            raise InputError(self.run, "the training loader yielded no batch")
        sums, count = all_reduce_sums(sums, count, self.dist, self.device)  # means over ranks
        return {
            "epoch": self.epoch + 1,
            "lr": lr,
            "train_loss": sums["total"] / count,
            "train_dice_loss": sums["dice"] / count,
            "train_focal": sums["focal"] / count,
            "train_tlvr": sums["tlvr"] / count,
            "train_vae": sums["vae"] / count,
            "train_seconds": time.perf_counter() - start,
        }

    def _stop_if_interrupted(self) -> None:
        """Raise on a stop signal; distributed ranks agree first so all stop together."""
        agree = None
        if self.dist.enabled:
            agree = partial(agreed_signal, ctx=self.dist, device=self.device)
        raise_if_interrupted(self.run, self.epoch, agree)

    def _record_checksum(self) -> None:
        """Debug: append this rank's weight checksum after the step (``checksum_dir``)."""
        if self.checksum_dir is None:
            return
        self.checksum_dir.mkdir(parents=True, exist_ok=True)
        line = f"{self.epoch} {weights_checksum(self.model)}\n"
        with (self.checksum_dir / f"rank{self.dist.rank}.txt").open("a") as fh:
            fh.write(line)

    def _best_text(self) -> str:
        return "" if self.best_score is None else f"  best val dice {self.best_score:.4f}"

    def _should_validate(self) -> bool:
        if len(self.data.val) == 0:
            return False
        done = self.epoch + 1
        return done % self.config.val_every == 0 or done == self.config.max_epochs

    def validate_now(self, row: dict[str, Any]) -> bool:
        """Validate, update ``row``, save ``best.pt`` on improvement; True to stop early."""
        start = time.perf_counter()
        result = validate(
            self.model,
            self.data.val_loader(self.config),
            self.config,
            self.device,
            amp=self.amp and self.device.type == "cuda",
        )
        row.update(result.summary(self.config.stage))
        row["val_seconds"] = time.perf_counter() - start
        score = float(row["val_dice"])
        if math.isfinite(score) and (self.best_score is None or score > self.best_score):
            self.best_score, self.best_epoch, self.bad_validations = score, self.epoch + 1, 0
            payload = {"epoch": self.epoch + 1, "score": score, "model": self.model.state_dict()}
            save_checkpoint(self.run / "best.pt", {**payload, "config": self.config.to_dict()})
        else:
            self.bad_validations += 1
        patience = self.config.early_stopping_patience
        return patience is not None and self.bad_validations >= patience

    def fit(self, stop_after: int | None = None) -> TrainResult:
        """Train from :attr:`epoch` to ``max_epochs`` (or early stop), then write the bundle.

        Args:
            stop_after: Pause after this epoch (1-based) although ``max_epochs`` is not
                reached; the run resumes exactly from ``last.pt`` later.

        """
        stopped = False
        end = (
            self.config.max_epochs
            if stop_after is None
            else min(stop_after, self.config.max_epochs)
        )
        main = self.dist.is_main  # distributed: rank 0 validates, logs and writes
        if main and not (self.run / "last.pt").is_file():  # a stop in epoch 1 can resume too
            save_checkpoint(self.run / "last.pt", self.state())
        with epoch_bar(self.progress) as bar:
            while self.epoch < end and not stopped:
                row = self.train_epoch(bar)
                if self._should_validate():
                    stopped = self.validate_now(row) if main else False
                    stopped = broadcast_flag(stopped, self.dist, self.device)
                self.history.append(row)
                self.epoch += 1
                if main:
                    log.info("epoch %d: %s", self.epoch, row)
                    write_metrics(self.run / "metrics.csv", self.history)
                    if self.epoch == end or stopped or self.epoch % CURVES_EVERY == 0:
                        write_curves(  # matplotlib costs ~0.5 s: not after every epoch
                            self.run / "curves.png", self.history, f"{self.config.stage} stage"
                        )
                    save_checkpoint(self.run / "last.pt", self.state())
                self._stop_if_interrupted()
        return self.finish(stopped)

    def finish(self, stopped: bool) -> TrainResult:
        """Write ``bundle/`` from the best weights (the last ones without validation)."""
        if not self.dist.is_main:  # rank 0 writes the bundle; the others wait for it
            barrier(self.dist)
            return TrainResult(
                self.run, self.run / "bundle", self.epoch, None, None, stopped, self.history
            )
        weights = self.model.state_dict()
        if (self.run / "best.pt").is_file():
            weights = load_checkpoint(self.run / "best.pt", self.device)["model"]
        model = build_model(self.config.model, seed=0)
        model.load_state_dict(weights)
        training: dict[str, Any] = {
            "epoch": self.best_epoch if self.best_epoch is not None else self.epoch,
            "val_dice": self.best_score,
            "epochs_run": self.epoch,
            "run": str(self.run.resolve()),
            **self.provenance,
        }
        if self.data.synthetic is not None:  # what it trained on, e.g. the liver HU range
            training["synthetic"] = provenance(
                self.data.synthetic.cases, only=self.config.synthetic_only
            )
        bundle = save_bundle(
            self.run / "bundle", model, self.config, training=training, overwrite=True
        )
        barrier(self.dist)
        return TrainResult(
            self.run, bundle, self.epoch, self.best_epoch, self.best_score, stopped, self.history
        )
