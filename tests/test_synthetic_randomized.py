"""Domain-randomized phantoms and the on-the-fly synthetic dataset."""

from __future__ import annotations

import numpy as np
import pytest

from smoothseg.phantom.phases import (
    MIN_TUMOR_CONTRAST_HU,
    PHASES,
    TUMOR_OFFSET_HU,
    phase_hu,
    tumor_offset_hu,
)
from smoothseg.phantom.randomize import randomized_case
from smoothseg.phantom.scanner import Scanner, apply_scanner
from smoothseg.phantom.tissues import Tissue
from smoothseg.training.synthetic import SyntheticCases, case_seed


def test_phases_cover_liver_40_to_150_hu() -> None:
    rng = np.random.default_rng(0)
    livers = [phase_hu(p, rng)[Tissue.LIVER] for p in PHASES for _ in range(30)]
    assert min(livers) < 50 and max(livers) > 140
    with pytest.raises(ValueError, match="unknown phase"):
        phase_hu("venous-ish", rng)


def test_tumor_offsets_are_visible_and_inside_the_phase_range() -> None:
    rng = np.random.default_rng(0)
    for phase in PHASES:
        low, high = TUMOR_OFFSET_HU[phase]
        offsets = np.array([tumor_offset_hu(phase, rng) for _ in range(400)])
        assert offsets.min() >= low and offsets.max() <= high
        assert np.abs(offsets).min() >= MIN_TUMOR_CONTRAST_HU
        assert offsets.min() < low + 5.0  # the whole allowed range is used
    hyper = [tumor_offset_hu("arterial", rng) for _ in range(200)]
    assert any(o > 0 for o in hyper) and any(o < 0 for o in hyper)  # both kinds in arterial


def test_randomized_tumors_differ_from_the_liver_by_the_floor() -> None:
    contrasts = []
    for index in range(12):
        case = randomized_case(case_seed(5, 0, index))
        image, labels = np.asarray(case.image.array), np.asarray(case.labels.array)
        if (labels == 2).sum() >= 200 and (labels == 1).sum() >= 200:
            contrasts.append(float(np.median(image[labels == 2]) - np.median(image[labels == 1])))
    assert len(contrasts) >= 4
    # medians over noisy, blurred voxels: within a few HU of the drawn offset (>= 15 HU)
    assert min(abs(c) for c in contrasts) > MIN_TUMOR_CONTRAST_HU - 6.0, contrasts


def test_scanner_keeps_grid_and_adds_requested_noise() -> None:
    hu = np.full((24, 24, 8), 60.0, dtype=np.float32)
    flat = Scanner(0.5, 1.0, 0.0, 0.0, 20.0, 0.5, 0, 0.0)
    out = apply_scanner(hu, (1.0, 1.0, 2.0), flat, np.random.default_rng(1))
    assert out.shape == hu.shape
    assert abs(float(out.mean()) - 60.0) < 3.0
    assert 15.0 < float(out.std()) < 25.0


def test_cases_are_seeded_by_seed_epoch_index() -> None:
    cases = SyntheticCases(2, seed=3)
    a = cases.case(0, 1)
    again = cases.case(0, 1)
    other_epoch = cases.case(1, 1)
    assert np.array_equal(a.image.array, again.image.array)
    assert a.image.shape != other_epoch.image.shape or not np.array_equal(
        a.image.array, other_epoch.image.array
    )
    assert a.image.shape == a.labels.shape
    assert np.allclose(a.image.affine, a.labels.affine)
    assert set(np.unique(a.labels.array)) <= {0, 1, 2}
    assert (a.labels.array > 0).any()
    with pytest.raises(ValueError):
        case_seed(-1, 0, 0)
    with pytest.raises(IndexError):
        cases.case(0, 2)
