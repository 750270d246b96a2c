"""The paper's model comparison: the linear model against non-linear ones, by cross-validation.

Every model sees the same candidate columns and the same patient-level folds as the
cross-fitted soft labels; encoding, imputation and standardization are fitted in each fold on
its training rows only. Predictions are clipped to [0, 1] like soft labels, then pooled over
the folds and scored (Pearson r, MSE, MAE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from smoothseg.clinical.encode import F64, fit_encoder
from smoothseg.clinical.model import Scores, fit_model, fit_preprocessor, score
from smoothseg.clinical.selection import kfold_assignment
from smoothseg.clinical.soft_labels import FitSettings, LabelledCase
from smoothseg.clinical.table import ClinicalTable


@dataclass(frozen=True)
class ModelScore:
    """Cross-validated scores of one model."""

    name: str
    scores: Scores


def _nonlinear(name: str, trees: int, seed: int) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

    if name == "random forest":
        return RandomForestRegressor(
            n_estimators=trees, min_samples_leaf=2, random_state=seed, n_jobs=1
        )
    return GradientBoostingRegressor(
        n_estimators=trees, max_depth=2, learning_rate=0.05, subsample=0.8, random_state=seed
    )


def compare_models(
    table: ClinicalTable,
    train: Sequence[LabelledCase],
    columns: Sequence[str],
    settings: FitSettings,
    *,
    trees: int = 300,
) -> list[ModelScore]:
    """Cross-validated scores of the linear model and two non-linear ones.

    The linear model uses every candidate feature; the random forest and gradient boosting
    have ``trees`` trees each.
    """
    groups = [c.patient_id for c in train]
    rows = table.rows(groups)
    y = np.array([c.tlvr for c in train], dtype=np.float64)
    fold = kfold_assignment(groups, settings.folds, settings.seed)
    names = (
        f"linear ({settings.linear.kind}, all candidates)",
        "random forest",
        "gradient boosting",
    )
    preds = {n: np.empty(len(train)) for n in names}
    for f in np.unique(fold):
        held, fit = fold == f, fold != f
        linear = fit_model(table, rows[fit], y[fit], columns, settings.linear)
        preds[names[0]][held] = linear.predict(table, rows[held])
        encoder = fit_encoder(table, columns, rows[fit])
        x_fit, x_held = encoder.transform(table, rows[fit]), encoder.transform(table, rows[held])
        prep = fit_preprocessor(x_fit, encoder.feature_kinds)
        z_fit, z_held = prep.transform(x_fit), prep.transform(x_held)
        for name in names[1:]:
            if z_fit.shape[1] == 0:
                preds[name][held] = float(np.mean(y[fit]))
                continue
            model = _nonlinear(name, trees, settings.seed)
            model.fit(z_fit, y[fit])
            p: F64 = np.asarray(model.predict(z_held), dtype=np.float64)
            preds[name][held] = p
    return [ModelScore(n, score(y, np.clip(preds[n], 0, 1))) for n in names]
