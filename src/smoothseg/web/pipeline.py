"""One job's work: locate the scan, check it is a CT, segment it, prepare viewer files.

The segmentation itself is :func:`smoothseg.predict.predict_scan` (the same outputs as
``smoothseg predict``); this module adds what the page needs: the scan and each structure as
NIfTI files on the scan's own grid for the viewer, and a JSON summary of the results.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from smoothseg.errors import InputError, SmoothsegError
from smoothseg.io import Volume, read_volume, write_volume
from smoothseg.io.modality import check_ct_intensities
from smoothseg.predict import PredictConfig, Predictor
from smoothseg.predict.scan import ScanResult, predict_scan
from smoothseg.web.jobs import Job
from smoothseg.web.safety import safe_extract_zip
from smoothseg.web.settings import WebSettings

#: Downloads (file name → what the page calls it), in the order shown.
DOWNLOADS = {
    "labels.nii.gz": "Label map (NIfTI: 1 liver, 2 tumor)",
    "seg.dcm": "DICOM SEG",
    "statistics.json": "statistics.json",
    "preview.png": "preview.png",
}
#: Viewer volumes (file name → structure).
VIEWER = {"ct.nii.gz": "ct", "liver.nii.gz": "liver", "tumor.nii.gz": "tumor"}
_VOLUME_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


class ModelHolder:
    """The predictor of this process, loaded once on first use (thread-safe)."""

    def __init__(
        self, model_dir: Path | None, device: str = "cpu", predictor: Predictor | None = None
    ) -> None:
        """Remember where the model is (or take an already loaded ``predictor``)."""
        self.model_dir = model_dir
        self.device = device
        self._predictor = predictor
        self._lock = threading.Lock()

    def get(self) -> Predictor:
        """The loaded predictor (loading it the first time)."""
        with self._lock:
            if self._predictor is None:
                config = PredictConfig(device=self.device)
                self._predictor = Predictor.from_model_dir(self.model_dir, config)
            return self._predictor


def _display(path: Path, job: Job, label: str) -> str:
    """How the page names ``path``: never the server's folders."""
    try:
        inner = path.resolve().relative_to(job.folder.resolve() / "unpacked")
    except ValueError:
        return label
    return f"{label}/{inner}" if str(inner) != "." else label


def _scrub(text: str, job: Job, label: str) -> str:
    """``text`` without the server's folders (a reader's message may quote the full path)."""
    return text.replace(str(job.folder.resolve()), label).replace(str(job.folder), label)


def scan_in_folder(folder: Path, label: str) -> Path:
    """The scan inside an unpacked zip: its one volume file, else the folder (DICOM).

    Raises:
        InputError: Several volume files, so which one to segment is unclear.

    """
    files = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and not any(part.startswith((".", "__MACOSX")) for part in p.relative_to(folder).parts)
    ]
    volumes = [p for p in files if p.name.lower().endswith(_VOLUME_SUFFIXES)]
    if len(volumes) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in volumes[:4])
        raise InputError(label, f"the zip holds several scans ({names}); upload one at a time")
    if volumes:
        return volumes[0]
    if not files:
        raise InputError(label, "the zip archive holds no files")
    return folder


def check_ct(volume: Volume, label: str) -> None:
    """Refuse images that are not CT scans in Hounsfield units (the check predict runs).

    Raises:
        InputError: A label map, NaN/inf voxels, or an image without negative HU (e.g. MRI, a
            photo, a mask), in the same words as the command line.

    """
    check_ct_intensities(volume, label)


def prepare_input(path: Path, job: Job, label: str, settings: WebSettings) -> Path:
    """Unpack a zip upload (safely) and return what to read."""
    if path.name.lower().endswith(".zip"):
        job.step(0.05, "unpacking the zip archive")
        dest = job.folder / "unpacked"
        dest.mkdir()
        try:
            safe_extract_zip(
                path, dest, max_bytes=settings.max_unpacked_bytes, max_files=settings.max_zip_files
            )
        except InputError as exc:
            raise InputError(label, exc.problem) from exc
        path.unlink()
        return scan_in_folder(dest, label)
    return path


def segment(
    job: Job, scan: Path, label: str, models: ModelHolder, settings: WebSettings
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Run the whole job; return the page's summary and the files by name.

    Raises:
        InputError: Unreadable input, not a CT (in the page's words, naming ``label``).

    """
    try:
        path = prepare_input(scan, job, label, settings)
        job.step(0.1, "reading the scan")
        shown = _display(path, job, label)
        volume = read_volume(path, kind="image", limits=settings.read_limits)
        check_ct(volume, shown)
        del volume  # predict_scan reads the scan itself; do not hold two copies
        job.step(0.2, "loading the model")
        predictor = models.get()
        job.step(0.25, "segmenting the liver, then tumors inside it")
        result = predict_scan(predictor, path, job.folder / "output", limits=settings.read_limits)
    except InputError as exc:  # name the upload, never the server's folders
        shown = _display(exc.path, job, label) if exc.path.is_absolute() else str(exc.path)
        raise InputError(shown, _scrub(exc.problem, job, shown)) from exc
    except SmoothsegError as exc:
        raise SmoothsegError(_scrub(str(exc), job, label)) from exc
    job.step(0.9, "preparing the viewer")
    files = _downloads(result)
    files.update(_viewer_files(result, job.folder / "viewer"))
    return summary(result, files), files


def _downloads(result: ScanResult) -> dict[str, Path]:
    return {p.name: p for p in result.outputs.values() if p.name in DOWNLOADS}


def _viewer_files(result: ScanResult, folder: Path) -> dict[str, Path]:
    """The CT and one mask per structure as NIfTI on the scan's grid (the viewer's input)."""
    prediction = result.prediction
    image = prediction.image
    files = {"ct.nii.gz": write_volume(image, folder / "ct.nii.gz")}
    if prediction.status != "ok":
        return files
    for name, mask in (("liver.nii.gz", prediction.liver), ("tumor.nii.gz", prediction.tumor)):
        # Written as 0/1 intensity images: NiiVue draws NIfTI "label" intent volumes only
        # through a label table, and a plain overlay gives each structure its own opacity.
        overlay = image.with_array(np.asarray(mask, dtype=np.uint8), kind="image")
        files[name] = write_volume(overlay, folder / name, reference=image)
    return files


def summary(result: ScanResult, files: dict[str, Path]) -> dict[str, Any]:
    """What the results panel shows (a subset of ``statistics.json``, plus file names)."""
    stats = result.statistics
    lesions = [
        {
            "index": lesion["index"],
            "volume_ml": lesion["volume_ml"],
            "longest_axial_diameter_mm": lesion["longest_axial_diameter_mm"],
            "max_3d_diameter_mm": lesion["max_3d_diameter_mm"],
            "mean_hu": lesion["mean_hu"],
            "centroid_ras_mm": lesion["centroid_ras_mm"],
        }
        for lesion in stats["lesions"]
    ]
    return {
        "status": stats["status"],
        "warnings": stats["warnings"],
        "disclaimer": stats["disclaimer"],
        "input": {k: stats["input"][k] for k in ("format", "shape", "spacing_mm", "orientation")},
        "liver_ml": stats["liver_ml"],
        "tumor_ml": stats["tumor_ml"],
        "tlvr": stats["tlvr"],
        "lesion_count": stats["lesion_count"],
        "lesions": lesions,
        "model": stats["model"].get("id"),
        "seconds": round(sum(stats["timings_s"].values()), 1),
        "downloads": [
            {"name": name, "label": label} for name, label in DOWNLOADS.items() if name in files
        ],
        "volumes": {structure: name for name, structure in VIEWER.items() if name in files},
    }
