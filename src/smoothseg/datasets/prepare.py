"""``prepare``: turn a dataset into a harmonized, fast-loading training cache.

Writes into the cache folder:

* ``cases/<id>/`` — image, label and geometry record per case (see :mod:`.cache`);
* ``manifest.csv`` / ``manifest.json`` — one row per usable case (see :mod:`.manifest`);
* ``prepare_log.csv`` / ``prepare_log.json`` — every discovered case with its status
  (``prepared``, ``cached`` = done by an earlier run, ``skipped``) and the reason it was skipped;
* ``prepare.json`` — the format, root and options the cache was made from.

A case that cannot be used (missing SEG, unreadable or tilted series, mismatched geometry,
unknown segment names, an image that is not a CT in HU: NaN voxels, a label map, an MR...) is
skipped with its reason and the run goes on. Re-running into the
same cache skips finished cases; ``overwrite`` re-prepares them.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from smoothseg.datasets.base import CaseSource, DatasetOptions, discover_cases, load_case
from smoothseg.datasets.cache import case_dir_name, read_case_record, write_cached_case
from smoothseg.datasets.clinical_ids import clinical_ids
from smoothseg.datasets.labels import label_stats
from smoothseg.datasets.manifest import ManifestRow, write_manifest
from smoothseg.errors import InputError, SmoothsegError
from smoothseg.io.atomic import atomic_output
from smoothseg.io.modality import check_ct_intensities
from smoothseg.version import __version__

log = logging.getLogger(__name__)
CaseStatus = Literal["prepared", "cached", "skipped"]
LOG_COLUMNS = ("case_id", "status", "reason", "image_source", "label_source", "notes")


@dataclass(frozen=True)
class PrepareConfig:
    """What to prepare and where.

    Attributes:
        format: Dataset format name (see ``DATASET_FORMATS.names()``).
        root: Dataset root folder.
        out: Cache folder.
        clinical: Clinical table (xlsx sheet "data table" or CSV with ``TCIA_ID``) whose rows'
            presence is recorded per case; ``None`` records nothing.
        options: Format options (segment name map, pair patterns, label values).
        overwrite: Re-prepare finished cases and accept a cache made from another source.

    """

    format: str
    root: Path
    out: Path
    clinical: Path | None = None
    options: DatasetOptions = field(default_factory=DatasetOptions)
    overwrite: bool = False


@dataclass(frozen=True)
class CaseOutcome:
    """What happened to one case."""

    case_id: str
    status: CaseStatus
    reason: str = ""
    row: ManifestRow | None = None
    image_source: str = ""
    label_source: str = ""
    notes: str = ""


@dataclass(frozen=True)
class PrepareResult:
    """All outcomes of a prepare run and the files written."""

    cache: Path
    outcomes: tuple[CaseOutcome, ...]
    manifest_csv: Path
    manifest_json: Path
    log_csv: Path
    log_json: Path

    @property
    def rows(self) -> list[ManifestRow]:
        """Manifest rows of the usable cases."""
        return [o.row for o in self.outcomes if o.row is not None]

    @property
    def skipped(self) -> list[CaseOutcome]:
        """Cases that could not be used."""
        return [o for o in self.outcomes if o.status == "skipped"]


def _settings(config: PrepareConfig) -> dict[str, object]:
    return {
        "format": config.format,
        "root": str(config.root.expanduser().resolve()),
        "options": asdict(config.options),
    }


def _claim_cache(config: PrepareConfig) -> None:
    """Refuse a cache made from another source (unless overwrite); record this one's settings."""
    out = config.out.expanduser()
    record = out / "prepare.json"
    settings = _settings(config)
    if record.is_file() and not config.overwrite:
        try:
            old = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if (old.get("format"), old.get("root")) != (settings["format"], settings["root"]):
            raise InputError(
                out,
                f"this cache was prepared from {old.get('format')} {old.get('root')}; "
                "choose another --out or pass --overwrite",
            )
    elif out.is_dir() and any(out.iterdir()) and not record.is_file() and not config.overwrite:
        raise InputError(
            out, "exists and is not a smoothseg cache; choose another --out or pass --overwrite"
        )
    doc = {**settings, "smoothseg_version": __version__}
    with atomic_output(record, overwrite=True) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _prepare_one(case: CaseSource, config: PrepareConfig) -> CaseOutcome:
    out = config.out.expanduser()
    base = CaseOutcome(
        case.case_id,
        "skipped",
        image_source=str(case.image),
        label_source=str(case.label or ""),
        notes="; ".join(case.notes),
    )
    if case.problem:
        return replace(base, reason=case.problem)
    if not config.overwrite:
        record = read_case_record(out, case.case_id)
        if record is not None:
            row = ManifestRow.from_json(record["row"])
            return replace(
                base,
                status="cached",
                row=row,
                image_source=row.image_source,
                label_source=row.label_source,
            )
    loaded = load_case(case, config.options)
    check_ct_intensities(loaded.image, loaded.image_source)  # NaN, label map, MR: one line
    values = set(np.unique(np.asarray(loaded.label.array)).tolist())
    if not values <= {0, 1, 2}:
        raise InputError(loaded.label_source, f"harmonized label holds values {sorted(values)}")
    stats = label_stats(loaded.label)
    folder = f"cases/{case_dir_name(case.case_id)}"
    warnings = (*case.notes, *loaded.warnings)
    row = ManifestRow(
        case_id=case.case_id,
        patient_id=case.patient,
        format=case.format,
        image=f"{folder}/image.npy",
        label=f"{folder}/label.npy",
        image_source=loaded.image_source,
        label_source=loaded.label_source,
        image_series_uid=loaded.image_series_uid,
        label_series_uid=loaded.label_series_uid,
        shape=loaded.image.shape,
        spacing_mm=loaded.image.spacing_mm,
        liver_ml=stats.liver_ml,
        tumor_ml=stats.tumor_ml,
        tlvr=stats.tlvr,
        lesion_count=stats.lesion_count,
        largest_lesion_diameter_mm=stats.largest_lesion_diameter_mm,
        warnings="; ".join(loaded.warnings),
    )
    write_cached_case(out, loaded, row)
    return replace(
        base,
        status="prepared",
        row=row,
        image_source=row.image_source,
        label_source=row.label_source,
        notes="; ".join(warnings),
    )


def prepare_case(case: CaseSource, config: PrepareConfig) -> CaseOutcome:
    """Prepare one case; any failure becomes a ``skipped`` outcome with its reason."""
    try:
        return _prepare_one(case, config)
    except SmoothsegError as exc:
        reason = str(exc)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # one broken case must not stop the run
        log.debug("case %s failed", case.case_id, exc_info=True)
        reason = f"internal error ({type(exc).__name__}: {exc}); rerun with --debug"
    return CaseOutcome(
        case.case_id,
        "skipped",
        reason,
        None,
        str(case.image),
        str(case.label or ""),
        "; ".join(case.notes),
    )


def _write_log(outcomes: list[CaseOutcome], out: Path) -> tuple[Path, Path]:
    rows = [{k: str(getattr(o, k)) for k in LOG_COLUMNS} for o in outcomes]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(LOG_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    csv_path, json_path = out / "prepare_log.csv", out / "prepare_log.json"
    with atomic_output(csv_path, overwrite=True) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    with atomic_output(json_path, overwrite=True) as tmp:
        tmp.write_text(json.dumps({"cases": rows}, indent=2) + "\n", encoding="utf-8")
    return csv_path, json_path


def prepare_dataset(
    config: PrepareConfig,
    *,
    cases: list[CaseSource] | None = None,
    on_case: Callable[[CaseOutcome], None] | None = None,
) -> PrepareResult:
    """Prepare every case of a dataset into the cache (see module docs).

    Args:
        config: What to prepare and where.
        cases: Cases already discovered (default: discover them from ``config``).
        on_case: Called after each case (progress display).

    Raises:
        InputError: nothing to prepare, an unusable cache folder or clinical table.

    """
    found = (
        cases if cases is not None else discover_cases(config.format, config.root, config.options)
    )
    ids = clinical_ids(config.clinical) if config.clinical is not None else None
    _claim_cache(config)
    outcomes = []
    for case in found:
        outcome = prepare_case(case, config)
        if outcome.row is not None:
            row = outcome.row
            has = None if ids is None else (row.case_id in ids or row.patient_id in ids)
            outcome = replace(outcome, row=replace(row, has_clinical=has))
        outcomes.append(outcome)
        if on_case is not None:
            on_case(outcome)
    out = config.out.expanduser()
    manifest_csv, manifest_json = write_manifest([o.row for o in outcomes if o.row], out)
    log_csv, log_json = _write_log(outcomes, out)
    return PrepareResult(out, tuple(outcomes), manifest_csv, manifest_json, log_csv, log_json)
