"""Tiny hand-made training caches and phantom cohorts for the preprocess/training tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from smoothseg.datasets import PrepareConfig, make_splits, prepare_dataset, write_splits
from smoothseg.datasets.splits import Split, SplitConfig
from smoothseg.io import Volume, write_volume

TINY_SHAPE = (24, 20, 12)
TINY_SPACING = (8.0, 8.0, 10.0)


def tiny_case(index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """An ellipsoid 'liver' (60 HU) right of centre with a darker 'tumor' (10 HU) in most cases."""
    i, j, k = np.meshgrid(*[np.arange(n, dtype=float) for n in TINY_SHAPE], indexing="ij")
    ci, cj, ck = 8 + index % 3, 10, 6
    liver = ((i - ci) / 6) ** 2 + ((j - cj) / 5) ** 2 + ((k - ck) / 4) ** 2 <= 1
    label = liver.astype(np.uint8)
    if index % 4 != 3:  # every fourth case is tumor-free
        tumor = ((i - ci) ** 2 + (j - cj - 1) ** 2 + (k - ck) ** 2) <= (1.5 + index % 2) ** 2
        label[tumor & liver] = 2
    image = np.full(TINY_SHAPE, -900.0)
    image[4:22, 2:18, 1:11] = -50.0  # body
    image[label == 1] = 60.0
    image[label == 2] = 10.0
    image += rng.normal(0.0, 8.0, TINY_SHAPE)
    return image.astype(np.int16), label


def tiny_cache(folder: Path, n_cases: int = 6) -> Path:
    """Write ``n_cases`` tiny pairs and prepare them into ``folder/cache``; returns the cache."""
    rng = np.random.default_rng(0)
    affine = np.diag([*TINY_SPACING, 1.0])
    affine[:3, 3] = [-90.0, -80.0, -60.0]
    root = folder / "pairs"
    for n in range(n_cases):
        image, label = tiny_case(n, rng)
        case = root / "cases" / f"TINY_{n + 1:03d}"
        write_volume(Volume(image, affine), case / "image.nii.gz")
        write_volume(Volume(label, affine, kind="label"), case / "label.nii.gz")
    cache = folder / "cache"
    prepare_dataset(PrepareConfig(format="pairs", root=root, out=cache))
    return cache


def phantom_cache(folder: Path, n_cases: int, *, seed: int = 0) -> Path:
    """A phantom cohort at 48 x 48 x 30 voxels of 8 mm, prepared into ``folder/cache``."""
    from smoothseg.phantom import PhantomConfig, generate_cohort

    config = PhantomConfig.preset("small", shape=(48, 48, 30), spacing_mm=(8.0, 8.0, 8.0))
    generate_cohort(folder / "cohort", n_cases, seed=seed, config=config)
    cache = folder / "cache"
    prepare_dataset(PrepareConfig(format="pairs", root=folder / "cohort", out=cache))
    return cache


def write_split(path: Path, split: Split) -> Path:
    """A one-split splits file (the CLI's ``--split``)."""
    write_splits([split], SplitConfig(replications=1), path)
    return path


def default_splits(cache: Path, path: Path) -> Path:
    """Splits the way ``smoothseg split`` makes them (one replication)."""
    rows = json.loads((cache / "manifest.json").read_text())["cases"]
    config = SplitConfig(replications=1, test_fraction=0.1, val_fraction=0.2)
    splits = make_splits({r["case_id"]: r["patient_id"] or r["case_id"] for r in rows}, config)
    write_splits(splits, config, path)
    return path
