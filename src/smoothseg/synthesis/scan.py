"""Synthesize one scan and write its files (what ``smoothseg synthesize`` does).

Outputs, all on the input's native grid:

* non-DICOM output: ``ct.nii.gz`` (the new CT) and ``labels.nii.gz`` (0 background, 1 liver,
  2 tumor);
* DICOM output (default for DICOM input): ``ct/`` (a CT series, one file per slice),
  ``seg.dcm`` (a DICOM SEG of liver and tumor referencing ``ct/``) and ``labels.nii.gz``;
* ``lesions.json`` (one record per lesion, plus the request and seed) and ``preview.png``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smoothseg.io import DicomSeriesMeta, Volume, write_dicom_series, write_volume
from smoothseg.io.atomic import atomic_output
from smoothseg.io.dicom_seg_write import SegWriteMeta, write_dicom_seg
from smoothseg.synthesis.config import Lesion, LesionRequest
from smoothseg.synthesis.preview import write_preview
from smoothseg.synthesis.volume import synthesize_volume

INT16 = (-32768, 32767)


@dataclass(frozen=True)
class SynthesisResult:
    """What :func:`synthesize_scan` wrote."""

    ct: Volume
    labels: Volume
    lesions: list[Lesion]
    files: dict[str, Path]


def output_paths(out_dir: Path, *, dicom: bool) -> dict[str, Path]:
    """The files :func:`synthesize_scan` writes into ``out_dir``."""
    files = {"labels": out_dir / "labels.nii.gz"}
    if dicom:
        files.update(ct=out_dir / "ct", seg=out_dir / "seg.dcm")
    else:
        files["ct"] = out_dir / "ct.nii.gz"
    files.update(lesions=out_dir / "lesions.json", preview=out_dir / "preview.png")
    return files


def _as_stored(ct: Volume) -> Volume:
    """Whole HU as int16 when they fit (as scanners store them), else float32."""
    values = np.rint(np.asarray(ct.array, dtype=np.float64))
    if values.size and INT16[0] <= values.min() and values.max() <= INT16[1]:
        return ct.with_array(values.astype(np.int16))
    return ct.with_array(values.astype(np.float32))


def synthesize_scan(
    ct: Volume,
    liver: Volume,
    out_dir: str | Path,
    request: LesionRequest,
    *,
    seed: int,
    dicom: bool,
    overwrite: bool = False,
    provenance: dict[str, Any] | None = None,
) -> SynthesisResult:
    """Implant lesions into ``ct`` inside ``liver`` and write the outputs (module docs).

    Args:
        ct: The CT (as read; canonical with its native grid remembered).
        liver: Liver mask (any label > 0) on ``ct``'s grid.
        out_dir: Output folder (created).
        request: What to implant.
        seed: Random seed (the same seed gives the same files).
        dicom: Write the CT as a DICOM series plus a DICOM SEG instead of NIfTI.
        overwrite: Replace existing outputs.
        provenance: Extra facts for ``lesions.json`` (input path, liver source...).

    Raises:
        OutputExistsError: An output exists and ``overwrite`` is False.
        GeometryError: ``liver`` is not on ``ct``'s grid.

    """
    folder = Path(out_dir)
    files = output_paths(folder, dicom=dicom)
    if not overwrite:
        from smoothseg.errors import OutputExistsError

        for path in files.values():
            if path.exists():
                raise OutputExistsError(path)
    new_ct, labels, lesions = synthesize_volume(ct, liver, request, np.random.default_rng(seed))
    new_ct = _as_stored(new_ct)
    folder.mkdir(parents=True, exist_ok=True)
    if dicom:
        meta = DicomSeriesMeta(
            patient_id="SYNTHETIC",
            patient_name="Synthetic^Lesions",
            study_description="smoothseg synthetic lesions",
            series_description=f"CT with synthetic lesions (seed {seed})",
            uid_seed=f"smoothseg-synthesize-{seed}-{Path(ct.source.path).name or 'ct'}",
        )
        write_dicom_series(new_ct, files["ct"], meta, overwrite=overwrite)
        seg_meta = SegWriteMeta(
            series_description="Synthetic lesions (ground truth)",
            algorithm_name="smoothseg synthesize",
            uid_seed=meta.uid_seed,
        )
        write_dicom_seg(labels, files["ct"], files["seg"], meta=seg_meta, overwrite=overwrite)
    else:
        write_volume(new_ct, files["ct"], overwrite=overwrite)
    write_volume(labels, files["labels"], overwrite=overwrite)
    record = {
        "seed": seed,
        "request": asdict(request),
        **(provenance or {}),
        "lesions": [asdict(x) for x in lesions],
    }
    with atomic_output(files["lesions"], overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    sizes = ", ".join(f"{x.diameter_mm:.0f} mm {x.contrast_hu:+.0f} HU" for x in lesions[:4])
    title = f"{len(lesions)} synthetic lesion(s): {sizes}{' ...' if len(lesions) > 4 else ''}"
    write_preview(new_ct, labels, files["preview"], title, overwrite=overwrite)
    return SynthesisResult(new_ct, labels, lesions, files)
