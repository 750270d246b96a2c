"""Compare mode's work: two time points → :func:`smoothseg.response.compare` → viewer files.

Each time point is an upload: a **scan** (NIfTI, NRRD, MetaImage, DICOM file, zip of a DICOM
series; segmented here with the app's model through
:func:`smoothseg.response.segment.segment_or_load`) or a **result set** (a zip holding a
smoothseg ``labels.nii.gz`` and its CT as one volume file). Optional arterial phases (one per
time point, on the grid of its CT) enable mRECIST. Every input is unpacked with the app's safe
zip extraction, read with the app's size limits, checked to be a CT, and rewritten as NIfTI
inside the job's folder before the response API sees it, so nothing is read outside the upload
folder (a result set's ``statistics.json`` naming another path is never followed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from smoothseg.errors import InputError, SmoothsegError
from smoothseg.io import Volume, read_volume, write_volume
from smoothseg.response import CompareResult, compare
from smoothseg.response.measure import Lesion, components
from smoothseg.response.segment import segment_or_load
from smoothseg.web.jobs import Job
from smoothseg.web.pipeline import ModelHolder, check_ct, scan_in_folder
from smoothseg.web.safety import safe_extract_zip
from smoothseg.web.settings import WebSettings

#: The uploads of a comparison; the first two are required, the arterial phases optional.
ROLES = ("baseline", "followup", "arterial_baseline", "arterial_followup")
TIMEPOINTS = ("baseline", "followup")
LABELS = "labels.nii.gz"
#: Downloads (file name in the response output folder → what the page calls it).
DOWNLOADS = {
    "response.json": "response.json",
    "report.md": "report.md",
    "side_by_side.png": "Side-by-side figure",
    "registration.png": "Registration figure",
}
#: Criteria in the order the page lists them.
ORDER = ("recist", "mrecist", "volumetric")
_VOLUME_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


@dataclass(frozen=True)
class Staged:
    """An uploaded file waiting for its comparison: the user's name and the stored file."""

    label: str
    path: Path


@dataclass(frozen=True)
class TimePoint:
    """One time point, ready for the response API (a folder with image + labels)."""

    label: str
    source: str  # "scan" (segmented here) or "results" (uploaded labels)
    folder: Path
    image: Volume
    labels: Volume
    predict_s: float
    warnings: tuple[str, ...] = ()


def _scrub(text: str, job: Job, staged: dict[str, Staged]) -> str:
    """``text`` without the server's folders (a role's folder becomes the upload's name)."""
    for root in (job.folder.resolve(), job.folder):
        for role, item in staged.items():
            text = text.replace(str(root / role), item.label)
        text = text.replace(str(root), "upload")
    return text


def _unpack(job: Job, role: str, staged: Staged, settings: WebSettings) -> Path:
    """The upload itself, or what its zip holds (extracted safely into the role's folder)."""
    if not staged.path.name.lower().endswith(".zip"):
        return staged.path
    dest = job.folder / role / "unpacked"
    dest.mkdir(parents=True)
    try:
        safe_extract_zip(
            staged.path,
            dest,
            max_bytes=settings.max_unpacked_bytes,
            max_files=settings.max_zip_files,
        )
    except InputError as exc:
        raise InputError(staged.label, exc.problem) from exc
    staged.path.unlink()
    return dest


def _result_set(folder: Path, label: str) -> tuple[Path, Path] | None:
    """(CT, labels) of an unpacked result set, or None when ``folder`` holds no labels."""
    files = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and not any(part.startswith((".", "__MACOSX")) for part in p.relative_to(folder).parts)
    ]
    labels = [p for p in files if p.name.lower() == LABELS]
    if not labels:
        return None
    if len(labels) > 1:
        raise InputError(label, f"the zip holds {len(labels)} {LABELS} files; upload one result")
    scans = [p for p in files if p.name.lower().endswith(_VOLUME_SUFFIXES) and p not in labels]
    scans = [p for p in scans if not p.name.lower().startswith(("liver.", "tumor."))]
    if len(scans) != 1:
        raise InputError(
            label,
            f"a result set needs {LABELS} and its CT as one volume file (e.g. image.nii.gz); "
            f"found {len(scans)} other volume files",
        )
    return scans[0], labels[0]


def _read_ct(path: Path, label: str, settings: WebSettings) -> Volume:
    volume = read_volume(path, kind="image", limits=settings.read_limits)
    check_ct(volume, label)
    return volume


def _check_labels(labels: Volume, label: str) -> None:
    values = set(np.unique(np.asarray(labels.array)).tolist())
    if not values <= {0, 1, 2}:
        raise InputError(label, f"{LABELS} must hold 0, 1 (liver) and 2 (tumor), found {values}")
    if values <= {0}:
        raise InputError(label, "no liver in this time point's labels: nothing to compare")


def prepare_timepoint(
    job: Job, role: str, staged: Staged, models: ModelHolder, settings: WebSettings
) -> TimePoint:
    """Read (and if needed segment) one time point into ``JOB/ROLE/input``.

    Raises:
        InputError: Unreadable, not a CT, bad labels or no liver (naming the upload).

    """
    found = _unpack(job, role, staged, settings)
    folder = job.folder / role / "input"
    folder.mkdir(parents=True)
    pair = _result_set(found, staged.label) if found.is_dir() else None
    if pair is not None:
        image = _read_ct(pair[0], staged.label, settings)
        labels = read_volume(pair[1], kind="label", limits=settings.read_limits)
        labels = labels.on_grid_of(image, f"{staged.label}: {LABELS}")
        _check_labels(labels, staged.label)
        write_volume(image, folder / "image.nii.gz")
        write_volume(labels, folder / LABELS, reference=image)
        return TimePoint(staged.label, "results", folder, image, labels, 0.0)
    scan = scan_in_folder(found, staged.label) if found.is_dir() else found
    image = _read_ct(scan, staged.label, settings)
    ct = write_volume(image, job.folder / role / "scan.nii.gz")
    del image
    seg = segment_or_load(ct, job.folder / role, predictor=models.get())
    # segment_or_load writes `smoothseg predict`'s outputs to WORK/segmentation_<stem>
    warnings = _predict_warnings(job.folder / role / "segmentation_scan" / "statistics.json")
    if not (np.asarray(seg.labels.array) > 0).any():
        raise InputError(staged.label, "no liver was found in this scan: nothing to compare")
    write_volume(seg.image, folder / "image.nii.gz")
    write_volume(seg.labels, folder / LABELS, reference=seg.image)
    return TimePoint(
        staged.label, "scan", folder, seg.image, seg.labels, seg.predict_s, tuple(warnings)
    )


def _predict_warnings(statistics: Path) -> list[str]:
    try:
        stats = json.loads(statistics.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(w) for w in stats.get("warnings", [])]


def _arterial(job: Job, role: str, staged: Staged, ct: Volume, settings: WebSettings) -> Path:
    """An arterial phase rewritten as NIfTI in the job folder (checked against its CT's grid)."""
    found = _unpack(job, role, staged, settings)
    scan = scan_in_folder(found, staged.label) if found.is_dir() else found
    volume = _read_ct(scan, staged.label, settings)
    if not volume.grid.matches(ct.grid):
        raise InputError(
            staged.label, "the arterial phase must be on the grid of its time point's CT"
        )
    return write_volume(volume, job.folder / role / "arterial.nii.gz")


def transform_matrix(transform: sitk.Transform, center: np.ndarray) -> np.ndarray:
    """The 4x4 RAS matrix of an affine SimpleITK ``transform`` (fitted on points near ``center``).

    Raises:
        SmoothsegError: The transform is not affine (points do not fit a matrix).

    """
    corners = np.array([[x, y, z] for x in (-100, 100) for y in (-100, 100) for z in (-100, 100)])
    points = np.vstack([np.zeros(3), corners]) + center
    moved = np.array([transform.TransformPoint([float(v) for v in p]) for p in points])
    homogeneous = np.hstack([points, np.ones((len(points), 1))])
    fitted, *_ = np.linalg.lstsq(homogeneous, moved, rcond=None)
    matrix = np.eye(4)
    matrix[:3, :] = fitted.T
    if float(np.abs(homogeneous @ fitted - moved).max()) > 1e-3:
        raise SmoothsegError("the registration is not affine; cannot link the viewers")
    return matrix


def _match_numbers(labels: Volume, result: CompareResult, side: str) -> np.ndarray:
    """Each lesion voxel labelled with the number of its match (same at both time points)."""
    comp, _ = components(np.asarray(labels.array) == 2)
    lookup = np.zeros(int(comp.max()) + 1, dtype=np.uint8)
    for m in result.matches:
        for index in m.baseline if side == "baseline" else m.followup:
            lookup[index] = min(m.number, 255)
    out: np.ndarray = lookup[comp]
    return out


def _viewer_files(tp: TimePoint, role: str, result: CompareResult, folder: Path) -> dict[str, Path]:
    """CT, liver, tumor (0/1) and the lesion-number map of one time point on its own grid."""
    lab = np.asarray(tp.labels.array)
    files = {f"{role}-ct.nii.gz": write_volume(tp.image, folder / f"{role}-ct.nii.gz")}
    layers = {
        "liver": (lab > 0).astype(np.uint8),  # tumor included, as in the main viewer
        "tumor": (lab == 2).astype(np.uint8),
        "lesions": _match_numbers(tp.labels, result, role),
    }
    for name, array in layers.items():
        target = folder / f"{role}-{name}.nii.gz"
        volume = tp.image.with_array(array, kind="image")
        files[target.name] = write_volume(volume, target, reference=tp.image)
    return files


def run_compare(
    job: Job, staged: dict[str, Staged], models: ModelHolder, settings: WebSettings
) -> tuple[dict[str, Any], dict[str, Path]]:
    """The whole comparison job; return the page's summary and the files by name.

    Raises:
        InputError: A bad upload (named as the user named it; never the server's folders).

    """
    try:
        points: dict[str, TimePoint] = {}
        for i, role in enumerate(TIMEPOINTS):
            job.step(0.05 + 0.35 * i, f"reading the {role} (a scan is segmented)")
            points[role] = prepare_timepoint(job, role, staged[role], models, settings)
        arterial: dict[str, Path] = {}
        for role in ("arterial_baseline", "arterial_followup"):
            if role in staged:
                ct = points[role.removeprefix("arterial_")].image
                arterial[role] = _arterial(job, role, staged[role], ct, settings)
        job.step(0.8, "registering the livers, matching and measuring lesions")
        result = compare(
            points["baseline"].folder,
            points["followup"].folder,
            job.folder / "response",
            arterial_baseline=arterial.get("arterial_baseline"),
            arterial_followup=arterial.get("arterial_followup"),
        )
    except InputError as exc:
        raise InputError(
            _scrub(str(exc.path), job, staged), _scrub(exc.problem, job, staged)
        ) from exc
    except SmoothsegError as exc:
        raise SmoothsegError(_scrub(str(exc), job, staged)) from exc
    job.step(0.95, "preparing the viewers")
    files = {
        name: job.folder / "response" / name
        for name in DOWNLOADS
        if (job.folder / "response" / name).is_file()
    }
    for role, tp in points.items():
        files.update(_viewer_files(tp, role, result, job.folder / "viewer"))
    return compare_summary(result, points, staged, files, models), files


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _lesion_json(lesion: Lesion) -> dict[str, Any]:
    return {
        "index": lesion.index,
        "diameter_mm": round(lesion.diameter_mm, 1),
        "viable_diameter_mm": _rounded(lesion.viable_diameter_mm, 1),
        "volume_ml": round(lesion.volume_ml, 2),
        "viable_volume_ml": _rounded(lesion.viable_volume_ml, 2),
        "lipiodol_ml": round(lesion.lipiodol_ml, 2),
        "centroid_ras_mm": [round(v, 1) for v in lesion.centroid_ras_mm],
    }


def compare_summary(
    result: CompareResult,
    points: dict[str, TimePoint],
    staged: dict[str, Staged],
    files: dict[str, Path],
    models: ModelHolder,
) -> dict[str, Any]:
    """What the compare page shows: categories, lesion rows, warnings, links, volumes."""
    center = np.asarray(
        result.baseline_lesions[0].centroid_ras_mm
        if result.baseline_lesions
        else points["baseline"].image.affine[:3, 3]
    )
    forward = transform_matrix(result.registration.transform, center)
    targets = {k: set(c.targets) for k, c in result.categories.items()}
    rows = [
        {
            "number": m.number,
            "kind": m.kind,
            "confidence": m.confidence,
            "targets": [k for k, t in targets.items() if t & set(m.baseline)],
            "baseline": [_lesion_json(result.baseline_lesions[i - 1]) for i in m.baseline],
            "followup": [_lesion_json(result.followup_lesions[i - 1]) for i in m.followup],
        }
        for m in result.matches
    ]
    warnings = list(result.warnings)
    for role, tp in points.items():
        warnings += [f"{role} segmentation: {w}" for w in tp.warnings]
    predictor_used = any(tp.source == "scan" for tp in points.values())
    disclaimer = models.get().provenance.get("disclaimer") if predictor_used else None
    return {
        "mode": "compare",
        "inputs": {role: s.label for role, s in staged.items()},
        "timepoints": {
            role: {
                "label": tp.label,
                "source": tp.source,
                "shape": list(tp.image.shape),
                "spacing_mm": [round(v, 3) for v in tp.image.spacing_mm],
                "lesion_count": len(
                    result.baseline_lesions if role == "baseline" else result.followup_lesions
                ),
                "predict_s": round(tp.predict_s, 1),
            }
            for role, tp in points.items()
        },
        "categories": [
            {
                "key": key,
                **{f: getattr(c, f) for f in ("criterion", "category", "rule")},
                "baseline_sum": c.baseline_sum,
                "followup_sum": c.followup_sum,
                "change_pct": c.change_pct,
                "unit": "mL" if key == "volumetric" else "mm",
            }
            for key, c in sorted(result.categories.items(), key=lambda kv: ORDER.index(kv[0]))
        ],
        "lesions": rows,
        "registration": {
            "liver_dice_before": round(result.registration.liver_dice_before, 3),
            "liver_dice_after": round(result.registration.liver_dice_after, 3),
            "baseline_to_followup": forward.round(6).tolist(),
            "followup_to_baseline": np.linalg.inv(forward).round(6).tolist(),
        },
        "warnings": warnings,
        "disclaimer": disclaimer,
        "seconds": round(
            sum(result.timings_s.values()) + sum(tp.predict_s for tp in points.values()), 1
        ),
        "downloads": [{"name": n, "label": lab} for n, lab in DOWNLOADS.items() if n in files],
        "volumes": {
            role: {
                layer: f"{role}-{layer}.nii.gz"
                for layer in ("ct", "liver", "tumor", "lesions")
                if f"{role}-{layer}.nii.gz" in files
            }
            for role in TIMEPOINTS
        },
    }
