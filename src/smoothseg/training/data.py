"""Training data: split selection, soft labels, and datasets/loaders of one stage.

Each item starts as ``{"case_id", "cache", "soft_tlvr"}``; ``soft_tlvr`` is the patient's
knowledge-informed soft label (``tlvr_hat`` of ``soft_labels.csv``) or NaN when the patient
has none. It travels with its own sample through cropping and collation, so a batch's
``soft_tlvr`` tensor ``[B]`` lines up with its images for any batch size and shuffling.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from monai.data.dataloader import DataLoader
from monai.data.dataset import CacheDataset, Dataset
from monai.transforms.compose import Compose
from torch.utils.data import ConcatDataset, DistributedSampler

from smoothseg.datasets.manifest import read_manifest
from smoothseg.datasets.splits import Split, read_splits
from smoothseg.errors import InputError
from smoothseg.preprocess.transforms import train_transforms, val_transforms
from smoothseg.training.config import TrainConfig
from smoothseg.training.distributed import DistContext, rank_seed
from smoothseg.training.preprocessed import PreprocessedDataset, cache_root
from smoothseg.training.synthetic import SyntheticCases, SyntheticDataset

log = logging.getLogger(__name__)
SOFT_LABEL_COLUMNS = ("case_id", "tlvr_hat")


def select_split(
    path: str | Path, *, replication: int | None = None, fold: int | None = None
) -> Split:
    """One split of a splits file: ``replication_<i>`` / ``fold_<i>`` (1-based), else the first.

    Raises:
        InputError: Both given, or no split of that name (the message lists the names).

    """
    splits = read_splits(path)
    if replication is not None and fold is not None:
        raise InputError(path, "give either a replication or a fold, not both")
    if not splits:
        raise InputError(path, "the splits file holds no split")
    if replication is None and fold is None:
        return splits[0]
    name = f"replication_{replication}" if replication is not None else f"fold_{fold}"
    for split in splits:
        if split.name == name:
            return split
    raise InputError(path, f"no split {name!r}; splits: {', '.join(s.name for s in splits)}")


def read_soft_labels(path: str | Path) -> dict[str, float]:
    """Case id → soft label (``tlvr_hat``) from ``soft_labels.csv``.

    Rows with an empty or non-finite ``tlvr_hat`` count as missing. Other columns
    (``tlvr``, ``fold``) are ignored.

    Raises:
        InputError: Missing file or columns, a value outside [0, 1] or not a number, or a case
            listed twice with different values.

    """
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in SOFT_LABEL_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(p, f"missing column(s) {missing}; need {list(SOFT_LABEL_COLUMNS)}")
            rows = list(reader)
    except OSError as exc:
        raise InputError(p, f"cannot read soft labels: {exc.strerror or exc}") from exc
    out: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        case, text = (row.get("case_id") or "").strip(), (row.get("tlvr_hat") or "").strip()
        if not case or not text:
            continue
        try:
            value = float(text)
        except ValueError:
            raise InputError(p, f"line {line}: tlvr_hat {text!r} is not a number") from None
        if not math.isfinite(value):
            continue
        if not 0.0 <= value <= 1.0:
            raise InputError(p, f"line {line}: tlvr_hat {value} is outside [0, 1]")
        if case in out and out[case] != value:
            raise InputError(p, f"case {case!r} has two different soft labels")
        out[case] = value
    return out


def case_items(
    cache: str | Path, case_ids: Sequence[str], soft_labels: dict[str, float] | None = None
) -> list[dict[str, Any]]:
    """Dataset items of ``case_ids`` (all must be in the cache's manifest).

    Raises:
        InputError: A case is not in the cache.

    """
    rows = {r.case_id for r in read_manifest(cache)}
    absent = [c for c in case_ids if c not in rows]
    if absent:
        raise InputError(cache, f"cases not in the cache: {', '.join(absent[:5])}")
    labels = soft_labels or {}
    return [
        {"case_id": c, "cache": str(cache), "soft_tlvr": labels.get(c, math.nan)} for c in case_ids
    ]


def _dataset(
    items: list[dict[str, Any]], transform: Compose, config: TrainConfig, root: Path | None
) -> Dataset:
    """Persistent (disk, mmapped) cache, else in-memory cache, else plain (decode every time)."""
    if root is not None:
        return PreprocessedDataset(items, transform, root, in_memory=config.cache_in_memory)
    if config.cache_in_memory:
        return CacheDataset(
            items, transform, cache_rate=1.0, num_workers=max(config.num_workers, 1), progress=False
        )
    return Dataset(items, transform)


@dataclass
class StageData:
    """Datasets and the training loader of one run.

    Attributes:
        train: Training dataset (random patches): the cached cases, the synthetic ones, or both.
        val: Validation dataset (whole volumes / liver boxes); may be empty.
        train_transform: The training pipeline (reseeded every epoch).
        train_ids: Training case ids (of the cache).
        val_ids: Validation case ids.
        synthetic: The on-the-fly synthetic cases (``TrainConfig.synthetic_cases``), if any.

    """

    train: Dataset | ConcatDataset[Any]
    val: Dataset
    train_transform: Compose
    train_ids: tuple[str, ...]
    val_ids: tuple[str, ...]
    synthetic: SyntheticDataset | None = None

    def train_loader(
        self, config: TrainConfig, epoch: int, dist: DistContext | None = None
    ) -> DataLoader:
        """The shuffled loader of ``epoch``: order and augmentation follow ``(seed, epoch)``.

        Reseeding per epoch makes a resumed run draw exactly what an uninterrupted one would.
        In a distributed run a ``DistributedSampler`` (seeded by ``config.seed``, reshuffled
        per epoch) gives each rank its share, and each rank augments with its own seed.
        """
        ctx = dist or DistContext()
        epoch_seed = epoch_seed_of(rank_seed(config.seed, ctx.rank), epoch)
        self.train_transform.set_random_state(seed=epoch_seed)
        if self.synthetic is not None:  # new cases every epoch, their own random stream
            self.synthetic.set_epoch(epoch)
            self.synthetic.transform.set_random_state(seed=(epoch_seed + 1) % (2**32 - 1))
        generator = torch.Generator().manual_seed(epoch_seed)
        sampler: DistributedSampler[Any] | None = None
        if ctx.enabled:
            sampler = DistributedSampler(
                self.train, num_replicas=ctx.world_size, rank=ctx.rank, seed=config.seed
            )
            sampler.set_epoch(epoch)
        return DataLoader(
            self.train,
            batch_size=config.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            num_workers=config.num_workers,
            generator=generator,
            pin_memory=_pin(config),
        )

    def val_loader(self, config: TrainConfig) -> DataLoader:
        """Validation cases one by one (volumes differ in size).

        The loader gets its own generator: MONAI's ``DataLoader`` would otherwise draw from and
        re-seed torch's global generator, disturbing the training run's random stream.
        """
        return DataLoader(
            self.val,
            batch_size=1,
            shuffle=False,
            num_workers=config.num_workers,
            generator=torch.Generator().manual_seed(config.seed),
            pin_memory=_pin(config),
        )


def _pin(config: TrainConfig) -> bool:
    """Pinned host memory speeds up copies to a CUDA device."""
    return torch.cuda.is_available() and config.device != "cpu"


def epoch_seed_of(seed: int, epoch: int) -> int:
    """A 32-bit seed for ``epoch`` of a run seeded with ``seed``."""
    return (seed * 1_000_003 + epoch * 7919 + 12345) % (2**32 - 1)


def stage_data(
    config: TrainConfig,
    cache: str | Path,
    split: Split,
    soft_labels: dict[str, float] | None = None,
) -> StageData:
    """Datasets of ``config.stage`` for ``split`` (train and val parts).

    With ``config.synthetic_cases`` > 0, that many new domain-randomized phantoms join the
    training set every epoch (seeded by ``config.seed``); ``config.synthetic_only`` leaves the
    split's training cases out.

    Raises:
        InputError: No training case, or a case absent from the cache.

    """
    train_ids = [] if config.synthetic_only else list(split.train)
    val_ids = list(split.val)
    if not train_ids and not config.synthetic_cases:
        raise InputError(cache, f"split {split.name!r} has no training case")
    if config.stage == "tumor":
        train_ids, val_ids = _with_liver(cache, train_ids), _with_liver(cache, val_ids)
        if not train_ids and not config.synthetic_cases:
            raise InputError(cache, f"split {split.name!r} has no training case with a liver")
    transform = train_transforms(config.stage, config.preprocess)
    train_items = case_items(cache, train_ids, soft_labels)
    val_items = case_items(cache, val_ids, soft_labels)
    roots: dict[str, Path | None] = {"train": None, "val": None}
    if config.persistent_cache:
        base = Path(config.cache_dir) if config.cache_dir else Path(cache) / "preprocessed"
        settings = config.preprocess.to_dict()
        roots = {r: cache_root(base, config.stage, r, settings) for r in ("train", "val")}
    parts: list[Dataset] = []
    if train_items:
        parts.append(_dataset(train_items, transform, config, roots["train"]))
    synthetic = None
    if config.synthetic_cases:
        cases = SyntheticCases(config.synthetic_cases, seed=config.seed)
        synth_transform = train_transforms(config.stage, config.preprocess, load=False)
        synthetic = SyntheticDataset(cases, synth_transform)
        parts.append(synthetic)
    train: Dataset | ConcatDataset[Any] = parts[0] if len(parts) == 1 else ConcatDataset(parts)
    val_transform = val_transforms(config.stage, config.preprocess)
    val = _dataset(val_items, val_transform, config, roots["val"])
    return StageData(train, val, transform, tuple(train_ids), tuple(val_ids), synthetic)


def _with_liver(cache: str | Path, case_ids: list[str]) -> list[str]:
    """The cases whose label has liver voxels (the tumor stage needs a liver box)."""
    liver = {r.case_id: r.liver_ml for r in read_manifest(cache)}
    kept = [c for c in case_ids if liver.get(c, 1.0) > 0]
    if len(kept) < len(case_ids):
        dropped = sorted(set(case_ids) - set(kept))
        log.warning("tumor stage: skipping cases without liver: %s", ", ".join(dropped))
    return kept
