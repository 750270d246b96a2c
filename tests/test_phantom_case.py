"""One phantom case in memory: geometry, physical plausibility, labels, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from smoothseg.phantom import (
    PhantomCase,
    PhantomConfig,
    Tissue,
    cohort_case,
    generate_case,
    harmonize,
)
from smoothseg.phantom.tissues import EXPECTED_HU

SMALL = PhantomConfig.preset("small")
N_CASES = 6


@pytest.fixture(scope="module")
def cases() -> list[PhantomCase]:
    return [cohort_case(i, 0, SMALL) for i in range(N_CASES)]


def test_volumes_have_ct_types_and_anisotropic_ras_geometry(cases: list[PhantomCase]) -> None:
    for case in cases:
        assert case.image.array.dtype == np.int16 and case.image.kind == "image"
        assert case.labels.array.dtype == np.uint8 and case.structures.array.dtype == np.uint8
        assert set(np.unique(case.structures.array)) <= {0, 1, 2, 3, 4}
        assert set(np.unique(case.labels.array)) <= {0, 1, 2}
        assert np.array_equal(case.labels.array, harmonize(case.structures.array))
        assert case.image.shape == SMALL.shape and case.image.axcodes == ("R", "A", "S")
        sx, sy, sz = case.image.spacing_mm
        assert sx == sy < sz
        assert case.labels.grid.matches(case.image.grid)
        assert case.image.array.min() >= -1024 and case.image.array.max() <= 3071
        assert (case.structures.array == 4).any() and (case.structures.array == 1).any()


def test_tissue_hu_within_physical_ranges(cases: list[PhantomCase]) -> None:
    """Mean HU of each tissue's interior (one-voxel erosion removes partial volume)."""
    for case in cases:
        img = case.image.array.astype(np.float64)
        for tissue, (lo, hi) in EXPECTED_HU.items():
            core = ndimage.binary_erosion(case.tissues.array == tissue)
            if core.sum() < 20:
                continue
            mean = float(img[core].mean())
            assert lo <= mean <= hi, (case.case_id, tissue.name, mean)


def test_anatomy_is_where_a_radiologist_expects_it(cases: list[PhantomCase]) -> None:
    """Liver on the patient's right (+x), aorta left of the spine and anterior to it."""
    for case in cases:
        t = case.tissues.array
        x = case.image.grid.affine[0, 0] * np.arange(t.shape[0]) + case.image.origin_mm[0]
        y = case.image.grid.affine[1, 1] * np.arange(t.shape[1]) + case.image.origin_mm[1]
        liver_x = x[np.nonzero(case.labels.array == 1)[0]].mean()
        aorta = np.nonzero(t == Tissue.AORTA)
        spine = np.nonzero(t == Tissue.BONE_MARROW)
        spine_core = np.abs(x[spine[0]]) < 15
        assert liver_x > 30.0
        assert x[aorta[0]].mean() < 0.0
        assert y[aorta[1]].mean() > y[spine[1][spine_core]].mean()
        assert (t == Tissue.KIDNEY_CORTEX).any() and (t == Tissue.SPLEEN).any()
        assert (t == Tissue.LUNG).any() and (t == Tissue.GAS).any()


def test_tumors_lie_inside_the_liver(cases: list[PhantomCase]) -> None:
    for case in cases:
        lab = case.labels.array
        tumor = lab == 2
        assert bool(tumor.any()) == bool(case.tumors)
        if not tumor.any():
            continue
        comps, n = ndimage.label(tumor)
        grown = ndimage.binary_dilation(tumor) & ~tumor
        for k in range(1, n + 1):
            ring = ndimage.binary_dilation(comps == k) & ~tumor
            assert (lab[ring] == 1).any(), f"{case.case_id}: tumor component not in liver"
        # Most of the tumor surface borders liver; background only where the liver itself
        # meets the abdominal wall or a neighbouring organ.
        assert (lab[grown] == 1).mean() > 0.5, case.case_id
        grid = case.labels.grid
        for t in case.tumors:
            ijk = np.round(np.linalg.solve(grid.affine, [*t.shape.center, 1.0])[:3]).astype(int)
            if np.all((ijk >= 0) & (ijk < grid.shape)):
                assert lab[tuple(ijk)] > 0, case.case_id


def test_tumor_contrast_matches_kind(cases: list[PhantomCase]) -> None:
    seen = 0
    for case in cases:
        img = case.image.array.astype(np.float64)
        lab = case.labels.array
        liver = float(img[ndimage.binary_erosion(lab == 1, iterations=2)].mean())
        comps, _ = ndimage.label(lab == 2)
        grid = case.labels.grid
        for t in case.tumors:
            if t.diameter_mm < 25:
                continue
            ijk = np.round(np.linalg.solve(grid.affine, [*t.shape.center, 1.0])[:3]).astype(int)
            core = ndimage.binary_erosion(comps == comps[tuple(ijk)])
            if comps[tuple(ijk)] == 0 or core.sum() < 8:
                continue
            delta = float(img[core].mean()) - liver
            seen += 1
            if t.kind == "isodense":
                assert -28.0 < delta < 3.0, (case.case_id, delta)
            else:
                assert delta < -15.0, (case.case_id, t.kind, delta)
    assert seen >= 2


def test_rasterized_tlvr_matches_reference_tlvr(cases: list[PhantomCase]) -> None:
    """The clinical model uses the reference-grid TLVR; it must agree with the labels."""
    for case in cases:
        assert abs(case.tlvr - case.spec.tlvr) <= 0.005 + 0.05 * case.spec.tlvr, case.case_id
        assert abs(case.liver_ml - case.spec.liver_ml) <= 0.05 * case.spec.liver_ml


def test_noise_level_follows_the_case_sigma(cases: list[PhantomCase]) -> None:
    for case in cases:
        img = case.image.array.astype(np.float64)
        fat = ndimage.binary_erosion(case.tissues.array == Tissue.FAT, iterations=2)
        sd = float(img[fat].std())
        assert 0.6 * case.spec.noise_sigma_hu < sd < 1.6 * case.spec.noise_sigma_hu + 5.0


def test_same_seed_same_case_any_seed_type() -> None:
    cfg = PhantomConfig.preset("small", shape=(64, 64, 12), spacing_mm=(6.0, 6.0, 10.0))
    a = generate_case("A", 11, cfg, burden_quantile=0.95)
    b = generate_case("A", np.random.SeedSequence(11), cfg, burden_quantile=0.95)
    assert np.array_equal(a.image.array, b.image.array)
    assert np.array_equal(a.structures.array, b.structures.array)
    c = generate_case("C", np.random.default_rng(3), cfg)
    assert c.image.shape == (64, 64, 12)
    with pytest.raises(ValueError, match="non-negative"):
        generate_case("D", -1, cfg)


def test_fine_in_plane_grid_uses_the_same_anatomy() -> None:
    """A paper-like in-plane resolution (lattice-interpolated fields) gives the same TLVR."""
    fine = PhantomConfig.preset(
        "small", shape=(256, 256, 12), spacing_mm=(1.5, 1.5, 5.0), z_top_mm=-40.0
    )
    coarse = PhantomConfig.preset(
        "small", shape=(128, 128, 12), spacing_mm=(3.0, 3.0, 5.0), z_top_mm=-40.0
    )
    a = generate_case("F", 4, fine, burden_quantile=0.97)
    b = generate_case("F", 4, coarse, burden_quantile=0.97)
    assert a.spec.tlvr == b.spec.tlvr and a.tumor_ml > 0
    assert abs(a.tumor_ml - b.tumor_ml) < 0.08 * b.tumor_ml
    assert abs(a.liver_ml - b.liver_ml) < 0.05 * b.liver_ml
