"""Reader and writer registries: format name → implementation, with suffix lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from smoothseg.errors import UnsupportedFormatError
from smoothseg.io.atomic import full_suffix
from smoothseg.io.limits import ReadLimits
from smoothseg.io.volume import Volume
from smoothseg.registry import Registry

ReadFn = Callable[[Path, "ReadOptions"], Volume]
WriteFn = Callable[[Volume, Path], None]


@dataclass(frozen=True)
class ReadOptions:
    """Options every reader accepts (readers ignore those that do not apply to them).

    Attributes:
        series: DICOM series to read (SeriesInstanceUID, series number, folder name or
            description); ``None`` picks the CT series with most slices.
        limits: Declared-size limits and detached-file confinement (see
            :mod:`smoothseg.io.limits`).

    """

    series: str | None = None
    limits: ReadLimits = field(default_factory=ReadLimits)


@dataclass(frozen=True)
class ReaderSpec:
    """A registered reader."""

    name: str
    description: str
    suffixes: tuple[str, ...]
    read: ReadFn
    reads_folders: bool = False


@dataclass(frozen=True)
class WriterSpec:
    """A registered writer. ``write`` receives a volume already on the grid to store."""

    name: str
    description: str
    suffixes: tuple[str, ...]
    write: WriteFn


SpecT = TypeVar("SpecT", ReaderSpec, WriterSpec)


class FormatRegistry(Registry[SpecT]):
    """Name → reader/writer spec, with lookup by file suffix."""

    def __init__(self, role: str) -> None:
        """An empty registry of ``role`` (``reader`` or ``writer``) formats."""
        super().__init__(
            role,
            unknown=lambda name, valid: UnsupportedFormatError(
                name, f"unknown {role} format; valid: {valid}"
            ),
        )

    def supported(self) -> str:
        """Human-readable list of formats and suffixes, for error messages."""
        parts = []
        for spec in self.specs():
            extra = " or a folder" if getattr(spec, "reads_folders", False) else ""
            parts.append(f"{spec.name} ({', '.join(spec.suffixes)}{extra})")
        return "; ".join(parts)

    def for_suffix(self, path: Path) -> SpecT | None:
        """The spec whose suffix list contains ``path``'s suffix, if any."""
        suffix = full_suffix(path)
        for spec in self.specs():
            if suffix in spec.suffixes:
                return spec
        return None


READERS: FormatRegistry[ReaderSpec] = FormatRegistry("reader")
WRITERS: FormatRegistry[WriterSpec] = FormatRegistry("writer")
