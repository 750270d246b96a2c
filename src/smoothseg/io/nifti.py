"""NIfTI-1/2 reading and writing with nibabel (RAS affines, no conversion needed).

Before nibabel reads a file, its header (and any header extensions) is read here from the
(possibly gzip) stream in bounded steps, and the declared data size is checked against
:class:`~smoothseg.io.limits.ReadLimits`: a small ``.nii.gz`` cannot make smoothseg inflate
gigabytes.
"""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path
from typing import IO, cast

import nibabel as nib
import numpy as np

from smoothseg.errors import InputError
from smoothseg.io.common import check_claimed_size, check_spacing, require_3d
from smoothseg.io.limits import ReadLimits
from smoothseg.io.registry import READERS, WRITERS, ReaderSpec, ReadOptions, WriterSpec
from smoothseg.io.volume import SourceInfo, Volume

SUFFIXES = (".nii", ".nii.gz")


def read_nifti(path: Path, options: ReadOptions) -> Volume:
    """Read a NIfTI file, applying its scaling (scl_slope/scl_inter)."""
    check_declared_size(path, options.limits)
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
    check_spacing(path, affine)
    if np.allclose(affine, np.eye(4)):
        warnings.append("identity affine: the file stores no real voxel spacing (1 mm assumed)")
    source = SourceInfo(path=str(path), format="nifti", warnings=tuple(warnings))
    return Volume(array=array, affine=affine, source=source)


def check_declared_size(path: Path, limits: ReadLimits) -> None:
    """Refuse a header declaring more than ``limits`` allow, reading at most that much.

    Reads the header, walks the header extensions (each one's declared size must stay before
    the data offset) and checks offset + voxels x item size, all before nibabel reads (and,
    for ``.nii.gz``, decompresses) anything. A header that is not NIfTI is left to nibabel.

    Raises:
        InputError: A declared size over the limits, or extensions reaching past the data.

    """
    gz = path.name.lower().endswith(".gz")
    stream = cast(IO[bytes], gzip.open(path, "rb") if gz else path.open("rb"))  # noqa: SIM115
    with stream as fh:
        declared = _declared(_parse_header(fh))
        if declared is None:
            return
        offset, shape, itemsize, endianness = declared
        limits.check_declared(path, shape, itemsize, extra_bytes=offset)
        flag = fh.read(4)
        if len(flag) == 4 and flag[0] != 0:
            _walk_extensions(path, fh, offset - fh.tell(), endianness)


def _parse_header(fh: IO[bytes]) -> nib.Nifti1Header | None:
    """The NIfTI-1 or -2 header at the start of ``fh``; ``None`` when it is not one."""
    head = fh.read(348)
    if len(head) < 348:
        return None
    for order in ("<", ">"):
        (size,) = struct.unpack(f"{order}i", head[:4])
        if size == 348:
            klass: type[nib.Nifti1Header] = nib.Nifti1Header
            break
        if size == 540:
            klass = nib.Nifti2Header
            head += fh.read(540 - 348)
            break
    else:
        return None
    try:
        header: nib.Nifti1Header = klass.from_fileobj(io.BytesIO(head), check=False)
    except Exception:  # a corrupt header: nibabel's own reading will explain it
        return None
    return header


def _declared(
    header: nib.Nifti1Header | None,
) -> tuple[int, tuple[int, ...], int, str] | None:
    """Data offset, shape, item size and byte order a header declares (``None``: unreadable)."""
    if header is None:
        return None
    try:
        offset = int(header.get_data_offset())
        shape = tuple(int(n) for n in header.get_data_shape())
        itemsize = np.dtype(header.get_data_dtype()).itemsize
    except Exception:  # a corrupt header: nibabel's own reading explains it
        return None
    return offset, shape, itemsize, str(header.endianness)


def _walk_extensions(path: Path, fh: IO[bytes], size: int, order: str) -> None:
    """Skip the header extensions as nibabel will read them, refusing any that overrun."""
    if size < 0:  # nibabel would read extensions of any size up to the end of the stream
        raise InputError(
            path, "cannot read as NIfTI: header extensions but no data offset (corrupt header)"
        )
    while size >= 16:
        ext = fh.read(8)
        if len(ext) < 8:
            return  # nibabel reports the truncation
        esize = struct.unpack(f"{order}i", ext[:4])[0]
        if esize < 8 or esize > size:
            raise InputError(
                path,
                f"cannot read as NIfTI: header extension of {esize} bytes does not fit before "
                "the data (corrupt or hostile header)",
            )
        remaining = esize - 8
        while remaining > 0:
            chunk = fh.read(min(remaining, 2**20))
            if not chunk:
                return
            remaining -= len(chunk)
        size -= esize


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
