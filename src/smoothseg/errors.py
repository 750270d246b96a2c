"""The project's own error types.

Every problem caused by the user's input is raised as a :class:`SmoothsegError` subclass whose
message is one line that names the file and the problem. The CLI prints that line and exits
non-zero; the traceback is shown only with ``--debug``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class SmoothsegError(Exception):
    """Base class of every error smoothseg raises on purpose."""

    exit_code: int = 2


class InputError(SmoothsegError):
    """A file or folder given to smoothseg cannot be used.

    Args:
        path: The offending file or folder.
        problem: What is wrong with it, in plain words.

    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = one_line(problem)
        super().__init__(one_line(f"{self.path}: {problem}"))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by the constructor's arguments (errors cross worker processes)."""
        return (type(self), (self.path, self.problem))


def one_line(text: str) -> str:
    r"""``text`` with newlines and other control characters escaped (``\n``, ``\x08``).

    Messages quote values from files (DICOM headers, table cells); a corrupt file must not break
    the one-line error into several lines or send control characters to the terminal.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class UnsupportedFormatError(InputError):
    """No registered reader or writer handles this path."""


class GeometryError(SmoothsegError):
    """Volumes whose grids must agree do not, or a geometry is invalid."""


class OutputExistsError(SmoothsegError):
    """An output already exists and overwriting was not asked for."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: already exists (pass --overwrite to replace it)")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by the constructor's argument (errors cross worker processes)."""
        return (type(self), (self.path,))
