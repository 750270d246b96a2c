"""Phantom follow-ups after TACE with known response categories.

For each case a baseline phantom is rendered and edited into a follow-up scan: every tumor is
scaled about its centroid (shrinkage or growth), part of it becomes non-viable (necrosis or
lipiodol deposits > 300 HU), a new lesion may appear, the patient lies shifted (rigid shift) and
the contrast phase differs (global HU offset). Arterial-phase images of both time points are
written beside the portal-venous ones. The true categories follow from the design parameters
(scale ``s`` of every lesion, viable fraction ``f`` of its diameter), chosen far from the
thresholds so that the truth is unambiguous:

* RECIST 1.1 sum of diameters changes by ``s - 1``; mRECIST viable sum by ``s * f - 1``;
* volume changes by ``s**3 - 1``; a new lesion makes every category PD.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from smoothseg.io import Volume, write_volume
from smoothseg.phantom.config import PhantomConfig, case_seed
from smoothseg.phantom.generate import PhantomCase, generate_case

#: Scenario → (scale of every lesion, viable fraction of its diameter, new lesion, lipiodol).
SCENARIOS: dict[str, tuple[float, float, bool, bool]] = {
    "CR": (0.0, 0.0, False, False),
    "PR": (0.5, 1.0, False, False),
    "SD": (1.0, 1.0, False, False),
    "PD": (1.5, 1.0, False, False),
    "new_lesion": (1.0, 1.0, True, False),
    "lipiodol": (1.0, 0.4, False, True),
}
#: HU of lipiodol deposits and of necrosis.
LIPIODOL_HU = (450.0, 800.0)
NECROSIS_HU = (5.0, 25.0)
#: Arterial phase: parenchyma offset and viable-tumor enhancement above parenchyma (HU).
ARTERIAL_LIVER_OFFSET_HU = -40.0
ARTERIAL_TUMOR_ENHANCEMENT_HU = 70.0
#: Draws per pair before giving up on keeping growing lesions apart.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class FollowupTruth:
    """True response of one phantom pair (categories and the design they come from)."""

    case_id: str
    scenario: str
    scale: float
    viable_fraction: float
    new_lesion: bool
    shift_vox: tuple[int, int, int]
    recist: str
    mrecist: str
    volumetric: str


def categories(scale: float, viable: float, new: bool) -> tuple[str, str, str]:
    """RECIST 1.1, mRECIST and volumetric category of a design (see the module docstring)."""
    if new:
        return "PD", "PD", "PD"

    def by_sum(ratio: float) -> str:
        if ratio <= 0.0:
            return "CR"
        if ratio <= 0.7:
            return "PR"
        return "PD" if ratio >= 1.2 else "SD"

    vol = scale**3
    volumetric = "CR" if vol <= 0 else "PR" if vol <= 0.35 else "PD" if vol >= 1.73 else "SD"
    return by_sum(scale), by_sum(scale * viable), volumetric


def _scaled(mask: np.ndarray, spacing: np.ndarray, scale: float) -> np.ndarray:
    if scale <= 0:
        return np.zeros_like(mask)
    center = np.array(ndimage.center_of_mass(mask))
    matrix = np.full(3, 1.0 / scale)
    offset = center - matrix * center
    out = ndimage.affine_transform(mask.astype(np.uint8), matrix, offset=offset, order=0)
    return np.asarray(out, dtype=bool)


def _new_lesion(liver: np.ndarray, tumor: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    inner = ndimage.distance_transform_edt(liver, sampling=spacing)
    away = ndimage.distance_transform_edt(~tumor, sampling=spacing)
    score = np.minimum(inner, away / 3.0)
    center = np.unravel_index(int(np.argmax(score)), liver.shape)
    grid = np.indices(liver.shape).astype(np.float64)
    dist = sum(((grid[a] - center[a]) * spacing[a]) ** 2 for a in range(3))
    out: np.ndarray = np.asarray(dist <= 9.0**2) & liver
    return out


def _like(values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` values drawn from ``values`` within median ± 3 MAD (texture and noise of a tissue).

    Filling with a smooth value instead left a noise-free patch where a tumor had been, which a
    model reads as a lesion.
    """
    med = float(np.median(values))
    mad = float(np.median(np.abs(values - med))) * 1.4826 + 1e-3
    pool = values[np.abs(values - med) <= 3 * mad]
    out: np.ndarray = rng.choice(pool if pool.size else values, size=n)
    return out


def make_followup(
    case: PhantomCase, scenario: str, rng: np.random.Generator
) -> tuple[dict[str, Volume], FollowupTruth]:
    """Edit a rendered baseline into its follow-up (images, labels, viable mask) and truth."""
    scale, fraction, new, lipiodol = SCENARIOS[scenario]
    image = case.image.array.astype(np.float32)
    labels = case.labels.array.copy()
    spacing = np.asarray(case.image.spacing_mm, dtype=np.float64)
    liver_hu = float(np.median(image[labels == 1]))
    tumor0 = labels == 2
    comp, n = ndimage.label(tumor0, structure=np.ones((3, 3, 3)))
    out_img, out_lab = image.copy(), labels.copy()
    gone = tumor0.copy()
    tumor1 = np.zeros_like(tumor0)
    viable = np.zeros_like(tumor0)
    for k in range(1, n + 1):
        lesion = _scaled(comp == k, spacing, scale)
        tumor1 |= lesion
        if lesion.any():
            center = np.array(ndimage.center_of_mass(lesion))
            r_eq = (lesion.sum() * np.prod(spacing) * 3 / (4 * np.pi)) ** (1 / 3)
            grid = np.indices(lesion.shape).astype(np.float64)
            d2 = sum(((grid[a] - center[a]) * spacing[a]) ** 2 for a in range(3))
            viable |= lesion & (d2 <= (fraction * r_eq) ** 2 if fraction < 1 else lesion)
    gone &= ~tumor1
    out_lab[gone] = 1
    out_img[gone] = _like(image[labels == 1], int(gone.sum()), rng)
    grown = tumor1 & ~tumor0
    tumor_values = image[tumor0] if tumor0.any() else image[labels == 1] - 30.0
    out_img[grown] = _like(tumor_values, int(grown.sum()), rng)
    out_lab[tumor1] = 2
    dead = tumor1 & ~viable
    lo, hi = LIPIODOL_HU if lipiodol else NECROSIS_HU
    out_img[dead] = rng.uniform(lo, hi, int(dead.sum()))
    if new:
        extra = _new_lesion(labels == 1, tumor0 | tumor1, spacing)
        out_lab[extra] = 2
        viable |= extra
        out_img[extra] = _like(tumor_values, int(extra.sum()), rng)
    soft = (out_img > -100) & (out_img < 250)
    out_img[soft] += float(rng.uniform(-15, 15))  # another contrast timing
    base_art = _arterial(image, labels, labels == 2, liver_hu)
    follow_art = _arterial(out_img, out_lab, viable, liver_hu)
    shift = (int(rng.integers(2, 5)), int(rng.integers(-4, -1)), int(rng.integers(1, 3)))
    aff = case.image.affine

    def moved(arr: np.ndarray, fill: float, image: bool) -> Volume:
        rolled = np.asarray(ndimage.shift(arr, shift, order=0, cval=fill))
        if image:
            return Volume(rolled.astype(np.int16), aff, kind="image")
        return Volume(rolled.astype(np.uint8), aff, kind="label")

    vols = {
        "baseline": case.image,
        "baseline_arterial": Volume(base_art.astype(np.int16), aff, kind="image"),
        "baseline_labels": case.labels,
        "followup": moved(out_img, -1000.0, True),
        "followup_arterial": moved(follow_art, -1000.0, True),
        "followup_labels": moved(out_lab, 0, False),
        "followup_viable": moved(viable.astype(np.uint8), 0, False),
    }
    recist, mrecist, volumetric = categories(scale, fraction, new)
    truth = FollowupTruth(
        case.case_id, scenario, scale, fraction, new, shift, recist, mrecist, volumetric
    )
    return vols, truth


def _arterial(
    image: np.ndarray, labels: np.ndarray, viable: np.ndarray, liver_hu: float
) -> np.ndarray:
    art = image.copy()
    art[labels == 1] += ARTERIAL_LIVER_OFFSET_HU
    art[viable] = liver_hu + ARTERIAL_LIVER_OFFSET_HU + ARTERIAL_TUMOR_ENHANCEMENT_HU
    return art


def _count(labels: Volume) -> int:
    return int(ndimage.label(labels.array == 2, structure=np.ones((3, 3, 3)))[1])


def _lesions_stay_apart(vols: dict[str, Volume], scenario: str) -> bool:
    """False when growth made lesions coalesce (the true RECIST category becomes ambiguous)."""
    n_base, n_follow = _count(vols["baseline_labels"]), _count(vols["followup_labels"])
    if n_base == 0:
        return False
    scale, _, new, _ = SCENARIOS[scenario]
    return scale < 1.0 or n_follow == n_base + int(new)


def generate_followups(
    out_dir: str | Path, n_cases: int, seed: int = 0, config: PhantomConfig | None = None
) -> Path:
    """Write ``n_cases`` baseline/follow-up pairs (scenarios in turn) and ``truth.json``.

    A pair whose growing lesions would coalesce (or with no tumor) is redrawn, up to
    :data:`MAX_ATTEMPTS` times, so the designed categories hold.

    Returns:
        Path of ``OUT/followups.json`` (the truth of every pair; file names relative to OUT).

    """
    cfg = config or PhantomConfig.preset("small")
    out = Path(out_dir).expanduser()
    names = list(SCENARIOS)
    rows = []
    for i in range(n_cases):
        cid = f"FOLLOWUP_{i + 1:03d}"
        scenario = names[i % len(names)]
        for attempt in range(MAX_ATTEMPTS):
            seq = np.random.SeedSequence([seed, i, 20, attempt])
            quantile = 0.75 + 0.2 * float(np.random.default_rng(seq).uniform())
            case_seq = case_seed(seed, i) if attempt == 0 else seq.spawn(2)[1]
            case = generate_case(cid, case_seq, cfg, burden_quantile=quantile)
            vols, truth = make_followup(case, scenario, np.random.default_rng(seq.spawn(1)[0]))
            if _lesions_stay_apart(vols, scenario):
                break
        folder = out / cid
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for name, vol in vols.items():
            write_volume(vol, folder / f"{name}.nii.gz", overwrite=True)
            files[name] = f"{cid}/{name}.nii.gz"
        row = {**asdict(truth), "files": files}
        (folder / "truth.json").write_text(json.dumps(row, indent=2))
        rows.append(row)
    path = out / "followups.json"
    path.write_text(json.dumps({"schema_version": 1, "pairs": rows}, indent=2))
    return path
