"""Fuzz inputs for the volume readers: random bytes and mutated headers of real files.

Shared by ``tests/test_fuzz_readers.py`` (short, deterministic) and
``benchmarks/fuzz_readers.py`` (minutes per reader). Seed files are small volumes written by
smoothseg's own writers, plus small files of ``../shared/data`` when present.

Contract checked by :func:`read_example`: a reader returns a volume or raises a
:class:`~smoothseg.errors.SmoothsegError`; any other exception is a bug. (Hangs and interpreter
crashes are caught by the caller: pytest-timeout, or the fuzz script's watchdog process.)
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from smoothseg.errors import SmoothsegError
from smoothseg.io import Volume, read_volume, write_dicom_series, write_volume

#: Reader name → file name of one example (DICOM examples are a folder of slices).
READER_FILES = {"nifti": "x.nii", "nifti-gz": "x.nii.gz", "nrrd": "x.nrrd", "mha": "x.mha"}
READERS = ("nifti", "nifti-gz", "nrrd", "mha", "dicom")
HEADER_SPAN = 1024  # header mutations land in the first bytes (NIfTI: 348, DICOM meta...)
_SHARED = Path(os.environ.get("SMOOTHSEG_SHARED", Path(__file__).resolve().parents[2] / "shared"))
_SHARED_FILES = {
    "nifti-gz": ["data/totalsegmentator-example/example_seg.nii.gz"],
    "nrrd": ["data/dcmqi-ct3slice/liver_seg.nrrd"],
    "dicom": ["data/dcmqi-ct3slice/data_segmentations_ct-3slice_01.dcm"],
}


@dataclass(frozen=True)
class Example:
    """One fuzz input: the files of one reader call (name → bytes; DICOM: several slices)."""

    reader: str
    files: tuple[tuple[str, bytes], ...]


def _synthetic(folder: Path) -> dict[str, list[tuple[tuple[str, bytes], ...]]]:
    rng = np.random.default_rng(0)
    image = rng.integers(-1024, 1500, size=(9, 7, 5), dtype=np.int16)
    affine = np.array([[0.0, -0.8, 0, 10], [-0.7, 0, 0, 5], [0, 0, 2.5, -40], [0, 0, 0, 1]])
    volume = Volume(image, affine)
    labels = Volume((image > 500).astype(np.uint8), affine, kind="label")
    seeds: dict[str, list[tuple[tuple[str, bytes], ...]]] = {r: [] for r in READERS}
    for reader, name in READER_FILES.items():
        for index, vol in enumerate((volume, labels)):
            path = write_volume(vol, folder / f"{index}" / name)
            data = path.read_bytes()
            if reader == "nifti-gz":  # mutate the NIfTI stream, not its gzip wrapping
                data = gzip.decompress(data)
            seeds[reader].append(((name, data),))
    write_dicom_series(volume, folder / "dicom")
    slices = tuple((p.name, p.read_bytes()) for p in sorted((folder / "dicom").iterdir()))
    seeds["dicom"].append(slices[:3])
    return seeds


@cache
def seed_files() -> dict[str, list[tuple[tuple[str, bytes], ...]]]:
    """Valid files per reader (synthetic, plus small shared real files when present)."""
    folder = Path(tempfile.mkdtemp(prefix="smoothseg-fuzz-seeds-"))
    try:
        seeds = _synthetic(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for reader, names in _SHARED_FILES.items():
        for name in names:
            path = _SHARED / name
            if path.is_file() and path.stat().st_size < 2_000_000:
                data = path.read_bytes()
                file_name = READER_FILES.get(reader, "slice.dcm")
                if reader == "nifti-gz":
                    data = gzip.decompress(data)
                seeds[reader].append(((file_name, data),))
    return seeds


def mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    """Apply byte-level mutations: ``(kind, position, value)``; positions wrap to the header."""
    out = bytearray(data)
    for kind, position, value in ops:
        if not out:
            break
        span = min(len(out), HEADER_SPAN)
        at = position % span
        if kind == "set":
            out[at] = value
        elif kind == "flip":
            out[at] ^= 1 << (value % 8)
        elif kind == "insert":
            out[at:at] = bytes([value]) * (1 + value % 7)
        elif kind == "delete":
            del out[at : at + 1 + value % 7]
        elif kind == "digit":  # text headers (NRRD/MHA): numbers become other numbers
            digits = [i for i in range(span) if chr(out[i]).isdigit()]
            if digits:
                out[digits[position % len(digits)]] = ord("0") + value % 10
        elif kind == "truncate":
            del out[position % len(out) :]
    return bytes(out)


_OPS = st.tuples(
    st.sampled_from(["set", "flip", "insert", "delete", "digit", "truncate"]),
    st.integers(0, 2**20),
    st.integers(0, 255),
)


@st.composite
def mutated_examples(draw: st.DrawFn, reader: str) -> Example:
    """A seed file of ``reader`` with 1-6 header mutations (DICOM: in one slice)."""
    seeds = seed_files()[reader]
    files = list(draw(st.sampled_from(seeds)))
    target = draw(st.integers(0, len(files) - 1))
    name, data = files[target]
    files[target] = (name, mutate(data, draw(st.lists(_OPS, min_size=1, max_size=6))))
    return Example(reader, tuple(files))


@st.composite
def random_examples(draw: st.DrawFn, reader: str) -> Example:
    """Random bytes under the reader's file name (DICOM: with the 128-byte preamble + DICM)."""
    data = draw(st.binary(min_size=0, max_size=2048))
    if reader == "dicom":
        name, data = "slice.dcm", (b"\0" * 128 + b"DICM" + data) if draw(st.booleans()) else data
    else:
        name = READER_FILES[reader]
    return Example(reader, ((name, data),))


def examples(reader: str) -> st.SearchStrategy[Example]:
    """Random bytes or mutated real files, for ``reader``."""
    return st.one_of(random_examples(reader), mutated_examples(reader))


def write_example(example: Example, folder: Path) -> Path:
    """Write ``example`` into the empty ``folder``; returns what to pass to ``read_volume``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in example.files:
        if example.reader == "nifti-gz":
            data = gzip.compress(data, compresslevel=1, mtime=0)
        (folder / name).write_bytes(data)
    if example.reader == "dicom":
        return folder
    return folder / example.files[0][0]


def read_example(example: Example, folder: Path) -> str:
    """Read ``example`` (written into ``folder``); ``ok`` or the project error's class name.

    Raises:
        Exception: Whatever a reader raised that is not a ``SmoothsegError`` (a bug).

    """
    target = write_example(example, folder)
    try:
        read_volume(target)
    except SmoothsegError as exc:
        assert "\n" not in str(exc), f"multi-line error: {exc!r}"
        return type(exc).__name__
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return "ok"
