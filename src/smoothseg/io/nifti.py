"""NIfTI-1/2 reading and writing with nibabel (RAS affines, no conversion needed)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from smoothseg.errors import InputError
from smoothseg.io.common import check_claimed_size, require_3d
from smoothseg.io.registry import READERS, WRITERS, ReaderSpec, ReadOptions, WriterSpec
from smoothseg.io.volume import SourceInfo, Volume

SUFFIXES = (".nii", ".nii.gz")


def read_nifti(path: Path, options: ReadOptions) -> Volume:
    """Read a NIfTI file, applying its scaling (scl_slope/scl_inter)."""
    del options
    img = nib.load(str(path))
    if not isinstance(img, nib.Nifti1Image | nib.Nifti2Image):
        raise InputError(path, f"not a NIfTI image (nibabel read it as {type(img).__name__})")
    header = img.header
    compressed = path.name.lower().endswith(".gz")
    single = int(getattr(header, "single_vox_offset", 0))  # vox_offset 0 means "right after"
    offset = max(int(header.get_data_offset()), single)
    check_claimed_size(
        path,
        tuple(int(n) for n in header.get_data_shape()),
        np.dtype(header.get_data_dtype()).itemsize,
        available=path.stat().st_size - (0 if compressed else offset),
        compressed=compressed,
        what="NIfTI",
    )
    array = require_3d(np.asanyarray(img.dataobj), path)
    warnings: list[str] = []
    if int(header["sform_code"]) == 0 and int(header["qform_code"]) == 0:
        warnings.append("no sform/qform in header: orientation unknown, voxel sizes from pixdim")
    affine = np.asarray(img.affine, dtype=np.float64)
    if np.allclose(affine, np.eye(4)):
        warnings.append("identity affine: the file stores no real voxel spacing (1 mm assumed)")
    source = SourceInfo(path=str(path), format="nifti", warnings=tuple(warnings))
    return Volume(array=array, affine=affine, source=source)


def write_nifti(volume: Volume, path: Path) -> None:
    """Write ``volume`` as NIfTI-1 with both sform and qform set (scanner space, mm)."""
    img = nib.Nifti1Image(volume.array, volume.affine)
    img.set_sform(volume.affine, code=1)
    img.set_qform(volume.affine, code=1)
    img.header.set_xyzt_units(xyz="mm")
    if volume.kind == "label":
        img.header["intent_code"] = 1002  # NIFTI_INTENT_LABEL
    nib.save(img, str(path))


READERS.register(ReaderSpec("nifti", "NIfTI", SUFFIXES, read_nifti))
WRITERS.register(WriterSpec("nifti", "NIfTI", SUFFIXES, write_nifti))
