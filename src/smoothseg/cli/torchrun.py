"""``smoothseg train --nproc N``: relaunch the same command under torchrun (standard library only).

The parent process only rewrites its own arguments and waits: it runs
``python -m torch.distributed.run --standalone --nproc-per-node N -m smoothseg <args>`` without
``--nproc``, and each of the N workers runs ``smoothseg train`` with torchrun's ``RANK`` /
``WORLD_SIZE`` set (see :mod:`smoothseg.training.distributed`). Importing this module does not
import torch, so the parent stays light.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence


def without_option(argv: Sequence[str], option: str) -> list[str]:
    """``argv`` with ``option VALUE`` / ``option=VALUE`` removed."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            out.append(arg)
    return out


def torchrun_command(nproc: int, argv: Sequence[str]) -> list[str]:
    """``python -m torch.distributed.run --standalone --nproc-per-node N -m smoothseg ARGV``."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "smoothseg",
        *argv,
    ]


def launch(nproc: int, argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run ``smoothseg ARGV`` in ``nproc`` processes on this node; returns torchrun's exit code.

    Each process gets ``cores // nproc`` torch threads (``OMP_NUM_THREADS``) unless it is set.
    """
    environment = {**os.environ, **dict(env or {})}
    environment.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    return subprocess.call(torchrun_command(nproc, argv), env=environment)
