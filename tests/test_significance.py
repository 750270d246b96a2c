"""Pooled confusion rates and the paired Wilcoxon test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smoothseg.evaluation.overlap import ConfusionCounts
from smoothseg.evaluation.significance import pooled_rates, wilcoxon_p


def test_pooled_rates_sum_counts_before_dividing() -> None:
    small = ConfusionCounts(tp=1, fp=0, fn=1, tn=98)  # sensitivity 0.5
    big = ConfusionCounts(tp=90, fp=10, fn=10, tn=890)  # sensitivity 0.9
    pooled = pooled_rates([small, big])
    assert pooled["sensitivity"] == pytest.approx(91 / 102)  # not the per-case mean 0.7
    assert pooled["specificity"] == pytest.approx(988 / 998)
    assert pooled["accuracy"] == pytest.approx((91 + 988) / 1100)
    assert all(math.isnan(v) for v in pooled_rates([]).values())


def test_wilcoxon_exact_small_sample() -> None:
    # all 6 differences positive, no ties: exact two-sided p = 2 / 2**6
    a = [0.9, 0.8, 0.85, 0.7, 0.95, 0.6]
    b = [0.5, 0.75, 0.6, 0.4, 0.3, 0.55]
    assert wilcoxon_p(a, b) == pytest.approx(2 / 64)
    assert wilcoxon_p(a, a) != wilcoxon_p(a, a)  # NaN: no non-zero difference
    assert wilcoxon_p([1.0, np.nan, 0.2], [0.5, 0.1, 0.1]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="length"):
        wilcoxon_p([1.0], [1.0, 2.0])
