"""Synthetic lesions: inside the liver, away from vessels, sizes/contrasts as asked, seeded."""

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from smoothseg.synthesis import LesionRequest, SynthesisConfigError, implant_lesions

SPACING = (1.5, 1.5, 2.5)
LEVEL_HU = 60.0


def _scan() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy ellipsoidal 'liver' (60 HU, sd 12) with a bright vessel through it."""
    rng = np.random.default_rng(0)
    shape = (96, 96, 40)
    ct = (LEVEL_HU + 12 * rng.standard_normal(shape)).astype(np.float32)
    i, j, k = np.indices(shape)
    liver = ((i - 48) * 1.5 / 60) ** 2 + ((j - 48) * 1.5 / 55) ** 2 + ((k - 20) * 2.5 / 45) ** 2 < 1
    vessel = ((i - 48) ** 2 + (j - 40) ** 2 < 9) & liver
    ct[vessel] = 180.0
    ct[~liver] = -80.0
    return ct, liver, vessel


def _components(tumor: np.ndarray) -> tuple[np.ndarray, int]:
    labels, n = ndimage.label(tumor)
    return labels, int(n)


def test_lesions_inside_liver_away_from_vessels_and_seeded() -> None:
    ct, liver, vessel = _scan()
    req = LesionRequest(count=3, size_mm=(8.0, 14.0), hcc_prob=0.5, necrosis_prob=0.5)
    a, tumor, lesions = implant_lesions(ct, liver, SPACING, req, np.random.default_rng(5))
    b, tumor_b, lesions_b = implant_lesions(ct, liver, SPACING, req, np.random.default_rng(5))
    assert a.tobytes() == b.tobytes() and tumor.tobytes() == tumor_b.tobytes()
    assert lesions == lesions_b
    c, _, _ = implant_lesions(ct, liver, SPACING, req, np.random.default_rng(6))
    assert a.tobytes() != c.tobytes()
    assert tumor.any() and not (tumor & ~liver).any()
    assert not (tumor & vessel).any()
    assert (a[~liver] == ct[~liver]).all()  # nothing outside the liver changes
    assert len([x for x in lesions if x.parent is None]) == 3
    near_vessel = ndimage.binary_dilation(vessel, iterations=2)
    for lesion in lesions:
        assert not near_vessel[lesion.center_ijk]
        assert liver[lesion.center_ijk]


@pytest.mark.parametrize(("diameter", "contrast"), [(10.0, -40.0), (16.0, 20.0), (12.0, 0.0)])
def test_sizes_and_contrasts_as_asked(diameter: float, contrast: float) -> None:
    ct, liver, _ = _scan()
    req = LesionRequest(
        count=2, size_mm=(diameter, diameter), contrast_hu=(contrast, contrast)
    ).plain()
    out, tumor, lesions = implant_lesions(ct, liver, SPACING, req, np.random.default_rng(1))
    labels, n = _components(tumor)
    assert n == 2 and len(lesions) == 2
    voxel_mm3 = float(np.prod(SPACING))
    for lesion in lesions:
        mask = labels == labels[lesion.center_ijk]
        equivalent = (6 * mask.sum() * voxel_mm3 / np.pi) ** (1 / 3)
        assert abs(equivalent - diameter) < 0.2 * diameter
        assert lesion.diameter_mm == diameter and lesion.contrast_hu == contrast
        assert abs(float(out[mask].mean()) - LEVEL_HU - contrast) < 10.0


def test_density_classes_and_patterns() -> None:
    ct, liver, _ = _scan()
    rng = np.random.default_rng(2)
    iso = LesionRequest(count=2, size_mm=(12.0, 12.0), density_weights=(0, 1, 0)).plain()
    _, _, lesions = implant_lesions(ct, liver, SPACING, iso, rng)
    assert all(abs(x.contrast_hu) <= 8.0 for x in lesions)
    hyper = LesionRequest(count=2, size_mm=(12.0, 12.0), density_weights=(0, 0, 1)).plain()
    _, _, lesions = implant_lesions(ct, liver, SPACING, hyper, rng)
    assert all(x.contrast_hu >= 15.0 for x in lesions)
    hcc = replace(
        LesionRequest(count=1, size_mm=(40.0, 40.0), contrast_hu=(-30.0, -30.0)).plain(),
        hcc_prob=1.0,
        necrosis_prob=1.0,
    )
    out, tumor, lesions = implant_lesions(ct, liver, SPACING, hcc, np.random.default_rng(3))
    (lesion,) = lesions
    assert lesion.pattern == "hcc" and lesion.necrosis
    inner = ndimage.binary_erosion(tumor, iterations=2)
    rim = tumor & ~inner
    core = ndimage.binary_erosion(tumor, iterations=5)
    assert out[rim].mean() > out[inner & ~core].mean() > out[core].mean()


def test_multifocal_and_mass_effect() -> None:
    ct, liver, _ = _scan()
    req = LesionRequest(
        count=1,
        size_mm=(24.0, 24.0),
        contrast_hu=(-40.0, -40.0),
        multifocal_prob=1.0,
        mass_effect=(0.2, 0.2),
    )
    out, tumor, lesions = implant_lesions(ct, liver, SPACING, req, np.random.default_rng(4))
    assert len(lesions) >= 2 and all(x.parent == 0 for x in lesions[1:])
    assert all(x.diameter_mm < lesions[0].diameter_mm for x in lesions[1:])
    moved = (out != ct) & liver & ~ndimage.binary_dilation(tumor, iterations=2)
    assert moved.sum() > 100  # the surroundings were pushed
    assert (out[~liver] == ct[~liver]).all()


@pytest.mark.parametrize("sizes", [(2.0, 10.0), (10.0, 130.0), (20.0, 10.0)])
def test_size_cap(sizes: tuple[float, float]) -> None:
    with pytest.raises(SynthesisConfigError, match="size_mm"):
        LesionRequest(size_mm=sizes)


def test_label_map_on_ct_grid() -> None:
    from smoothseg.io import Volume
    from smoothseg.synthesis import synthesize_volume

    ct, liver, _ = _scan()
    affine = np.diag([-1.5, -1.5, 2.5, 1.0])
    new_ct, labels, _ = synthesize_volume(
        Volume(ct, affine),
        Volume(liver.astype(np.uint8), affine, kind="label"),
        LesionRequest(count=1, size_mm=(8.0, 8.0)),
        np.random.default_rng(1),
    )
    assert labels.grid.matches(new_ct.grid) and labels.shape == ct.shape
    assert set(np.unique(labels.array)) == {0, 1, 2}
