"""Which cases a clinical fit uses: the cohort (cases + TLVR) and the split part to fit on."""

from __future__ import annotations

import csv
from pathlib import Path

from smoothseg.clinical.cohort import Case, read_cohort_csv
from smoothseg.datasets import read_manifest, read_splits
from smoothseg.errors import InputError


def is_cache_manifest(path: Path) -> bool:
    """A prepared cache manifest (JSON, or CSV with shape/spacing columns) vs a plain CSV."""
    if path.is_dir():
        if (path / "manifest.json").is_file():
            return True
        path = path / "manifest.csv"
    if path.suffix.lower() == ".json":
        return True
    if not path.is_file():
        return False
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    return "shape" in header and "spacing_mm" in header


def load_cases(manifest: Path) -> list[Case]:
    """The cohort's cases with their TLVR: from a prepared cache manifest or a plain CSV."""
    if is_cache_manifest(manifest):
        return [Case(r.case_id, r.tlvr, r.patient_id) for r in read_manifest(manifest)]
    return read_cohort_csv(manifest)


def split_part(
    split: Path, replication: int | None, fold: int | None
) -> tuple[str, set[str], set[str]]:
    """(name, training case ids incl. validation, test case ids) of the chosen split part.

    Raises:
        InputError: Both or neither of ``replication``/``fold`` where they are needed, or a part
            the file does not hold.

    """
    if replication is not None and fold is not None:
        raise InputError("--fold", "give either --replication or --fold, not both")
    parts = {s.name: s for s in read_splits(split)}
    if replication is not None:
        name = f"replication_{replication}"
    elif fold is not None:
        name = f"fold_{fold}"
    elif len(parts) == 1:
        name = next(iter(parts))
    else:
        raise InputError(
            split,
            f"holds {len(parts)} parts; pick one with --replication N or --fold N "
            f"({', '.join(parts)})",
        )
    if name not in parts:
        raise InputError(split, f"no split part {name!r}; parts: {', '.join(parts)}")
    s = parts[name]
    return name, {*s.train, *s.val}, set(s.test)
