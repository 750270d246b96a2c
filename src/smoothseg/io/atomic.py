"""Atomic file output: write to a temporary sibling, then rename into place."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from smoothseg.errors import InputError, OutputExistsError


def full_suffix(path: Path) -> str:
    """The file's suffixes that name its format, e.g. ``.nii.gz`` (lower case)."""
    name = path.name.lower()
    for double in (".nii.gz", ".tar.gz"):
        if name.endswith(double):
            return double
    return path.suffix.lower()


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(path: Path) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would (mkstemp/mkdtemp make 0600/0700)."""
    base = 0o777 if path.is_dir() else 0o666
    os.chmod(path, base & ~_current_umask())


@contextlib.contextmanager
def atomic_output(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary file keeps ``path``'s suffix so format-sniffing writers work. If the body
    raises, the temporary file is removed and ``path`` is left untouched.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is False.
        InputError: the output folder cannot be created or written.

    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputExistsError(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=f".tmp{full_suffix(target)}", dir=target.parent
        )
    except OSError as exc:
        raise InputError(target.parent, f"cannot write here: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.is_file():
            apply_umask(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
