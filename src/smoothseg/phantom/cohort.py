"""Write a synthetic cohort to disk: images, labels, clinical table, manifest, previews.

Layout of ``DIR``::

    cases/<case_id>/image.nii.gz        int16 HU
    cases/<case_id>/label.nii.gz        uint8: 0 background, 1 liver incl. portal vein, 2 tumor
    cases/<case_id>/structures.nii.gz   uint8: 0 bg, 1 liver, 2 tumor mass, 3 portal vein, 4 aorta
    cases/<case_id>/tumors.json         per-tumor centre, diameter, kind, contrast, margin
    clinical.xlsx, clinical.csv         HCC-TACE-Seg columns, one row per case
    manifest.csv, manifest.json         one row per case (paths relative to DIR)
    phantom_config.json                 the resolved configuration
    previews/<case_id>.png              with ``preview=True``

The cohort is built in a temporary sibling folder and moved into place at the end, so a
failure never leaves a half-written cohort. Case ``i`` depends only on ``(seed, i)``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from smoothseg.errors import InputError, OutputExistsError, SmoothsegError
from smoothseg.io import write_volume
from smoothseg.phantom.case import CaseSpec, sample_case
from smoothseg.phantom.clinical import clinical_table
from smoothseg.phantom.config import SIZES, PhantomConfig, burden_quantile, case_seed
from smoothseg.phantom.generate import PhantomCase, generate_case
from smoothseg.phantom.tables import clinical_xlsx_bytes, csv_bytes, json_bytes, write_bytes
from smoothseg.version import __version__

CONFIG_FILE = "phantom_config.json"
MANIFEST_COLUMNS: tuple[str, ...] = (
    "case_id",
    "image",
    "label",
    "structures",
    "spacing_x_mm",
    "spacing_y_mm",
    "spacing_z_mm",
    "shape_x",
    "shape_y",
    "shape_z",
    "liver_ml",
    "tumor_ml",
    "tlvr",
    "n_tumors",
    "largest_tumor_diameter_mm",
    "size_group",
    "tumor_kinds",
    "tlvr_reference",
    "noise_sigma_hu",
    "preview",
)
#: Paper's split of tumors by diameter (Table 4).
LARGE_TUMOR_MM = 100.0
Progress = Callable[[int, int, str], None]


def case_id(index: int) -> str:
    """Identifier of case ``index`` (0-based): ``PHANTOM_001``, ``PHANTOM_002``, ..."""
    return f"PHANTOM_{index + 1:03d}"


def size_group(largest_mm: float) -> str:
    """``none``, ``<10cm`` or ``>=10cm`` (the paper's tumor size groups)."""
    if largest_mm <= 0:
        return "none"
    return ">=10cm" if largest_mm >= LARGE_TUMOR_MM else "<10cm"


def cohort_case(index: int, seed: int, config: PhantomConfig) -> PhantomCase:
    """Case ``index`` of the cohort with ``seed``, exactly as :func:`generate_cohort` makes it."""
    q = burden_quantile(seed, index, config.strata)
    return generate_case(case_id(index), case_seed(seed, index), config, burden_quantile=q)


def cohort_spec(index: int, seed: int, config: PhantomConfig) -> CaseSpec:
    """Parameters of case ``index`` without rendering (fast; same as :func:`cohort_case`'s)."""
    q = burden_quantile(seed, index, config.strata)
    return sample_case(case_id(index), case_seed(seed, index), config, burden_quantile=q)


def manifest_row(case: PhantomCase, preview: str = "") -> dict[str, Any]:
    """The manifest entry of a rendered case (paths relative to the cohort folder)."""
    folder = f"cases/{case.case_id}"
    sx, sy, sz = case.image.spacing_mm
    nx, ny, nz = case.image.shape
    spec = case.spec
    largest = spec.largest_diameter_mm
    return {
        "case_id": case.case_id,
        "image": f"{folder}/image.nii.gz",
        "label": f"{folder}/label.nii.gz",
        "structures": f"{folder}/structures.nii.gz",
        "spacing_x_mm": round(sx, 4),
        "spacing_y_mm": round(sy, 4),
        "spacing_z_mm": round(sz, 4),
        "shape_x": nx,
        "shape_y": ny,
        "shape_z": nz,
        "liver_ml": round(case.liver_ml, 3),
        "tumor_ml": round(case.tumor_ml, 3),
        "tlvr": round(case.tlvr, 6),
        "n_tumors": spec.n_tumors,
        "largest_tumor_diameter_mm": round(largest, 2),
        "size_group": size_group(largest),
        "tumor_kinds": ";".join(t.kind for t in spec.tumors),
        "tlvr_reference": round(spec.tlvr, 6),
        "noise_sigma_hu": round(spec.noise_sigma_hu, 2),
        "preview": preview,
    }


def check_target(out: Path, overwrite: bool) -> None:
    """Raise unless ``out`` may receive a cohort (absent, empty, or a cohort to overwrite)."""
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputExistsError(out)
        if not (out / CONFIG_FILE).is_file():
            raise InputError(
                out,
                f"is not empty and holds no {CONFIG_FILE}: refusing to replace a folder "
                "that is not a phantom cohort",
            )


def generate_cohort(
    out_dir: str | Path,
    n_cases: int,
    seed: int = 0,
    size: str = "small",
    preview: bool = False,
    overwrite: bool = False,
    *,
    config: PhantomConfig | None = None,
    progress: Progress | None = None,
) -> Path:
    """Generate a cohort of synthetic abdominal CTs with labels and a clinical table.

    Args:
        out_dir: Cohort folder (created; replaced only with ``overwrite``).
        n_cases: Number of cases (at least 1).
        seed: Cohort seed (non-negative).
        size: ``small`` (128 x 128 x 48, 3 x 3 x 5 mm) or ``paper`` (512 x 512 x 96,
            0.75 x 0.75 x 2.5 mm).
        preview: Also write a PNG per case.
        overwrite: Replace an existing non-empty cohort folder.
        config: Full configuration (overrides ``size``; its seed is replaced by ``seed``).
        progress: Called as ``progress(done, total, case_id)`` after each case.

    Returns:
        Path of ``manifest.csv``.

    Raises:
        OutputExistsError: ``out_dir`` is not empty and ``overwrite`` is False.
        InputError: ``out_dir`` is a file, or a non-empty folder that is no phantom cohort.
        SmoothsegError: invalid ``n_cases``, ``seed`` or ``size``.

    """
    if n_cases < 1:
        raise SmoothsegError(f"the number of cases must be at least 1, got {n_cases}")
    if seed < 0:
        raise SmoothsegError(f"the seed must be non-negative, got {seed}")
    if config is None:
        if size not in SIZES:
            raise SmoothsegError(f"unknown phantom size {size!r}; choose one of {', '.join(SIZES)}")
        config = PhantomConfig.preset(size)
    config = replace(config, seed=seed)
    out = Path(out_dir).expanduser()
    check_target(out, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise InputError(out.parent, f"cannot write here: {exc.strerror or exc}") from exc
    try:
        _write_all(work, n_cases, seed, config, preview, progress)
        _move_into_place(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out / "manifest.csv"


def _write_all(
    work: Path,
    n_cases: int,
    seed: int,
    config: PhantomConfig,
    preview: bool,
    progress: Progress | None,
) -> None:
    from smoothseg.phantom.preview import write_preview

    rows: list[dict[str, Any]] = []
    specs: list[CaseSpec] = []
    for index in range(n_cases):
        case = cohort_case(index, seed, config)
        folder = work / "cases" / case.case_id
        write_volume(case.image, folder / "image.nii.gz")
        write_volume(case.labels, folder / "label.nii.gz")
        write_volume(case.structures, folder / "structures.nii.gz")
        write_bytes(folder / "tumors.json", json_bytes([t.to_dict() for t in case.tumors]))
        png = ""
        if preview:
            png = f"previews/{case.case_id}.png"
            write_preview(case, work / png)
        rows.append(manifest_row(case, png))
        specs.append(case.spec)
        if progress is not None:
            progress(index + 1, n_cases, case.case_id)
    table = clinical_table(specs)
    write_bytes(work / "clinical.xlsx", clinical_xlsx_bytes(table))
    write_bytes(work / "clinical.csv", csv_bytes(table))
    manifest = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    write_bytes(work / "manifest.csv", csv_bytes(manifest))
    write_bytes(work / "manifest.json", json_bytes(rows))
    settings = {"generator": f"smoothseg {__version__}", "n_cases": n_cases, **config.to_dict()}
    write_bytes(work / CONFIG_FILE, json_bytes(settings))


def _move_into_place(work: Path, out: Path) -> None:
    """Replace ``out`` by ``work`` (the old folder is removed only after the swap)."""
    os.chmod(work, 0o755)
    if not out.exists():
        os.replace(work, out)
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    backup.rmdir()
    os.replace(out, backup)
    try:
        os.replace(work, out)
    except BaseException:
        os.replace(backup, out)
        raise
    shutil.rmtree(backup, ignore_errors=True)
