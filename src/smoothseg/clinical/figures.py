"""The report's two figures (the paper's Figure 3), drawn with matplotlib's Agg backend.

* :func:`scatter_figure` (Figure 3A): TLVR R from the masks against the soft label R̂, with the
  identity line; training patients' out-of-fold labels as dots, test patients as crosses; the
  out-of-fold Pearson r, MSE and MAE in the title.
* :func:`coefficient_figure` (Figure 3B): each feature's standardized coefficient (TLVR per
  standard deviation) with its 95% confidence interval, largest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smoothseg.clinical.model import Coefficient, Scores
from smoothseg.clinical.soft_labels import TEST_FOLD, SoftLabel


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def scatter_figure(labels: Sequence[SoftLabel], oof: Scores, path: Path) -> None:
    """Save R vs R̂ with the identity line to ``path`` (PNG)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 5.0), dpi=120)
    train = [(lab.tlvr, lab.tlvr_hat) for lab in labels if lab.fold != TEST_FOLD]
    test = [(lab.tlvr, lab.tlvr_hat) for lab in labels if lab.fold == TEST_FOLD]
    test = [(r, h) for r, h in test if r is not None]
    values = [v for pair in train + test for v in pair if v is not None]
    top = max(0.05, float(max(values, default=1.0)) * 1.05)
    ax.plot([0, top], [0, top], color="0.5", lw=1, ls="--", label="identity")
    if train:
        r, h = np.array(train, dtype=float).T
        ax.scatter(r, h, s=16, alpha=0.8, label=f"training, out-of-fold (n={len(train)})")
    if test:
        r, h = np.array(test, dtype=float).T
        ax.scatter(r, h, s=28, marker="x", color="C3", label=f"test (n={len(test)})")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("TLVR from the mask, R")
    ax.set_ylabel("clinical soft label, R̂")
    ax.set_title(
        f"out-of-fold: Pearson r = {oof.r:.3f}   MSE = {oof.mse:.4f}   MAE = {oof.mae:.3f}",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def coefficient_figure(coefficients: Sequence[Coefficient], path: Path) -> None:
    """Save the coefficient plot (estimates with 95% CIs) to ``path`` (PNG)."""
    plt = _pyplot()
    coefs = sorted(coefficients, key=lambda c: abs(c.estimate))
    height = 1.2 + 0.32 * max(1, len(coefs))
    fig, ax = plt.subplots(figsize=(6.5, height), dpi=120)
    y = np.arange(len(coefs))
    est = np.array([c.estimate for c in coefs])
    lo = np.array([c.ci_low for c in coefs])
    hi = np.array([c.ci_high for c in coefs])
    has_ci = np.isfinite(lo) & np.isfinite(hi)
    significant = np.array([c.p_value < 0.05 for c in coefs], dtype=bool)
    colors = ["C3" if s else "C0" for s in significant]
    err = np.vstack([np.where(has_ci, est - lo, 0.0), np.where(has_ci, hi - est, 0.0)])
    ax.errorbar(est, y, xerr=err, fmt="none", ecolor="0.4", capsize=3, lw=1)
    ax.scatter(est, y, c=colors, zorder=3, s=22)
    ax.axvline(0.0, color="0.5", lw=1, ls="--")
    ax.set_yticks(y, [c.feature for c in coefs], fontsize=8)
    ax.set_xlabel("TLVR change per standard deviation (95% CI; red: p < 0.05)")
    ax.set_title("Clinical features of the TLVR model", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
