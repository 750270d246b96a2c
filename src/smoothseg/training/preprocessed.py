"""The persistent preprocessed cache: each case's deterministic preprocessing, on disk, mmapped.

A stage's pipeline (:mod:`smoothseg.preprocess.transforms`) starts with deterministic steps
(load the prepared arrays, resample, window, crop to the liver region, pad) and ends with random
ones (crops, augmentation). :class:`PreprocessedDataset` runs the deterministic part of a case
once, writes its output with :func:`smoothseg.datasets.cache.write_array_folder`::

    <cache_dir>/<stage>-<train|val>-<fingerprint>/<case id>/image.npy, label.npy, ..., arrays.json

and afterwards opens those arrays with ``numpy.load(mmap_mode="r")``: later epochs (and later
runs, other DDP ranks, DataLoader workers) decode nothing, and only the pages a random crop
touches are read. The fingerprint covers the stage, the preprocessing config and the cache
format; each case folder also records the size and modification time of the prepared case's
``case.json``, so a re-prepared case is preprocessed again. With ``in_memory`` the arrays are
also kept in RAM after their first use (per process).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data.dataset import Dataset
from monai.transforms.compose import Compose
from monai.transforms.transform import Randomizable

from smoothseg.datasets.cache import (
    CACHE_VERSION,
    CASE_RECORD,
    case_dir,
    case_dir_name,
    read_array_folder,
    write_array_folder,
)

Item = dict[Hashable, Any]
#: Item fields that belong to the run, not to the case's arrays (never cached).
RUN_FIELDS = ("case_id", "cache", "soft_tlvr")
NOT_WRITABLE = "The given NumPy array is not writable"
#: Bumped when the deterministic prefix's outputs change (2: ``whole_tlvr_voxels``).
PIPELINE_VERSION = 2


def split_pipeline(transform: Compose) -> tuple[Compose, Compose]:
    """``(deterministic prefix, random rest)``: the cut is the first ``Randomizable`` step."""
    steps = list(transform.transforms)
    cut = next((i for i, t in enumerate(steps) if isinstance(t, Randomizable)), len(steps))
    return Compose(steps[:cut]), Compose(steps[cut:])


def cache_root(base: Path, stage: str, role: str, preprocess: dict[str, Any]) -> Path:
    """``base/<stage>-<role>-<12 hex digits of the config fingerprint>``."""
    version = {"v": CACHE_VERSION, "pipeline": PIPELINE_VERSION}
    text = json.dumps({**version, "stage": stage, "role": role, "pre": preprocess})
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return base / f"{stage}-{role}-{digest}"


def _source_stamp(item: Item) -> list[int]:
    """Size and mtime (ns) of the prepared case's ``case.json`` (``[]`` when absent)."""
    path = case_dir(Path(str(item["cache"])), str(item["case_id"])) / CASE_RECORD
    try:
        stat = path.stat()
    except OSError:
        return []
    return [int(stat.st_size), int(stat.st_mtime_ns)]


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        plain = value.as_tensor() if hasattr(value, "as_tensor") else value
        return plain.detach().cpu().numpy()
    return value


class PreprocessedDataset(Dataset):
    """A MONAI ``Dataset`` whose deterministic prefix is cached on disk (see module docs).

    Args:
        data: Items ``{"case_id", "cache", "soft_tlvr"}``.
        transform: The stage's whole pipeline; its random steps run on every access.
        root: This pipeline's cache folder (:func:`cache_root`).
        in_memory: Also keep each case's arrays in RAM after first use.

    Attributes:
        computed: Cases whose deterministic part this process computed (not found on disk).

    """

    def __init__(
        self,
        data: Sequence[dict[str, Any]],
        transform: Compose,
        root: Path,
        *,
        in_memory: bool = False,
    ) -> None:
        super().__init__(list(data), transform)
        self.prefix, self.rest = split_pipeline(transform)
        self.root = root
        self.in_memory = in_memory
        self.memory: dict[int, Item] = {}
        self.computed = 0

    def cached_item(self, index: int) -> Item:
        """The deterministic output of case ``index`` (from RAM, disk, or computed now)."""
        if index in self.memory:
            return self.memory[index]
        item: Item = dict(self.data[index])
        folder = self.root / case_dir_name(str(item["case_id"]))
        stamp = _source_stamp(item)
        found = read_array_folder(folder)
        if found is None or found[1].get("source") != stamp:
            out = self.prefix(dict(item))
            arrays = {
                str(k): v
                for k, v in ((k, _plain(v)) for k, v in out.items() if k not in RUN_FIELDS)
                if isinstance(v, np.ndarray)
            }
            record = {
                str(k): list(v) if isinstance(v, tuple) else v
                for k, v in out.items()
                if k not in RUN_FIELDS and str(k) not in arrays
            }
            write_array_folder(folder, arrays, {"fields": record, "source": stamp})
            self.computed += 1
            # read back memory-mapped (a concurrent rewrite by another rank: use ours)
            found = read_array_folder(folder) or (arrays, {"fields": record, "source": stamp})
        arrays_on_disk, document = found
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in document["fields"].items()}
        result: Item = {**fields, **item}
        result.update(arrays_on_disk)
        if self.in_memory:
            result = {k: np.array(v) if isinstance(v, np.memmap) else v for k, v in result.items()}
            self.memory[index] = result
        return result

    def _transform(self, index: int) -> Any:
        data = dict(self.cached_item(index))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=NOT_WRITABLE)  # crops copy what they keep
            return self.rest(data)
