"""One scan end to end: read, predict, measure and write the outputs of ``smoothseg predict``.

:func:`predict_scan` reads a file or DICOM folder, runs :meth:`Predictor.predict` (model stages
and post-processing) and writes the outputs into a folder (``statistics.json`` last, so its
presence marks a finished scan).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smoothseg.errors import InputError, OutputExistsError
from smoothseg.inference.two_stage import Prediction
from smoothseg.io.api import read_volume, write_volume
from smoothseg.io.atomic import atomic_output
from smoothseg.io.claim import LOCK_NAME, claimed_folder
from smoothseg.io.dicom_seg_write import HARMONIZED_SEGMENTS, write_dicom_seg
from smoothseg.io.limits import ReadLimits
from smoothseg.postprocess.lesions import LesionStats, largest_lesion, lesion_stats
from smoothseg.predict.predictor import Predictor
from smoothseg.predict.preview import render_preview
from smoothseg.predict.statistics import statistics_document

LABELS = "labels.nii.gz"
LIVER_MASK = "liver.nii.gz"
TUMOR_MASK = "tumor.nii.gz"
LABELS_NRRD = "labels.nrrd"
DICOM_SEG = "seg.dcm"
PREVIEW = "preview.png"
STATISTICS = "statistics.json"
#: Every file name ``smoothseg predict`` may write into an output folder.
OUTPUT_NAMES = (LABELS, LIVER_MASK, TUMOR_MASK, LABELS_NRRD, DICOM_SEG, PREVIEW, STATISTICS)


@dataclass(frozen=True, eq=False)
class ScanResult:
    """What :func:`predict_scan` produced."""

    prediction: Prediction
    lesions: list[LesionStats]
    statistics: dict[str, Any]
    outputs: dict[str, Path]


def planned_outputs(predictor: Predictor, out_dir: Path, *, dicom: bool) -> dict[str, Path]:
    """The files a successful prediction writes into ``out_dir`` (by role)."""
    cfg = predictor.config
    out = {"labels": out_dir / LABELS}
    if cfg.masks:
        out["liver"] = out_dir / LIVER_MASK
        out["tumor"] = out_dir / TUMOR_MASK
    if cfg.nrrd:
        out["labels_nrrd"] = out_dir / LABELS_NRRD
    if cfg.dicom_seg is True or (cfg.dicom_seg is None and dicom):
        out["dicom_seg"] = out_dir / DICOM_SEG
    if cfg.preview:
        out["preview"] = out_dir / PREVIEW
    out["statistics"] = out_dir / STATISTICS
    return out


#: Files in an output folder that do not make it "someone else's" (run logs, our lock).
_OWN_FILE_PATTERNS = ("smoothseg-*.log.jsonl", LOCK_NAME, ".*.tmp*")


def foreign_files(folder: Path) -> list[str]:
    """Names in ``folder`` that no ``smoothseg predict`` run writes (sorted)."""
    if not folder.is_dir():
        return []
    ours = set(OUTPUT_NAMES)
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in ours and not any(p.match(pattern) for pattern in _OWN_FILE_PATTERNS)
    )


def predict_scan(
    predictor: Predictor,
    input_path: str | Path,
    out_dir: str | Path,
    *,
    series: str | None = None,
    overwrite: bool = False,
    limits: ReadLimits | None = None,
) -> ScanResult:
    """Predict one scan and write its outputs (see docs/predict.md).

    The folder is claimed for this run (see :mod:`smoothseg.io.claim`); on any failure the
    files this run wrote are removed again, so a folder never holds a partial result.

    Raises:
        OutputExistsError: An output exists and ``overwrite`` is False (checked before work).
        InputError: Unreadable input, a DICOM SEG requested for non-DICOM input, an output
            folder holding other files (without ``overwrite``) or in use by another run.

    """
    folder = Path(out_dir)
    created = not folder.exists()
    try:
        with claimed_folder(folder):
            return _predict_into(predictor, input_path, folder, series, overwrite, limits)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: a folder this run made and filled nothing in
        raise


def _predict_into(
    predictor: Predictor,
    input_path: str | Path,
    folder: Path,
    series: str | None,
    overwrite: bool,
    limits: ReadLimits | None,
) -> ScanResult:
    start = time.perf_counter()
    volume = read_volume(input_path, kind="image", series=series, limits=limits)
    read_s = time.perf_counter() - start
    dicom = volume.source.format == "dicom"
    planned = planned_outputs(predictor, folder, dicom=dicom)
    if not overwrite:
        for path in planned.values():
            if path.exists():
                raise OutputExistsError(path)
        others = foreign_files(folder)
        if others:
            shown = ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")
            raise InputError(
                folder,
                f"holds files of something else ({shown}); choose a new or empty folder, "
                "or pass --overwrite to write beside them",
            )
    if "dicom_seg" in planned and not dicom:
        raise InputError(input_path, "a DICOM SEG needs DICOM input (the SEG references the CT)")
    prediction = predictor.predict(volume)
    prediction.timings_s["read_s"] = read_s
    start = time.perf_counter()
    lesions = lesion_stats(prediction.tumor, prediction.image) if prediction.status == "ok" else []
    prediction.timings_s["statistics_s"] = time.perf_counter() - start
    written: dict[str, Path] = {}
    try:
        _write_outputs(prediction, lesions, predictor, planned, written, overwrite=overwrite)
        document = statistics_document(
            prediction,
            lesions,
            model=predictor.model_info,
            options=predictor.config,
            outputs={k: v.name for k, v in written.items()},
        )
        with atomic_output(planned["statistics"], overwrite=overwrite) as tmp:
            tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        _remove_partial(written, planned["statistics"])
        raise
    written["statistics"] = planned["statistics"]
    return ScanResult(prediction, lesions, document, written)


def _remove_partial(written: dict[str, Path], statistics: Path) -> None:
    """Undo a failed run: its files, and the completion marker they no longer match."""
    if not written:
        return
    for path in [*written.values(), statistics]:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _write_outputs(
    prediction: Prediction,
    lesions: list[LesionStats],
    predictor: Predictor,
    planned: dict[str, Path],
    written: dict[str, Path],
    *,
    overwrite: bool,
) -> None:
    """Write label files, SEG and preview into ``written`` (by role) as each one lands.

    Nothing but statistics is written when no liver was found.
    """
    if prediction.status != "ok":
        return
    start = time.perf_counter()
    labels = prediction.labels
    image = prediction.image
    written["labels"] = write_volume(
        labels, planned["labels"], reference=image, overwrite=overwrite
    )
    if "liver" in planned:
        liver = image.with_array(prediction.liver.astype(np.uint8), kind="label")
        tumor = image.with_array(prediction.tumor.astype(np.uint8), kind="label")
        written["liver"] = write_volume(
            liver, planned["liver"], reference=image, overwrite=overwrite
        )
        written["tumor"] = write_volume(
            tumor, planned["tumor"], reference=image, overwrite=overwrite
        )
    if "labels_nrrd" in planned:
        written["labels_nrrd"] = write_volume(
            labels, planned["labels_nrrd"], reference=image, overwrite=overwrite
        )
    if "dicom_seg" in planned:
        present = {int(v) for v in np.unique(labels.array)}
        segments = tuple(s for s in HARMONIZED_SEGMENTS if s.value in present)
        series = image.source.series.uid if image.source.series is not None else None
        written["dicom_seg"] = write_dicom_seg(
            labels,
            Path(image.source.path),
            planned["dicom_seg"],
            series=series,
            segments=segments,
            overwrite=overwrite,
        )
    prediction.timings_s["write_s"] = time.perf_counter() - start
    if "preview" in planned:
        start = time.perf_counter()
        largest = None
        if lesions:
            largest = largest_lesion(prediction.tumor)
        render_preview(
            image,
            prediction.liver,
            prediction.tumor,
            planned["preview"],
            largest=largest,
            title=_title(prediction, lesions, predictor),
            warnings=prediction.warnings,
            overwrite=overwrite,
        )
        written["preview"] = planned["preview"]
        prediction.timings_s["preview_s"] = time.perf_counter() - start


def _title(prediction: Prediction, lesions: list[LesionStats], predictor: Predictor) -> str:
    ml = prediction.image.voxel_volume_ml
    liver = float(np.count_nonzero(prediction.liver)) * ml
    tumor = float(np.count_nonzero(prediction.tumor)) * ml
    note = " — synthetic-data model, not for clinical use" if predictor.provenance else ""
    return f"liver {liver:.0f} mL, tumor {tumor:.1f} mL, {len(lesions)} lesion(s){note}"
