"""Shared fixtures: the real data folder and small synthetic volumes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from smoothseg.io import Volume

REPO = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    env = os.environ.get("SMOOTHSEG_SHARED")
    base = Path(env) if env else REPO.parent / "shared"
    return base / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$SMOOTHSEG_SHARED/data``); skips the test when it is absent."""
    path = _shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent: skipping real-data test")
    return path


def require(path: Path) -> Path:
    """Skip the calling test with a message when ``path`` is missing."""
    if not path.exists():
        pytest.skip(f"{path} is absent: skipping real-data test")
    return path


@pytest.fixture()
def oblique_volume() -> Volume:
    """A small anisotropic int16 image with flipped/permuted axes and a non-zero origin."""
    rng = np.random.default_rng(0)
    array = rng.integers(-1024, 1500, size=(7, 5, 4), dtype=np.int16)
    affine = np.array(
        [
            [0.0, -0.75, 0.0, 120.5],
            [-0.5, 0.0, 0.0, -30.25],
            [0.0, 0.0, 2.5, -400.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    return Volume(array=array, affine=affine)
