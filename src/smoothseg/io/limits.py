"""Limits on what reading one untrusted file may cost, checked before anything is allocated.

A file's header declares how big its volume is; a hostile or corrupt header can declare far
more than any CT (a 2 MB ``.nii.gz`` that inflates to gigabytes, an ``.nhdr`` pointing at
``/dev/zero``). Readers compare every declared size with :class:`ReadLimits` before
decompressing or allocating, and refuse detached data files outside the header's own folder.

Defaults (each a setting; the environment variable changes it for every command):

=========================  ===========================  ====================================
limit                      default                      environment variable
=========================  ===========================  ====================================
declared voxels            536,870,912 (512x512x2048)   ``SMOOTHSEG_MAX_VOXELS``
decompressed bytes         2 GiB (2048 MiB)             ``SMOOTHSEG_MAX_DECOMPRESSED_MB``
detached data files        inside the header's folder   ``SMOOTHSEG_ALLOW_OUTSIDE_DATA_FILES=1``
=========================  ===========================  ====================================

The web app always confines detached data files, whatever the environment says.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from smoothseg.errors import InputError, SmoothsegError

#: 512 x 512 x 2048 voxels: more slices than any liver CT has.
DEFAULT_MAX_VOXELS = 512 * 512 * 2048
#: A 512 x 512 x 2048 float32 volume (the largest a CT needs) is 2 GiB.
DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 2**30
ENV_MAX_VOXELS = "SMOOTHSEG_MAX_VOXELS"
ENV_MAX_DECOMPRESSED_MB = "SMOOTHSEG_MAX_DECOMPRESSED_MB"
ENV_ALLOW_OUTSIDE = "SMOOTHSEG_ALLOW_OUTSIDE_DATA_FILES"


@dataclass(frozen=True)
class ReadLimits:
    """What reading one file may cost.

    Attributes:
        max_voxels: Most voxels a header may declare.
        max_decompressed_bytes: Most bytes a file's data (and header extensions) may expand
            to when decompressed, or occupy when read.
        confine_data_files: Refuse detached data files (NRRD ``data file:``, MetaImage
            ``ElementDataFile``) that resolve, after following links, outside the header's
            own folder.

    """

    max_voxels: int = DEFAULT_MAX_VOXELS
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    confine_data_files: bool = True

    def __post_init__(self) -> None:
        if self.max_voxels < 1 or self.max_decompressed_bytes < 1:
            raise SmoothsegError("read limits must be positive")

    @classmethod
    def from_env(cls) -> ReadLimits:
        """The defaults, changed by ``SMOOTHSEG_MAX_VOXELS`` etc. (see the module docs)."""
        voxels = _env_number(ENV_MAX_VOXELS, DEFAULT_MAX_VOXELS)
        mib = _env_number(ENV_MAX_DECOMPRESSED_MB, DEFAULT_MAX_DECOMPRESSED_BYTES / 2**20)
        allow = os.environ.get(ENV_ALLOW_OUTSIDE, "").strip().lower() in ("1", "true", "yes")
        return cls(int(voxels), int(mib * 2**20), confine_data_files=not allow)

    def check_declared(
        self, path: Path, shape: tuple[int, ...], itemsize: int, *, extra_bytes: int = 0
    ) -> None:
        """Refuse a declared volume over :attr:`max_voxels` or :attr:`max_decompressed_bytes`.

        Args:
            path: The file (for the message).
            shape: Shape its header declares.
            itemsize: Bytes per voxel (all components).
            extra_bytes: Bytes read besides the voxels (header extensions).

        Raises:
            InputError: Over a limit.

        """
        voxels = 1
        for n in shape:
            voxels *= max(int(n), 0)
        dims = "x".join(str(int(n)) for n in shape)
        if voxels > self.max_voxels:
            raise InputError(
                path,
                f"header declares a {dims} volume ({voxels:,} voxels), above the limit of "
                f"{self.max_voxels:,} voxels (setting {ENV_MAX_VOXELS}); corrupt or hostile "
                "header, or a scan larger than any CT",
            )
        nbytes = voxels * max(1, itemsize) + max(0, extra_bytes)
        if nbytes > self.max_decompressed_bytes:
            raise InputError(
                path,
                f"header declares {nbytes / 2**20:,.0f} MiB of data ({dims} volume), above "
                f"the limit of {self.max_decompressed_bytes / 2**20:,.0f} MiB (setting "
                f"{ENV_MAX_DECOMPRESSED_MB}); corrupt or hostile header",
            )


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SmoothsegError(f"{name}={text!r} is not a number") from None
    if not value > 0:
        raise SmoothsegError(f"{name}={text!r} must be positive")
    return value
