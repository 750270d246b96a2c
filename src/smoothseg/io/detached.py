"""Detached data files of NRRD and MetaImage headers: found in the header text, then confined.

A NRRD header may name its data with ``data file:`` (one file, a numbered ``%d`` pattern, or
``LIST`` of files) and a MetaImage header with ``ElementDataFile`` (same three forms). A hostile
header can name any file the program may open (``/etc/shadow``, ``/dev/zero``); SimpleITK
would read it. So the header text is read here first, every named file is resolved (links
followed) and must lie inside the header's own folder (unless
:attr:`~smoothseg.io.limits.ReadLimits.confine_data_files` is off) and be a regular file;
their total size then bounds what the header may declare.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path

from smoothseg.errors import InputError
from smoothseg.io.limits import ENV_ALLOW_OUTSIDE

#: Most header text read (the fields must come first).
MAX_HEADER_BYTES = 16 * 2**20
#: Most files a ``%d`` pattern or ``LIST`` may name.
MAX_DATA_FILES = 100_000
_FIRST_READ = 2**20
_NRRD_KEY = re.compile(r"^\s*data\s*file\s*:\s?(.*)$", re.IGNORECASE)
_MHA_KEY = re.compile(r"^\s*ElementDataFile\s*=\s*(.*)$", re.IGNORECASE)
_NRRD_COMPRESSED = {"gz", "gzip", "bz2", "bzip2", "zrl"}


@dataclass(frozen=True)
class DataFiles:
    """The detached data files a header names.

    Attributes:
        paths: The files, resolved (links followed), in order.
        compressed: Whether the data in them are compressed.

    """

    paths: tuple[Path, ...]
    compressed: bool

    @property
    def total_bytes(self) -> int:
        """Their total size on disk."""
        return sum(p.stat().st_size for p in self.paths)


def _header_text(path: Path, *, stop_at_blank: bool) -> list[str]:
    """Header lines: up to a blank line (attached NRRD), a NUL byte or MAX_HEADER_BYTES."""
    with path.open("rb") as fh:
        raw = fh.read(_FIRST_READ)
        if len(raw) == _FIRST_READ and not _header_ends(raw, stop_at_blank):
            raw += fh.read(MAX_HEADER_BYTES - _FIRST_READ + 1)
    end = re.search(rb"\r?\n\r?\n", raw) if stop_at_blank else None
    if end is not None:
        raw = raw[: end.start()]
    elif b"\0" in raw:
        raw = raw[: raw.index(b"\0")]
    return raw.decode("latin-1").splitlines()


def _header_ends(raw: bytes, stop_at_blank: bool) -> bool:
    return b"\0" in raw or (stop_at_blank and re.search(rb"\r?\n\r?\n", raw) is not None)


def _names(path: Path, value: str, following: list[str]) -> list[str]:
    """File names of a data-file field: one name, ``LIST``, or ``pattern min max step``."""
    tokens = value.split()
    if not tokens:
        raise InputError(path, "header names an empty data file")
    if tokens[0].upper() == "LIST":
        names = [line.strip() for line in following if line.strip()]
    elif (
        "%" in tokens[0]
        and len(tokens) >= 4
        and all(re.fullmatch(r"-?\d+", t) for t in tokens[1:4])
    ):
        first, last, step = (int(t) for t in tokens[1:4])
        if step == 0 or (last - first) // step + 1 > MAX_DATA_FILES:
            raise InputError(path, f"data file pattern {value!r} names too many files")
        try:
            names = [tokens[0] % i for i in range(first, last + (1 if step > 0 else -1), step)]
        except (TypeError, ValueError) as exc:
            raise InputError(path, f"bad data file pattern {value!r}: {exc}") from exc
    else:
        names = [value.strip()]
    if len(names) > MAX_DATA_FILES:
        raise InputError(path, f"header names more than {MAX_DATA_FILES} data files")
    return names


def confine(header: Path, name: str, *, confined: bool) -> Path:
    """The data file ``name`` of ``header``, resolved; refused outside the header's folder.

    Raises:
        InputError: Outside the folder (when ``confined``), missing, or not a regular file
            (a device such as ``/dev/zero``, a FIFO, a folder).

    """
    folder = header.parent.resolve()
    target = (folder / name).resolve()
    if confined and not target.is_relative_to(folder):
        raise InputError(
            header,
            f"header names a data file outside its own folder ({name!r}); detached data must "
            f"lie beside the header (the command line allows it with {ENV_ALLOW_OUTSIDE}=1, "
            "the web app never)",
        )
    try:
        mode = target.stat().st_mode
    except OSError:
        raise InputError(header, f"data file {name!r} named in the header does not exist") from None
    if not stat.S_ISREG(mode):
        raise InputError(header, f"data file {name!r} named in the header is not a regular file")
    return target


def nrrd_data_files(path: Path, *, confined: bool) -> DataFiles | None:
    """The detached data files of a NRRD header (``None``: data attached to ``path``).

    Raises:
        InputError: A data file outside the folder, missing, or not a regular file.

    """
    lines = _header_text(path, stop_at_blank=path.suffix.lower() != ".nhdr")
    encoding = ""
    for index, line in enumerate(lines):
        key, _, rest = line.partition(":")
        if key.strip().lower() == "encoding":
            encoding = rest.strip().lower()
        match = _NRRD_KEY.match(line)
        if match is not None:
            names = _names(path, match.group(1), lines[index + 1 :])
            paths = tuple(confine(path, n, confined=confined) for n in names)
            return DataFiles(paths, compressed=encoding in _NRRD_COMPRESSED)
    return None


def mha_data_files(path: Path, *, confined: bool) -> DataFiles | None:
    """The detached data files of a MetaImage header (``None``: ``LOCAL``, data attached).

    Raises:
        InputError: No ``ElementDataFile``, or a data file outside the folder, missing, or not
            a regular file.

    """
    lines = _header_text(path, stop_at_blank=False)
    compressed = False
    for index, line in enumerate(lines):
        key, _, rest = line.partition("=")
        if key.strip().lower() == "compresseddata":
            compressed = rest.strip().lower() == "true"
        match = _MHA_KEY.match(line)
        if match is not None:
            value = match.group(1).strip()
            if value.upper() == "LOCAL":
                return None
            names = _names(path, value, lines[index + 1 :])
            paths = tuple(confine(path, n, confined=confined) for n in names)
            return DataFiles(paths, compressed=compressed)
    raise InputError(path, "cannot read as MetaImage: no ElementDataFile in the header")
