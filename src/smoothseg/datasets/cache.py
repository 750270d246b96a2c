"""The prepared cache: per case, memory-mappable arrays plus a JSON record of the geometry.

Layout of ``CACHE/cases/<case_id>/``:

* ``image.npy`` — the image in canonical RAS voxel order (int16 HU, or float32), C order;
* ``label.npy`` — the harmonized uint8 label map on the same grid;
* ``case.json`` — ``affine`` (4x4 voxel → RAS mm of both arrays), ``native`` (shape and affine of
  the source file's grid, to write results back onto it; ``null`` when the source already was
  RAS), source paths and series UIDs, and the case's manifest row. Written last: a case folder
  with ``case.json`` is complete.

``numpy.load(path, mmap_mode="r")`` opens the arrays without reading them;
:func:`load_cached_case` returns both as :class:`~smoothseg.io.Volume` objects.

The same layout (``.npy`` arrays + a JSON record written last, the folder built beside its
target and renamed into place) holds derived arrays too: :func:`write_array_folder` /
:func:`read_array_folder` (the training's preprocessed cache, ``smoothseg.training.preprocessed``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from smoothseg.datasets.base import LoadedCase
from smoothseg.datasets.manifest import ManifestRow
from smoothseg.errors import InputError
from smoothseg.io.volume import Grid, SourceInfo, Volume

CASE_RECORD = "case.json"
ARRAYS_RECORD = "arrays.json"
CACHE_VERSION = 1


def case_dir_name(case_id: str) -> str:
    """A file-system-safe folder name for ``case_id``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", case_id).lstrip(".") or "_"


def case_dir(cache: Path, case_id: str) -> Path:
    """``CACHE/cases/<case_id>``."""
    return cache / "cases" / case_dir_name(case_id)


def _grid_json(grid: Grid | None) -> dict[str, Any] | None:
    if grid is None:
        return None
    return {"shape": list(grid.shape), "affine": np.asarray(grid.affine).tolist()}


def write_cached_case(cache: Path, case: LoadedCase, row: ManifestRow) -> Path:
    """Write one case into ``cache`` (replacing an older copy of it) and return its folder."""
    target = case_dir(cache, case.source.case_id)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    image = np.asarray(case.image.array)
    if image.dtype == np.float64:
        image = image.astype(np.float32)
    np.save(tmp / "image.npy", np.ascontiguousarray(image))
    np.save(tmp / "label.npy", np.ascontiguousarray(case.label.array, dtype=np.uint8))
    record = {
        "version": CACHE_VERSION,
        "case_id": case.source.case_id,
        "affine": np.asarray(case.image.affine).tolist(),
        "native": _grid_json(case.image.native),
        "image_source": case.image_source,
        "label_source": case.label_source,
        "row": row.to_json(),
    }
    (tmp / CASE_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def write_array_folder(
    folder: Path, arrays: Mapping[str, np.ndarray[Any, Any]], record: Mapping[str, Any]
) -> Path:
    """Write ``<name>.npy`` per array and ``arrays.json`` (``record`` + the names) last.

    Built in a temporary folder beside ``folder`` (unique per process) and renamed into place;
    when another process published ``folder`` first, its copy is kept and ours dropped.
    """
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(array))
        document = {"version": CACHE_VERSION, "arrays": sorted(arrays), **record}
        (tmp / ARRAYS_RECORD).write_text(json.dumps(document) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # stale copy (the caller checked it)
        try:
            tmp.rename(folder)
        except OSError:  # published meanwhile by another process
            if not (folder / ARRAYS_RECORD).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read_array_folder(
    folder: Path, *, mmap: bool = True
) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]] | None:
    """The arrays (memory-mapped read-only by default) and record of a finished folder.

    Returns ``None`` when the folder is absent or incomplete (no ``arrays.json``).
    """
    path = folder / ARRAYS_RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("version") != CACHE_VERSION:
        return None
    mode: Literal["r"] | None = "r" if mmap else None
    try:
        arrays = {n: np.load(folder / f"{n}.npy", mmap_mode=mode) for n in record["arrays"]}
    except (OSError, ValueError, KeyError):
        return None
    return arrays, record


def read_case_record(cache: Path, case_id: str) -> dict[str, Any] | None:
    """The ``case.json`` of a finished case, or ``None`` when the case is not (fully) cached."""
    path = case_dir(cache, case_id) / CASE_RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "row" in record else None


@dataclass(frozen=True)
class CachedCase:
    """A case loaded from the cache (arrays memory-mapped unless asked otherwise)."""

    case_id: str
    image: Volume
    label: Volume
    row: ManifestRow


def load_cached_case(cache: str | Path, case_id: str, *, mmap: bool = True) -> CachedCase:
    """Open a prepared case as image and label volumes in canonical RAS.

    Raises:
        InputError: the case is not in the cache.

    """
    base = Path(cache)
    record = read_case_record(base, case_id)
    if record is None:
        raise InputError(case_dir(base, case_id), f"case {case_id!r} is not in the cache")
    folder = case_dir(base, case_id)
    mode: Literal["r"] | None = "r" if mmap else None
    affine = np.asarray(record["affine"], dtype=np.float64)
    native_json = record.get("native")
    native = None
    if native_json:
        shape = native_json["shape"]
        native = Grid(
            (int(shape[0]), int(shape[1]), int(shape[2])), np.asarray(native_json["affine"])
        )
    image = Volume(
        np.load(folder / "image.npy", mmap_mode=mode),
        affine,
        kind="image",
        source=SourceInfo(path=str(record.get("image_source", "")), format="cache"),
        native=native,
    )
    label = Volume(
        np.load(folder / "label.npy", mmap_mode=mode),
        affine,
        kind="label",
        source=SourceInfo(path=str(record.get("label_source", "")), format="cache"),
        native=native,
    )
    return CachedCase(case_id, image, label, ManifestRow.from_json(record["row"]))
