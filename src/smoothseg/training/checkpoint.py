"""Checkpoints for exact resume: weights, optimizer, scheduler, scaler, RNG states, history.

A checkpoint is a plain ``torch.save`` dict that loads with ``weights_only=True`` (tensors,
numbers, strings, lists and dicts only). Random states of python, numpy and torch (and CUDA)
are stored as such so a resumed run continues the very same random stream.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from smoothseg.errors import InputError
from smoothseg.io.atomic import atomic_output

CHECKPOINT_FORMAT = "smoothseg-checkpoint"
CHECKPOINT_VERSION = 1


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed python's, numpy's and torch's global generators (the trainer's job alone).

    Args:
        seed: The run's seed.
        deterministic: Also switch cuDNN to deterministic algorithms (MONAI
            ``set_determinism``), for bit-reproducible GPU runs.

    """
    if deterministic:
        from monai.utils.misc import set_determinism

        set_determinism(seed=seed % (2**32))
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """The global random states, as weights-only-loadable values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {"version": int(version), "internal": list(internal), "gauss": gauss},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus format tags) atomically to ``path``, replacing it."""
    data = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **payload}
    with atomic_output(path, overwrite=True) as tmp:
        torch.save(data, tmp)
    return path


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises:
        InputError: Missing file or not a smoothseg checkpoint.

    """
    if not path.is_file():
        raise InputError(path, "checkpoint not found")
    try:
        data = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt files
        raise InputError(path, f"cannot read checkpoint: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise InputError(path, "not a smoothseg checkpoint")
    return data
