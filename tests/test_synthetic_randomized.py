"""Domain-randomized phantoms and the on-the-fly synthetic dataset."""

from __future__ import annotations

import numpy as np
import pytest

from smoothseg.phantom.phases import PHASES, phase_hu
from smoothseg.phantom.scanner import Scanner, apply_scanner
from smoothseg.phantom.tissues import Tissue
from smoothseg.training.synthetic import SyntheticCases, case_seed


def test_phases_cover_liver_40_to_150_hu() -> None:
    rng = np.random.default_rng(0)
    livers = [phase_hu(p, rng)[Tissue.LIVER] for p in PHASES for _ in range(30)]
    assert min(livers) < 50 and max(livers) > 140
    with pytest.raises(ValueError, match="unknown phase"):
        phase_hu("venous-ish", rng)


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
