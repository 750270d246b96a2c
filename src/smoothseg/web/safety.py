"""Defensive handling of uploads: names, size limits, zip extraction, paths.

Nothing a browser sends is trusted: an upload's name only selects the format (it never becomes
a path component beyond a fixed, cleaned file name), a zip member that is absolute, climbs out
with ``..``, or is a link is refused before anything is extracted, and every file the app serves
is checked to lie inside the session's own folder.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

from smoothseg.errors import InputError, SmoothsegError
from smoothseg.io.atomic import full_suffix

#: Upload suffixes accepted (a zip holds a DICOM series/study or one volume file).
UPLOAD_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".mha", ".dcm", ".zip")
_CHUNK = 1024 * 1024
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadTooLargeError(SmoothsegError):
    """An upload (or the content of a zip) is over the size limit."""


def upload_name(name: str) -> str:
    """A safe file name for an upload: ``upload`` plus the original's accepted suffix.

    Raises:
        InputError: The suffix is not one of :data:`UPLOAD_SUFFIXES`.

    """
    base = PurePosixPath(name.replace("\\", "/")).name
    suffix = full_suffix(Path(base or "upload"))
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(
            base or "upload",
            "not a supported scan file; upload NIfTI (.nii, .nii.gz), NRRD (.nrrd), MetaImage "
            "(.mha), a DICOM file (.dcm) or a .zip of a DICOM series or study",
        )
    return f"upload{suffix}"


def size_text(n_bytes: int) -> str:
    """``n_bytes`` as MiB/GiB for messages."""
    mib = n_bytes / (1024 * 1024)
    return f"{mib / 1024:.1f} GiB" if mib >= 1024 else f"{mib:.0f} MiB"


async def save_stream(chunks: AsyncIterator[bytes], target: Path, limit_bytes: int) -> int:
    """Write ``chunks`` to ``target``, stopping (and deleting it) past ``limit_bytes``.

    Raises:
        UploadTooLargeError: More than ``limit_bytes`` arrived.

    """
    total = 0
    try:
        with target.open("wb") as fh:
            async for chunk in chunks:
                total += len(chunk)
                if total > limit_bytes:
                    raise UploadTooLargeError(
                        f"the upload is larger than the limit of {size_text(limit_bytes)}"
                    )
                fh.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return total


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or _WINDOWS_DRIVE.match(name):
        return f"absolute path {info.filename!r}"
    if ".." in PurePosixPath(name).parts:
        return f"path {info.filename!r} leads outside the archive ('..')"
    mode = info.external_attr >> 16  # Unix mode, when the archive was made on Unix
    if stat.S_ISLNK(mode):
        return f"{info.filename!r} is a symbolic link"
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return f"{info.filename!r} is not a regular file"
    return None


def _layout_problem(members: list[zipfile.ZipInfo], folders: list[zipfile.ZipInfo]) -> str | None:
    """A name clash that extraction would trip over: a file twice, a file that is also a folder."""
    files: set[tuple[str, ...]] = set()
    dirs = {PurePosixPath(m.filename.replace("\\", "/")).parts for m in folders}
    for member in members:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if parts in files:
            return f"{member.filename!r} appears twice"
        files.add(parts)
        dirs.update(parts[:i] for i in range(1, len(parts)))
    clash = sorted(files & dirs)
    if clash:
        return f"{'/'.join(clash[0])!r} is both a file and a folder"
    return None


def safe_extract_zip(archive: Path, dest: Path, *, max_bytes: int, max_files: int) -> list[Path]:
    """Extract ``archive`` into ``dest`` after checking every member.

    Members with absolute paths, ``..`` components, links or special files make the whole
    archive rejected before anything is written; the extracted size is counted on the real
    bytes (not the headers), so a zip bomb stops at ``max_bytes``.

    Returns:
        The extracted files.

    Raises:
        InputError: Not a zip, or an unsafe member.
        UploadTooLargeError: Over ``max_bytes`` or ``max_files``.

    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(archive.name, f"not a readable zip archive ({exc})") from exc
    root = dest.resolve()
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        for member in zf.infolist():
            problem = _member_problem(member)
            if problem is not None:
                raise InputError(archive.name, f"unsafe zip archive rejected: {problem}")
        if len(members) > max_files:
            raise UploadTooLargeError(
                f"the zip holds {len(members)} files; the limit is {max_files}"
            )
        clash = _layout_problem(members, [m for m in zf.infolist() if m.is_dir()])
        if clash is not None:
            raise InputError(archive.name, f"cannot unpack the zip archive: {clash}")
        written: list[Path] = []
        total = 0
        for member in members:
            target = (root / member.filename.replace("\\", "/")).resolve()
            if not target.is_relative_to(root):
                raise InputError(archive.name, f"unsafe zip member {member.filename!r}")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, target.open("wb") as out:
                    while chunk := src.read(_CHUNK):
                        total += len(chunk)
                        if total > max_bytes:
                            raise UploadTooLargeError(
                                "the zip's content is larger than the limit of "
                                f"{size_text(max_bytes)}"
                            )
                        out.write(chunk)
            except (OSError, zipfile.BadZipFile, EOFError) as exc:  # never the server's paths
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                raise InputError(
                    archive.name, f"cannot unpack {member.filename!r}: {reason}"
                ) from exc
            written.append(target)
    if not written:
        raise InputError(archive.name, "the zip archive is empty")
    return written


def contained(folder: Path, path: Path) -> Path:
    """``path`` resolved, if it lies inside ``folder`` (links followed); else an error.

    Raises:
        InputError: ``path`` is outside ``folder``.

    """
    resolved = path.resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise InputError(path.name, "not part of this session")
    return resolved


def remove_tree(folder: Path) -> None:
    """Delete ``folder`` and everything in it (missing is fine)."""
    shutil.rmtree(folder, ignore_errors=True)
