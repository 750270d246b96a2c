"""Pooled confusion rates (as the paper's code) and paired Wilcoxon signed-rank p-values.

The paper's reference code computes sensitivity, specificity and accuracy with MONAI's
``ConfusionMatrixMetric`` reduced ``mean_batch``: confusion counts are **summed over test
cases** first, then turned into rates. :func:`pooled_rates` does that; the per-case means of
:mod:`~smoothseg.evaluation.overlap` are the other reading. :func:`wilcoxon_p` tests whether a
model differs from another on the same test cases ("significantly" in the paper).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from smoothseg.evaluation.overlap import ConfusionCounts, accuracy, sensitivity, specificity


def pooled_rates(counts: Sequence[ConfusionCounts]) -> dict[str, float]:
    """Sensitivity, specificity and accuracy of the summed counts (NaN: no case or no voxel)."""
    if not counts:
        return {"sensitivity": math.nan, "specificity": math.nan, "accuracy": math.nan}
    total = counts[0]
    for c in counts[1:]:
        total = total + c
    return {
        "sensitivity": sensitivity(total),
        "specificity": specificity(total),
        "accuracy": accuracy(total),
    }


def wilcoxon_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided paired Wilcoxon signed-rank p-value of ``a`` vs ``b`` (same cases, same order).

    Pairs with a NaN are dropped, and so are zero differences (Wilcoxon's rule). NaN when no
    non-zero difference is left.

    Raises:
        ValueError: ``a`` and ``b`` differ in length.

    """
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} vs {len(b)}")
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    d = (x - y)[np.isfinite(x) & np.isfinite(y)]
    d = d[d != 0]
    if d.size == 0:
        return math.nan
    from scipy.stats import wilcoxon

    return float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)
