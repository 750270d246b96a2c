"""Batch prediction over a folder of scans or a manifest, models loaded once, resumable.

Inputs (:func:`find_inputs`):

* a CSV manifest with ``case_id`` and ``image`` columns (paths relative to the manifest; a
  smoothseg cache manifest's ``image_source`` column is preferred when present);
* a folder holding volume files (``*.nii``, ``*.nii.gz``, ``*.nrrd``, ``*.nhdr``, ``*.mha``,
  ``*.mhd``) directly, or a phantom cohort (``cases/<id>/image.nii.gz``);
* anything else (a file, a DICOM series or TCIA study folder) is one scan.

Each case writes into ``OUT/<case id>/``. ``statistics.json`` is written last (atomically), so
it is the completion marker: a case that has it is finished and skipped unless ``overwrite``; a
case folder without it is an interrupted run of this command and is redone (its partial files
replaced). An interrupted batch therefore resumes by running the same command again.

:func:`predict_batch` runs the cases in this process with one loaded :class:`Predictor`;
:func:`smoothseg.predict.workers.predict_batch_parallel` spreads them over worker
processes (one model per worker, one worker per GPU).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoothseg.errors import InputError, SmoothsegError
from smoothseg.predict.predictor import Predictor
from smoothseg.predict.scan import STATISTICS, ScanResult, predict_scan

VOLUME_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


@dataclass(frozen=True)
class BatchInput:
    """One scan of a batch."""

    case_id: str
    path: Path
    series: str | None = None


def _case_id(path: Path) -> str:
    name = path.name
    for suffix in VOLUME_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _from_manifest(path: Path) -> list[BatchInput]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "case_id" not in rows[0] or not ({"image", "image_source"} & set(rows[0])):
        raise InputError(path, "a batch manifest needs case_id and image columns")
    out = []
    for row in rows:
        image = row.get("image_source") or row.get("image") or ""
        full = Path(image) if Path(image).is_absolute() else path.parent / image
        series = row.get("image_series_uid") or None
        out.append(BatchInput(row["case_id"], full, series))
    return out


def find_inputs(path: str | Path) -> list[BatchInput] | None:
    """The scans of a batch input, or ``None`` when ``path`` is a single scan."""
    p = Path(path).expanduser()
    if p.is_file() and p.suffix.lower() == ".csv":
        return _from_manifest(p)
    if not p.is_dir():
        return None
    files = sorted(
        f for f in p.iterdir() if f.is_file() and f.name.lower().endswith(VOLUME_SUFFIXES)
    )
    if files:
        return [BatchInput(_case_id(f), f) for f in files]
    cohort = sorted(p.glob("cases/*/image.nii.gz"))
    if cohort:
        return [BatchInput(f.parent.name, f) for f in cohort]
    return None


@dataclass(frozen=True)
class BatchOutcome:
    """What happened to one case: ``done``, ``skipped`` (finished earlier) or ``failed``.

    Attributes:
        case_id: The case.
        state: ``done``, ``skipped`` or ``failed``.
        result: The full result (in-process runs only; worker processes send ``statistics``).
        error: Why it failed.
        statistics: The case's ``statistics.json`` content (``done`` cases).
        worker: Which worker ran it (``-1``: this process).

    """

    case_id: str
    state: str
    result: ScanResult | None = None
    error: str = ""
    statistics: dict[str, Any] | None = None
    worker: int = -1


def is_finished(out_dir: str | Path, case_id: str) -> bool:
    """Whether ``OUT/<case id>/statistics.json`` (written last) exists."""
    return (Path(out_dir) / case_id / STATISTICS).is_file()


def predict_case(
    predictor: Predictor, item: BatchInput, out_dir: str | Path, *, overwrite: bool = False
) -> BatchOutcome:
    """Predict one batch input into ``out_dir/<case id>/`` (skipped when finished)."""
    folder = Path(out_dir) / item.case_id
    if is_finished(out_dir, item.case_id) and not overwrite:
        return BatchOutcome(item.case_id, "skipped")
    redo = overwrite or folder.exists()
    try:
        result = predict_scan(predictor, item.path, folder, series=item.series, overwrite=redo)
    except SmoothsegError as exc:
        return BatchOutcome(item.case_id, "failed", error=str(exc))
    except Exception as exc:  # a bug or a resource problem in this case only: go on with the rest
        return BatchOutcome(
            item.case_id, "failed", error=f"internal error ({type(exc).__name__}: {exc})"
        )
    return BatchOutcome(item.case_id, "done", result, statistics=result.statistics)


def predict_batch(
    predictor: Predictor,
    inputs: list[BatchInput],
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    on_case: Callable[[BatchOutcome], None] | None = None,
) -> list[BatchOutcome]:
    """Predict every input into ``out_dir/<case id>/``; a failing case does not stop the rest."""
    outcomes = []
    for item in inputs:
        outcome = predict_case(predictor, item, out_dir, overwrite=overwrite)
        outcomes.append(outcome)
        if on_case is not None:
            on_case(outcome)
    return outcomes
