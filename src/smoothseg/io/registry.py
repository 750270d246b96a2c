"""Reader and writer registries: format name → implementation, with suffix lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from smoothseg.errors import UnsupportedFormatError
from smoothseg.io.atomic import full_suffix
from smoothseg.io.limits import ReadLimits
from smoothseg.io.volume import Volume

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


class FormatRegistry(Generic[SpecT]):
    """Name → spec mapping with lookup by file suffix."""

    def __init__(self, role: str) -> None:
        self.role = role
        self._specs: dict[str, SpecT] = {}

    def register(self, spec: SpecT) -> SpecT:
        """Add ``spec``; a name can be registered once."""
        if spec.name in self._specs:
            raise ValueError(f"{self.role} {spec.name!r} is already registered")
        self._specs[spec.name] = spec
        return spec

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._specs)

    def specs(self) -> list[SpecT]:
        """Registered specs, sorted by name."""
        return [self._specs[n] for n in self.names()]

    def supported(self) -> str:
        """Human-readable list of formats and suffixes, for error messages."""
        parts = []
        for spec in self.specs():
            extra = " or a folder" if getattr(spec, "reads_folders", False) else ""
            parts.append(f"{spec.name} ({', '.join(spec.suffixes)}{extra})")
        return "; ".join(parts)

    def get(self, name: str) -> SpecT:
        """The spec called ``name``; the error lists the valid names."""
        try:
            return self._specs[name]
        except KeyError:
            raise UnsupportedFormatError(
                name, f"unknown {self.role} format; valid: {', '.join(self.names())}"
            ) from None

    def for_suffix(self, path: Path) -> SpecT | None:
        """The spec whose suffix list contains ``path``'s suffix, if any."""
        suffix = full_suffix(path)
        for spec in self.specs():
            if suffix in spec.suffixes:
                return spec
        return None


READERS: FormatRegistry[ReaderSpec] = FormatRegistry("reader")
WRITERS: FormatRegistry[WriterSpec] = FormatRegistry("writer")
