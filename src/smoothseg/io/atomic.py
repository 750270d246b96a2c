"""Atomic file output: write to a temporary sibling, then rename into place."""

from __future__ import annotations

import contextlib
import errno
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


#: ``OSError`` numbers that mean "this place cannot take the output" (not a program bug).
WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO, errno.EACCES, errno.EPERM}
)


def write_problem(exc: OSError) -> str:
    """A one-line reason for a failed write, with a hint for a full disk."""
    text = f"cannot write: {exc.strerror or exc}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        text += " (disk full or quota exceeded; nothing was left behind)"
    return text


def check_writable(folder: str | Path) -> None:
    """Raise a clear error now, before any work, when ``folder`` cannot receive outputs.

    Nothing is created: the nearest existing ancestor must be a folder in which a temporary
    file can be made (and is removed at once).

    Raises:
        InputError: An ancestor is a file, or the place is read-only / not permitted.

    """
    target = Path(folder).expanduser().absolute()
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(target, f"cannot create this folder: {existing} is a file")
    try:
        fd, name = tempfile.mkstemp(prefix=".smoothseg-write-check.", dir=existing)
    except OSError as exc:
        raise InputError(target, f"not writable: {exc.strerror or exc}") from exc
    os.close(fd)
    os.unlink(name)


@contextlib.contextmanager
def atomic_output(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary file keeps ``path``'s suffix so format-sniffing writers work. If the body
    raises, the temporary file is removed and ``path`` is left untouched.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is False.
        InputError: the output folder cannot be created or written, or the write failed
            for lack of space/permission (the temporary file is removed).

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
    except OSError as exc:
        _remove(tmp)
        if exc.errno in WRITE_ERRNOS:
            raise InputError(target, write_problem(exc)) from exc
        raise
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)
