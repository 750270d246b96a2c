"""Feature selection for the TLVR regression (the paper's Appendix A).

Features (a binary, ordinal or numeric column is one feature; a categorical column gives one
feature per non-reference level, ``column=level``) are ranked by their contribution in the
linear model fitted on all candidates: the absolute standardized coefficient, i.e. the TLVR
change per standard deviation of the feature. Ranking single features keeps the measure
comparable: under no effect every coefficient is one standard error wide, whereas a
many-level column counted as a block would look important by chance. The number ``n`` of top
features is the one whose ``folds``-fold cross-validated predictions have the highest Pearson
r with the TLVR (pooled over the folds; ties go to the smaller ``n``).

The cross-validation is honest: in every fold the encoder, the imputation/standardization,
the ranking and each top-``n`` model are fitted on that fold's training rows only. The final
ranking is then computed on all the rows given, and its top ``n`` features are chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smoothseg.clinical.encode import F64, fit_encoder
from smoothseg.clinical.model import (
    LinearConfig,
    fit_linear,
    fit_model,
    fit_preprocessor,
    score,
)
from smoothseg.clinical.table import ClinicalTable


@dataclass(frozen=True)
class Selection:
    """Result of the top-``n`` selection.

    Attributes:
        ranking: ``(feature, contribution)`` on all rows, largest first.
        cv_r: Cross-validated Pearson r of the top-``n`` model, for n = 1, 2, ...
        n: Chosen number of features.
        chosen: The chosen features, in ranking order.

    """

    ranking: tuple[tuple[str, float], ...]
    cv_r: tuple[float, ...]
    n: int
    chosen: tuple[str, ...]


def kfold_assignment(groups: Sequence[str], folds: int, seed: int) -> npt.NDArray[np.intp]:
    """Fold index (0-based) of every row; rows of one group share a fold.

    Groups are sorted before a seeded shuffle, so the assignment depends only on
    (seed, the set of groups), not on row order.
    """
    unique = sorted(set(groups))
    k = min(folds, len(unique))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {unique[i]: f for f, chunk in enumerate(np.array_split(order, k)) for i in chunk}
    return np.array([fold_of[g] for g in groups], dtype=np.intp)


def _ranked(contributions: Sequence[float]) -> list[int]:
    """Indices by decreasing contribution (ties: the earlier feature)."""
    return sorted(range(len(contributions)), key=lambda i: (-contributions[i], i))


def rank_features(
    table: ClinicalTable,
    rows: npt.NDArray[np.intp],
    y: F64,
    columns: Sequence[str],
    config: LinearConfig,
) -> list[tuple[str, float]]:
    """Features by contribution in the model fitted on all of them, largest first.

    Features constant in ``rows`` are left out.
    """
    contrib = fit_model(table, rows, y, columns, config).contributions()
    names, values = list(contrib), list(contrib.values())
    return [(names[i], values[i]) for i in _ranked(values)]


def _fold_predictions(
    table: ClinicalTable,
    train: npt.NDArray[np.intp],
    held: npt.NDArray[np.intp],
    y_train: F64,
    columns: Sequence[str],
    config: LinearConfig,
    max_n: int,
) -> F64:
    """Held-out predictions ``[max_n, len(held)]`` of the top-n models of one fold.

    A fold with fewer usable features than ``n`` repeats its largest model.
    """
    encoder = fit_encoder(table, columns, train)
    x_train, x_held = encoder.transform(table, train), encoder.transform(table, held)
    prep = fit_preprocessor(x_train, encoder.feature_kinds)
    z_train, z_held = prep.transform(x_train), prep.transform(x_held)
    full = fit_linear(z_train, y_train, config)
    ranked = _ranked(np.abs(full.coef).tolist())
    out = np.empty((max_n, len(held)))
    for n in range(1, max_n + 1):
        top = ranked[:n]
        out[n - 1] = fit_linear(z_train[:, top], y_train, config).predict(z_held[:, top])
    return out


def select_features(
    table: ClinicalTable,
    rows: npt.NDArray[np.intp],
    y: F64,
    columns: Sequence[str],
    config: LinearConfig,
    *,
    groups: Sequence[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    max_n: int | None = None,
) -> Selection:
    """Choose the top-``n`` features by ``folds``-fold CV Pearson r (Appendix A).

    Args:
        table: Clinical table.
        rows: Training rows.
        y: TLVR of the rows.
        columns: Candidate columns (their features are the candidates).
        config: Linear model used to rank and predict.
        groups: Patient of each row (rows of a patient share a fold); default: row index.
        folds: CV folds.
        seed: Seed of the fold assignment.
        max_n: Largest ``n`` tried (default: every candidate feature).

    """
    cols = list(columns)
    ranking = rank_features(table, rows, y, cols, config)
    n_features = max(1, len(ranking))
    top = n_features if max_n is None else max(1, min(max_n, n_features))
    grp = [str(i) for i in range(len(rows))] if groups is None else list(groups)
    fold = kfold_assignment(grp, folds, seed)
    preds = np.empty((top, len(rows)))
    for f in np.unique(fold):
        held, train = fold == f, fold != f
        preds[:, held] = _fold_predictions(
            table, rows[train], rows[held], y[train], cols, config, top
        )
    cv_r = tuple(score(y, preds[n]).r for n in range(top))
    usable = [(r if np.isfinite(r) else -np.inf) for r in cv_r]
    n_best = int(np.argmax(usable)) + 1
    chosen = tuple(f for f, _ in ranking[:n_best])
    return Selection(tuple(ranking), cv_r, n_best, chosen)
