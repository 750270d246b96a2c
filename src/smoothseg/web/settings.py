"""Settings of the web app and where its bundled examples come from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from smoothseg.errors import SmoothsegError
from smoothseg.io.limits import DEFAULT_MAX_DECOMPRESSED_BYTES, DEFAULT_MAX_VOXELS, ReadLimits

MiB = 1024 * 1024


@dataclass(frozen=True)
class WebSettings:
    """Options of one ``smoothseg serve`` process.

    Attributes:
        model_dir: Model folder (``None``: the shipped default model).
        max_upload_mb: Largest accepted upload, in MiB.
        max_unpacked_mb: Largest total size of the files in an uploaded zip, in MiB.
        max_zip_files: Most files an uploaded zip may hold.
        max_scan_voxels: Most voxels a scan's header may declare (checked before reading).
        max_scan_mb: Most MiB a scan's data may expand to when decompressed (a ``.nii.gz``
            bomb is refused before it is inflated). Detached data files (NRRD ``data file``,
            MetaImage ``ElementDataFile``) are always confined to the upload's own folder.
        session_idle_s: A session unused this long is deleted with its files.
        max_sessions: Most sessions kept at once (the idlest are dropped first).
        work_dir: Parent of the app's temporary folder (``None``: the system temp folder).
        shared_dir: The ``shared`` folder with ``data/totalsegmentator-example`` (``None``:
            ``$SMOOTHSEG_SHARED`` or ``../shared`` next to the source checkout or the
            working directory; an absent example is simply not offered).
        device: ``cpu`` or ``cuda``.

    """

    model_dir: Path | None = None
    max_upload_mb: float = 1024.0
    max_unpacked_mb: float = 4096.0
    max_zip_files: int = 5000
    max_scan_voxels: int = DEFAULT_MAX_VOXELS
    max_scan_mb: float = DEFAULT_MAX_DECOMPRESSED_BYTES / MiB
    session_idle_s: float = 3600.0
    max_sessions: int = 32
    work_dir: Path | None = None
    shared_dir: Path | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.max_upload_mb <= 0 or self.max_unpacked_mb <= 0 or self.max_zip_files < 1:
            raise SmoothsegError("upload limits must be positive")
        if self.max_scan_voxels < 1 or self.max_scan_mb <= 0:
            raise SmoothsegError("scan size limits must be positive")
        if self.session_idle_s <= 0 or self.max_sessions < 1:
            raise SmoothsegError("session_idle_s and max_sessions must be positive")

    @property
    def max_upload_bytes(self) -> int:
        """:attr:`max_upload_mb` in bytes."""
        return int(self.max_upload_mb * MiB)

    @property
    def max_unpacked_bytes(self) -> int:
        """:attr:`max_unpacked_mb` in bytes."""
        return int(self.max_unpacked_mb * MiB)

    @property
    def read_limits(self) -> ReadLimits:
        """Limits for reading an uploaded scan (detached data files always confined)."""
        return ReadLimits(
            max_voxels=self.max_scan_voxels,
            max_decompressed_bytes=int(self.max_scan_mb * MiB),
            confine_data_files=True,
        )


def shared_data_candidates(shared_dir: Path | None) -> list[Path]:
    """Folders that may hold the shared ``data/`` (first existing wins)."""
    if shared_dir is not None:
        return [shared_dir / "data"]
    out: list[Path] = []
    env = os.environ.get("SMOOTHSEG_SHARED")
    if env:
        out.append(Path(env) / "data")
    checkout = Path(__file__).resolve().parents[3]  # src/smoothseg/web → the repository
    out.append(checkout.parent / "shared" / "data")
    out.append(Path.cwd().parent / "shared" / "data")
    return out


def find_shared_data(shared_dir: Path | None) -> Path | None:
    """The shared ``data/`` folder, or ``None`` when none is present."""
    for candidate in shared_data_candidates(shared_dir):
        if candidate.is_dir():
            return candidate
    return None
