"""NRRD and MetaImage (MHA/MHD) reading and writing with SimpleITK (LPS ↔ RAS converted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from smoothseg.errors import InputError
from smoothseg.io.common import affine_from_itk, itk_from_affine, require_3d
from smoothseg.io.registry import READERS, WRITERS, ReaderSpec, ReadOptions, WriterSpec
from smoothseg.io.volume import SourceInfo, Volume

NRRD_SUFFIXES = (".nrrd", ".nhdr")
MHA_SUFFIXES = (".mha", ".mhd")


def _read_itk(path: Path, fmt: str) -> Volume:
    image = sitk.ReadImage(str(path))
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
    del options
    return _read_itk(path, "nrrd")


def read_mha(path: Path, options: ReadOptions) -> Volume:
    """Read a MetaImage file (.mha, or .mhd with its raw data)."""
    del options
    return _read_itk(path, "mha")


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
