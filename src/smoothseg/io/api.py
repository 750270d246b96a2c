"""Reading and writing volumes: the entry points the rest of smoothseg uses."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.errors import GeometryError, InputError, SmoothsegError, UnsupportedFormatError
from smoothseg.io.atomic import atomic_output, write_problem
from smoothseg.io.limits import ReadLimits
from smoothseg.io.registry import READERS, WRITERS, ReaderSpec, ReadOptions
from smoothseg.io.volume import Volume, VolumeKind

#: At most this many distinct non-negative integer values make an integer volume a label map.
MAX_LABEL_VALUES = 256


def reader_for(path: Path, format: str | None = None) -> ReaderSpec:
    """The reader for ``path``: by name if given, else folder → DICOM, else by suffix."""
    if format is not None:
        return READERS.get(format)
    if path.is_dir():
        return READERS.get("dicom")
    spec = READERS.for_suffix(path)
    if spec is not None:
        return spec
    if _has_dicom_preamble(path):
        return READERS.get("dicom")
    raise UnsupportedFormatError(path, f"unknown file format; supported: {READERS.supported()}")


def _has_dicom_preamble(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def looks_like_labels(array: npt.NDArray[Any]) -> bool:
    """Whether ``array`` holds a label map: few distinct non-negative integer values."""
    if array.size == 0:
        return False
    if np.issubdtype(array.dtype, np.bool_):
        return True
    if np.issubdtype(array.dtype, np.floating):
        lo, hi = float(np.nanmin(array)), float(np.nanmax(array))
        if lo < 0 or hi > MAX_LABEL_VALUES * 256 or not np.all(array == np.round(array)):
            return False
        return len(np.unique(array)) <= MAX_LABEL_VALUES
    if not np.issubdtype(array.dtype, np.integer):
        return False
    lo, hi = int(array.min()), int(array.max())
    if lo < 0 or hi > 65535:
        return False
    return int(np.count_nonzero(np.bincount(array.ravel().astype(np.int64)))) <= MAX_LABEL_VALUES


def _as_label_array(array: npt.NDArray[Any], path: Path) -> npt.NDArray[Any]:
    if np.issubdtype(array.dtype, np.integer) and array.dtype.itemsize <= 2:
        return array
    if not looks_like_labels(array):
        raise InputError(path, "expected a label map (non-negative integers), found intensities")
    hi = int(np.max(array))
    dtype = np.uint8 if hi < 256 else np.uint16
    return np.asarray(array).astype(dtype)


def read_volume(
    path: str | Path,
    *,
    kind: VolumeKind | None = None,
    series: str | None = None,
    format: str | None = None,
    canonical: bool = True,
    limits: ReadLimits | None = None,
) -> Volume:
    """Read a 3D volume from a file or a DICOM folder.

    Args:
        path: NIfTI/NRRD/MHA file, a DICOM file, or a folder holding a DICOM series/study.
        kind: ``"image"`` or ``"label"``; ``None`` decides from the values (few non-negative
            integers → label).
        series: DICOM series to read (UID, number, folder name or description).
        format: Force a reader by name (see ``READERS.names()``).
        canonical: Reorient to RAS voxel order (recording the native grid).
        limits: Declared-size limits and detached-data confinement (default:
            :meth:`ReadLimits.from_env`, the documented defaults).

    Raises:
        InputError: the path is missing, empty, unreadable, not a regular file or folder,
            declares more than ``limits`` allow, or is not a 3D volume of real numbers.

    """
    p = Path(path).expanduser()
    check_readable(p)
    spec = reader_for(p, format)
    options = ReadOptions(series=series, limits=limits or ReadLimits.from_env())
    try:
        volume = spec.read(p, options)
    except GeometryError as exc:  # e.g. a singular affine from a corrupt header: name the file
        raise InputError(p, f"invalid geometry in {spec.description} header: {exc}") from exc
    except SmoothsegError:
        raise
    except MemoryError as exc:
        raise InputError(p, f"not enough memory to read it as {spec.description}") from exc
    except RecursionError as exc:
        raise InputError(p, f"cannot read as {spec.description}: nesting too deep") from exc
    except Exception as exc:  # third-party readers raise anything on corrupt input
        raise InputError(p, f"cannot read as {spec.description}: {_reason(exc)}") from exc
    check_real_valued(volume.array, p)
    if kind is None:
        kind = "label" if looks_like_labels(volume.array) else "image"
    if kind == "label":
        volume = replace(volume, array=_as_label_array(volume.array, p), kind="label")
    if not canonical:
        return volume
    try:
        return volume.to_canonical()
    except (ValueError, GeometryError) as exc:  # nibabel cannot orient a degenerate affine
        raise InputError(p, f"cannot orient the voxel axes (degenerate affine): {exc}") from exc


def check_readable(path: Path) -> None:
    """Refuse a missing, unreadable, empty or special path (FIFO, device, socket) in one line.

    A FIFO would block the reader forever and a device such as ``/dev/zero`` never ends.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(path, "no such file or folder") from None
    except OSError as exc:
        raise InputError(path, f"cannot open: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        if not os.access(path, os.R_OK | os.X_OK):
            raise InputError(path, "cannot read this folder: permission denied")
        return
    if not stat.S_ISREG(mode):
        raise InputError(path, "not a regular file (a FIFO, device or socket); give a scan file")
    if not os.access(path, os.R_OK):
        raise InputError(path, "cannot read this file: permission denied")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty (0 bytes)")


def check_real_valued(array: npt.NDArray[Any], path: Path) -> None:
    """Refuse complex, colour (RGB) or other non-numeric voxels with one line."""
    kind = array.dtype.kind
    if kind in "biuf":
        return
    if kind == "c":
        what = f"complex values ({array.dtype})"
        hint = "take the magnitude first"
    elif array.dtype.names:
        what = f"voxels with several fields ({', '.join(array.dtype.names)}; RGB colour?)"
        hint = "give a grey-level scan"
    else:
        what = f"non-numeric voxels ({array.dtype})"
        hint = "give a grey-level scan"
    raise InputError(path, f"image holds {what}; smoothseg needs real intensities: {hint}")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    if not text:
        return name
    return text[:300] if name in text else f"{text[:300]} ({name})"


def write_volume(
    volume: Volume,
    path: str | Path,
    *,
    reference: Volume | None = None,
    overwrite: bool = False,
    format: str | None = None,
) -> Path:
    """Write ``volume`` atomically, on its source's native grid.

    Args:
        volume: What to write. Written on its native grid (see :meth:`Volume.to_native`).
        path: Output file; the suffix picks the format unless ``format`` is given.
        reference: The image ``volume`` was computed on; ``volume`` must share its current
            grid and is then written on the reference's native grid (for masks).
        overwrite: Replace an existing file.
        format: Writer name (see ``WRITERS.names()``).

    Returns:
        The written path.

    """
    target = Path(path).expanduser()
    spec = WRITERS.get(format) if format else WRITERS.for_suffix(target)
    if spec is None:
        raise UnsupportedFormatError(
            target, f"cannot write this file type; supported: {WRITERS.supported()}"
        )
    if reference is not None:
        volume = volume.on_grid_of(reference, what="output")
    out = volume.to_native()
    if out.kind == "label":
        hi = int(out.array.max()) if out.array.size else 0
        out = out.with_array(out.array.astype(np.uint8 if hi < 256 else np.uint16))
    with atomic_output(target, overwrite=overwrite) as tmp:
        try:
            spec.write(out, tmp)
        except OSError as exc:
            raise InputError(target, write_problem(exc)) from exc
        except RuntimeError as exc:  # SimpleITK reports failed writes (disk full...) this way
            raise InputError(target, f"cannot write as {spec.description}: {_reason(exc)}") from exc
    return target
