"""Patient-level train/validation/test splits, reproducible from (seed, sorted patient ids).

Two schemes:

* **replications** (the paper's): ``R`` independent shuffles, each split into test
  (``test_fraction`` of the patients) and train;
* **folds**: one shuffle cut into ``K`` near-equal folds; fold ``f`` is the test set once.

In both, validation patients are carved from each split's train part (``val_fraction`` of it).
Counts are rounded to the nearest patient, with at least one test (and, when
``val_fraction > 0``, one validation) patient whenever at least two remain for training.
Every case of a patient lands in the same part. The order cases are given in does not matter:
patient ids are sorted before the seeded shuffle.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from smoothseg.datasets.manifest import check_case_ids
from smoothseg.errors import InputError
from smoothseg.io.atomic import atomic_output

SplitScheme = Literal["replications", "folds"]


@dataclass(frozen=True)
class SplitConfig:
    """How to split (paper defaults: three 80/20 replications).

    Attributes:
        scheme: ``"replications"`` or ``"folds"``.
        replications: Number of replications (scheme ``replications``).
        folds: Number of folds (scheme ``folds``).
        test_fraction: Share of patients in each test set (scheme ``replications``).
        val_fraction: Share of each train part carved out for validation (0 for none).
        seed: Seed of the shuffles.

    """

    scheme: SplitScheme = "replications"
    replications: int = 3
    folds: int = 5
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class Split:
    """One split: case ids of each part (sorted)."""

    name: str
    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]


def _check(config: SplitConfig, n_patients: int) -> None:
    if config.scheme not in ("replications", "folds"):
        raise InputError("--scheme", f"unknown split scheme {config.scheme!r}")
    if not 0.0 < config.test_fraction < 1.0:
        raise InputError("--test-fraction", f"must be between 0 and 1, got {config.test_fraction}")
    if not 0.0 <= config.val_fraction < 1.0:
        raise InputError("--val-fraction", f"must be in [0, 1), got {config.val_fraction}")
    if config.scheme == "replications" and config.replications < 1:
        raise InputError("--replications", "must be at least 1")
    if config.scheme == "folds" and not 2 <= config.folds <= n_patients:
        raise InputError("--folds", f"must be between 2 and the patient count ({n_patients})")
    if n_patients < 2:
        raise InputError("--manifest", f"need at least 2 patients to split, got {n_patients}")
    if not 0 <= config.seed < 2**63:
        raise InputError("--seed", f"must be a non-negative integer, got {config.seed}")


def _count(fraction: float, n: int) -> int:
    """Round ``fraction * n``; at least 1 when ``fraction > 0``, leaving at least 1 behind."""
    if fraction <= 0 or n < 2:
        return 0
    return min(max(round(fraction * n), 1), n - 1)


def _carve(
    train: list[str], config: SplitConfig, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    order = [train[i] for i in rng.permutation(len(train))]
    n_val = _count(config.val_fraction, len(order))
    return order[n_val:], order[:n_val]


def make_splits(patients_of_cases: dict[str, str], config: SplitConfig) -> list[Split]:
    """Split cases by patient.

    Args:
        patients_of_cases: Case id → patient id.
        config: Scheme, fractions and seed.

    Raises:
        InputError: invalid fractions/counts/seed, blank or repeated case ids, or fewer than
            two patients.

    """
    check_case_ids(patients_of_cases)
    cases_of: dict[str, list[str]] = defaultdict(list)
    for case, patient in patients_of_cases.items():
        cases_of[patient].append(case)
    patients = sorted(cases_of)
    _check(config, len(patients))
    rng = np.random.default_rng(config.seed)
    parts: list[tuple[str, list[str], list[str]]] = []  # name, test patients, rest
    if config.scheme == "replications":
        n_test = _count(config.test_fraction, len(patients))
        for r in range(config.replications):
            order = [patients[i] for i in rng.permutation(len(patients))]
            parts.append((f"replication_{r + 1}", order[:n_test], order[n_test:]))
    else:
        order = [patients[i] for i in rng.permutation(len(patients))]
        for f, chunk in enumerate(np.array_split(np.arange(len(order)), config.folds)):
            held = {order[i] for i in chunk}
            parts.append((f"fold_{f + 1}", sorted(held), [p for p in order if p not in held]))

    def cases(group: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(c for p in group for c in cases_of[p]))

    splits = []
    for name, test, rest in parts:
        train, val = _carve(sorted(rest), config, rng)
        splits.append(Split(name, cases(train), cases(val), cases(test)))
    return splits


def write_splits(
    splits: list[Split],
    config: SplitConfig,
    path: str | Path,
    *,
    manifest: str = "",
    overwrite: bool = False,
) -> Path:
    """Write splits as JSON: the config, then per split its train/val/test case ids."""
    doc: dict[str, Any] = {
        "scheme": config.scheme,
        "seed": config.seed,
        "test_fraction": config.test_fraction if config.scheme == "replications" else None,
        "val_fraction": config.val_fraction,
        "replications": config.replications if config.scheme == "replications" else None,
        "folds": config.folds if config.scheme == "folds" else None,
        "manifest": manifest,
        "splits": [
            {"name": s.name, "train": list(s.train), "val": list(s.val), "test": list(s.test)}
            for s in splits
        ],
    }
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return Path(path)


def read_splits(path: str | Path) -> list[Split]:
    """Read splits written by :func:`write_splits`."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        return [
            Split(s["name"], tuple(s["train"]), tuple(s["val"]), tuple(s["test"]))
            for s in doc["splits"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(p, f"not a readable splits file: {exc}") from exc
