"""``compare``: baseline vs follow-up → registration, matching, measures, categories, outputs."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from smoothseg.errors import InputError, OutputExistsError
from smoothseg.io import Volume, read_volume
from smoothseg.response.criteria import mrecist, recist, volumetric
from smoothseg.response.match import match_lesions
from smoothseg.response.measure import measure_lesions
from smoothseg.response.outputs import write_outputs
from smoothseg.response.register import register_livers, resample_to
from smoothseg.response.result import CompareResult
from smoothseg.response.segment import segment_or_load
from smoothseg.response.warnings import response_warnings

OUTPUTS = ("response.json", "report.md", "side_by_side.png", "registration.png")


def _arterial(path: str | Path | None, image: Volume) -> Volume | None:
    if path is None:
        return None
    art = read_volume(path, kind="image")
    if art.shape != image.shape or not np.allclose(art.affine, image.affine, atol=1e-3):
        raise InputError(path, "the arterial phase must be on the grid of its portal-phase CT")
    return art


def _centroids_on(comp: np.ndarray, n: int, reference: Volume) -> list[tuple[float, float, float]]:
    out = []
    for k in range(1, n + 1):
        mask = comp == k
        if not mask.any():
            out.append((1e9, 1e9, 1e9))
            continue
        c = reference.affine @ np.append(np.array(ndimage.center_of_mass(mask)), 1.0)
        out.append((float(c[0]), float(c[1]), float(c[2])))
    return out


def compare(
    baseline: str | Path,
    followup: str | Path,
    out_dir: str | Path,
    *,
    arterial_baseline: str | Path | None = None,
    arterial_followup: str | Path | None = None,
    model: Path | None = None,
    overwrite: bool = False,
    figures: bool = True,
) -> CompareResult:
    """Assess the treatment response of ``followup`` against ``baseline``.

    Args:
        baseline: CT (file, DICOM series) or smoothseg output folder of the baseline.
        followup: The same for the follow-up.
        out_dir: Output folder (response.json, report.md, figures).
        arterial_baseline: Arterial-phase CT of the baseline (on its grid); enables mRECIST.
        arterial_followup: Arterial-phase CT of the follow-up (on its grid).
        model: Model folder for on-the-fly segmentation (default: the shipped model).
        overwrite: Replace existing outputs.
        figures: Also draw the PNG figures.

    Raises:
        OutputExistsError: An output exists and ``overwrite`` is False.
        InputError: Unreadable inputs, or only one arterial phase given.

    """
    out = Path(out_dir).expanduser()
    if (arterial_baseline is None) != (arterial_followup is None):
        raise InputError(out, "give both arterial phases (baseline and follow-up) or neither")
    if not overwrite:
        for name in OUTPUTS:
            if (out / name).exists():
                raise OutputExistsError(out / name)
    out.mkdir(parents=True, exist_ok=True)
    base = segment_or_load(baseline, out, model=model)
    follow = segment_or_load(followup, out, model=model)
    timings = {"predict_baseline_s": base.predict_s, "predict_followup_s": follow.predict_s}
    start = time.perf_counter()
    reg = register_livers(base.labels, follow.labels)
    timings["register_s"] = time.perf_counter() - start
    start = time.perf_counter()
    b_art = _arterial(arterial_baseline, base.image)
    f_art = _arterial(arterial_followup, follow.image)
    b_les, b_comp = measure_lesions(base.image, base.labels, b_art)
    f_les, f_comp = measure_lesions(follow.image, follow.labels, f_art)
    f_comp_vol = follow.labels.with_array(f_comp.astype(np.uint8), kind="label")
    f_on_base = np.asarray(resample_to(f_comp_vol, base.labels, reg.transform, label=True).array)
    f_centroids = _centroids_on(f_on_base, len(f_les), base.labels)
    matches = match_lesions(
        b_comp, f_on_base.astype(np.int32), [x.centroid_ras_mm for x in b_les], f_centroids
    )
    cats = {
        "recist": recist(b_les, f_les, matches),
        "volumetric": volumetric(b_les, f_les, matches),
    }
    m = mrecist(b_les, f_les, matches)
    if m is not None:
        cats["mrecist"] = m
    timings["match_measure_s"] = time.perf_counter() - start
    inputs = {"baseline": base.name, "followup": follow.name}
    if arterial_baseline is not None and arterial_followup is not None:
        inputs["arterial_baseline"] = Path(arterial_baseline).name
        inputs["arterial_followup"] = Path(arterial_followup).name
    warnings = response_warnings(reg, matches, b_les, f_les, cats)
    result = CompareResult(b_les, f_les, matches, cats, reg, inputs, timings, warnings=warnings)
    written = write_outputs(result, out, base, follow, b_comp, f_on_base, figures=figures)
    result.outputs.update(written)
    return result
