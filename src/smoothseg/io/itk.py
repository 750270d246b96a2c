"""NRRD and MetaImage (MHA/MHD) reading and writing with SimpleITK (LPS ↔ RAS converted)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from smoothseg.errors import InputError
from smoothseg.io.common import (
    affine_from_itk,
    check_claimed_size,
    check_spacing,
    itk_from_affine,
    require_3d,
)
from smoothseg.io.detached import mha_data_files, nrrd_data_files
from smoothseg.io.limits import ReadLimits
from smoothseg.io.registry import READERS, WRITERS, ReaderSpec, ReadOptions, WriterSpec
from smoothseg.io.volume import SourceInfo, Volume

NRRD_SUFFIXES = (".nrrd", ".nhdr")
MHA_SUFFIXES = (".mha", ".mhd")


def itk_reason(exc: BaseException) -> str:
    """The informative part of a SimpleITK exception (its first line is only a source path)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [
        re.sub(r"^(itk::ERROR|ITK ERROR): \w+\(0x[0-9a-f]+\): ", "", ln)
        for ln in lines
        if not ln.startswith(("Exception thrown in SimpleITK", "Reason:"))
    ]
    text = "; ".join(useful[-2:]) if useful else (lines[0] if lines else type(exc).__name__)
    return text[:300]


def _check_header(path: Path, name: str, limits: ReadLimits) -> None:
    """Check the header before any data is read: detached data files and declared sizes.

    Detached data files are found in the header text (before SimpleITK sees it) and must be
    regular files inside the header's folder (:mod:`smoothseg.io.detached`); the declared
    size must fit the limits and the data the files hold.
    """
    finder = nrrd_data_files if name == "NRRD" else mha_data_files
    detached = finder(path, confined=limits.confine_data_files)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as exc:
        raise InputError(path, f"cannot read as {name}: {itk_reason(exc)}") from exc
    shape = tuple(int(n) for n in reader.GetSize())
    itemsize = sitk.GetPixelIDValueAsString(reader.GetPixelID())
    nbytes = _ITEMSIZE.get(itemsize, 8) * max(1, reader.GetNumberOfComponents())
    limits.check_declared(path, shape, nbytes)
    if detached is not None:
        available, compressed = detached.total_bytes, detached.compressed
    else:
        available, compressed = path.stat().st_size, True
    check_claimed_size(path, shape, nbytes, available=available, compressed=compressed, what=name)


_ITEMSIZE = {
    "8-bit unsigned integer": 1, "8-bit signed integer": 1, "16-bit unsigned integer": 2,
    "16-bit signed integer": 2, "32-bit unsigned integer": 4, "32-bit signed integer": 4,
    "64-bit unsigned integer": 8, "64-bit signed integer": 8, "32-bit float": 4,
    "64-bit float": 8,
}  # fmt: skip


def _read_itk(path: Path, fmt: str, limits: ReadLimits) -> Volume:
    name = "NRRD" if fmt == "nrrd" else "MetaImage"
    _check_header(path, name, limits)
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise InputError(path, f"cannot read as {name}: {itk_reason(exc)}") from exc
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            path,
            f"image has {image.GetNumberOfComponentsPerPixel()} components per voxel; "
            "smoothseg needs a scalar (grey-level) volume",
        )
    dim = image.GetDimension()
    array = sitk.GetArrayFromImage(image)  # (k, j, i) order
    array = np.ascontiguousarray(array.transpose(tuple(reversed(range(array.ndim)))))
    array = require_3d(array, path)
    if dim != 3:
        raise InputError(path, f"image is {dim}D; smoothseg needs a 3D volume")
    affine = affine_from_itk(image.GetDirection(), image.GetSpacing(), image.GetOrigin())
    check_spacing(path, affine)
    return Volume(array=array, affine=affine, source=SourceInfo(path=str(path), format=fmt))


def _write_itk(volume: Volume, path: Path, compress: bool) -> None:
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.array.transpose(2, 1, 0)))
    direction, spacing, origin = itk_from_affine(volume.affine)
    image.SetDirection(direction)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    sitk.WriteImage(image, str(path), useCompression=compress)


def read_nrrd(path: Path, options: ReadOptions) -> Volume:
    """Read a NRRD file (.nrrd, or .nhdr with its detached data)."""
    return _read_itk(path, "nrrd", options.limits)


def read_mha(path: Path, options: ReadOptions) -> Volume:
    """Read a MetaImage file (.mha, or .mhd with its raw data)."""
    return _read_itk(path, "mha", options.limits)


def write_nrrd(volume: Volume, path: Path) -> None:
    """Write gzip-compressed NRRD."""
    _write_itk(volume, path, compress=True)


def write_mha(volume: Volume, path: Path) -> None:
    """Write compressed MetaImage."""
    _write_itk(volume, path, compress=True)


READERS.register(ReaderSpec("nrrd", "NRRD", NRRD_SUFFIXES, read_nrrd))
READERS.register(ReaderSpec("mha", "MetaImage", MHA_SUFFIXES, read_mha))
WRITERS.register(WriterSpec("nrrd", "NRRD", (".nrrd",), write_nrrd))
WRITERS.register(WriterSpec("mha", "MetaImage", (".mha",), write_mha))
