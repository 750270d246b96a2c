"""One run per output folder: a lock file claims the folder while a command writes into it.

Two commands writing into the same folder would mix their files (labels from one run, statistics
from the other). :func:`claimed_folder` creates ``.smoothseg-run.lock`` with ``O_EXCL`` (atomic
on local file systems and NFSv3+), holding the owner's host, pid and start time; a second run is
refused with one line naming the owner. A lock left by a process that no longer exists on this
host (a ``kill -9``, a power loss) is stale and taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from smoothseg.errors import InputError

LOCK_NAME = ".smoothseg-run.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _owner(lock: Path) -> dict[str, object]:
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _stale(owner: dict[str, object]) -> bool:
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    return pid != os.getpid() and not _alive(pid)


def _create(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    info = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(info, handle)
    return True


def claim(folder: str | Path) -> Path:
    """Create ``folder`` if needed and claim it for this process; return the lock path.

    Raises:
        InputError: Another live run holds the folder, or the folder cannot be created.

    """
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(target, f"cannot create the output folder: {exc.strerror or exc}") from exc
    lock = target / LOCK_NAME
    for _ in range(2):
        if _create(lock):
            return lock
        owner = _owner(lock)
        if not _stale(owner):
            who = f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}"
            raise InputError(
                target,
                f"in use by another smoothseg run ({who}); wait for it to finish, or delete "
                f"{LOCK_NAME} if that run is gone",
            )
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
    raise InputError(target, "another smoothseg run claimed this folder at the same moment")


def release(lock: Path) -> None:
    """Remove a lock made by :func:`claim` (if it is still this process's)."""
    if _owner(lock).get("pid") == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


@contextlib.contextmanager
def claimed_folder(folder: str | Path) -> Iterator[Path]:
    """Hold ``folder`` for one run (see the module docs); yields the folder."""
    lock = claim(folder)
    try:
        yield Path(folder)
    finally:
        release(lock)
