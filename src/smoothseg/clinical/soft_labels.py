"""Soft labels by cross-fitting: no patient's soft label was fitted on its own mask.

Training patients are split into ``folds`` patient-level folds (seeded; see
:func:`~smoothseg.clinical.selection.kfold_assignment`). For each fold, the whole pipeline
(feature selection with its own inner CV, encoder, imputation, standardization, regression)
is fitted on the other folds and predicts the held-out fold. Test patients are predicted by
the pipeline fitted on all training patients, which is also the model that is reported and
saved. Every soft label is clipped to [0, 1] (a TLVR is a fraction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from smoothseg.clinical.encode import F64
from smoothseg.clinical.model import ClinicalModel, LinearConfig, Scores, fit_model, score
from smoothseg.clinical.selection import Selection, kfold_assignment, select_features
from smoothseg.clinical.table import ClinicalTable

TEST_FOLD = "test"
IN_SAMPLE_FOLD = "in-sample"


@dataclass(frozen=True)
class LabelledCase:
    """A case with a clinical row.

    Attributes:
        case_id: Case id.
        patient_id: ``TCIA_ID`` of its clinical row (cases of one patient share a fold).
        tlvr: TLVR from its mask (``None``: unknown, allowed for test cases only).

    """

    case_id: str
    patient_id: str
    tlvr: float | None


@dataclass(frozen=True)
class SoftLabel:
    """One row of ``soft_labels.csv``.

    Attributes:
        case_id: Case id.
        tlvr: TLVR from the mask (``None`` when unknown).
        tlvr_hat: Predicted TLVR clipped to [0, 1]: the soft label.
        fold: Cross-fitting fold (``"1"``, ``"2"``, ...) or ``"test"``.
        raw: Prediction before clipping.

    """

    case_id: str
    tlvr: float | None
    tlvr_hat: float
    fold: str
    raw: float


@dataclass(frozen=True)
class FitSettings:
    """How to fit (the resolved subset of the clinical config the fitting needs).

    Attributes:
        linear: Linear model.
        select: Choose the top-n columns by CV (Appendix A); else use every candidate.
        max_features: Largest n tried.
        folds: Cross-fitting folds.
        selection_folds: Folds of the selection's CV.
        seed: Seed of both fold assignments.
        in_sample: The paper's soft labels: every training case gets the prediction of the
            model fitted on all training cases, its own row included (``--mode paper``).
        raw_afp: AFP in ng/mL, not ``log10(1 + x)`` (``--mode paper``).

    """

    linear: LinearConfig = field(default_factory=LinearConfig)
    select: bool = True
    max_features: int | None = None
    folds: int = 5
    selection_folds: int = 5
    seed: int = 0
    in_sample: bool = False
    raw_afp: bool = False


@dataclass(frozen=True)
class PipelineFit:
    """The pipeline fitted on some rows: its selection (if any) and model."""

    selection: Selection | None
    model: ClinicalModel


@dataclass(frozen=True)
class CrossFit:
    """Cross-fitted soft labels and the final model.

    Attributes:
        labels: One soft label per case (training first, then test), in input order.
        final: The pipeline fitted on all training patients (with inference for OLS).
        fold_fits: The pipeline of each cross-fitting fold, in fold order.
        oof: Scores of the training patients' (clipped) out-of-fold soft labels.
        in_sample: Scores of the final model on its own training patients (clipped).
        test: Scores on test patients with a known TLVR (``None`` when there are none).

    """

    labels: tuple[SoftLabel, ...]
    final: PipelineFit
    fold_fits: tuple[PipelineFit, ...]
    oof: Scores
    in_sample: Scores
    test: Scores | None


def fit_pipeline(
    table: ClinicalTable,
    rows: np.ndarray,
    y: F64,
    groups: Sequence[str],
    columns: Sequence[str],
    settings: FitSettings,
    *,
    inference: bool = False,
) -> PipelineFit:
    """Select columns (if asked) and fit the model, on ``rows`` only."""
    selection = None
    if settings.select and len(set(groups)) >= 2:
        selection = select_features(
            table,
            rows,
            y,
            columns,
            settings.linear,
            groups=groups,
            folds=settings.selection_folds,
            seed=settings.seed + 1,
            max_n=settings.max_features,
        )
    chosen = selection.chosen if selection is not None else None
    model = fit_model(
        table,
        rows,
        y,
        columns,
        settings.linear,
        features=chosen,
        inference=inference,
        raw_afp=settings.raw_afp,
    )
    return PipelineFit(selection, model)


def cross_fit(
    table: ClinicalTable,
    train: Sequence[LabelledCase],
    test: Sequence[LabelledCase],
    columns: Sequence[str],
    settings: FitSettings,
) -> CrossFit:
    """Out-of-fold soft labels for ``train``, train-only predictions for ``test``.

    Raises:
        ValueError: fewer than 2 training patients, or a training case without TLVR.

    """
    if any(c.tlvr is None for c in train):
        raise ValueError("every training case needs a TLVR")
    groups = [c.patient_id for c in train]
    if len(set(groups)) < 2:
        raise ValueError(f"need at least 2 training patients, got {len(set(groups))}")
    rows = table.rows(groups)
    y = np.array([c.tlvr for c in train], dtype=np.float64)
    fold = kfold_assignment(groups, settings.folds, settings.seed)
    raw = np.empty(len(train))
    fold_fits = []
    for f in np.unique(fold):
        held = fold == f
        fit = fit_pipeline(
            table,
            rows[~held],
            y[~held],
            [g for g, h in zip(groups, held, strict=True) if not h],
            columns,
            settings,
        )
        raw[held] = fit.model.predict(table, rows[held])
        fold_fits.append(fit)
    final = fit_pipeline(table, rows, y, groups, columns, settings, inference=True)
    test_rows = table.rows(c.patient_id for c in test)
    test_raw = final.model.predict(table, test_rows) if len(test) else np.zeros(0)
    in_raw = final.model.predict(table, rows)
    if settings.in_sample:  # the paper: in-sample predictions of the full-data fit
        labels = [
            SoftLabel(c.case_id, c.tlvr, float(np.clip(r, 0, 1)), IN_SAMPLE_FOLD, float(r))
            for c, r in zip(train, in_raw, strict=True)
        ]
    else:
        labels = [
            SoftLabel(c.case_id, c.tlvr, float(np.clip(r, 0, 1)), str(f + 1), float(r))
            for c, r, f in zip(train, raw, fold, strict=True)
        ]
    labels += [
        SoftLabel(c.case_id, c.tlvr, float(np.clip(r, 0, 1)), TEST_FOLD, float(r))
        for c, r in zip(test, test_raw, strict=True)
    ]
    in_sample = np.clip(in_raw, 0, 1)
    known = [
        (c.tlvr, lab.tlvr_hat)
        for c, lab in zip(test, labels[len(train) :], strict=True)
        if c.tlvr is not None
    ]
    return CrossFit(
        labels=tuple(labels),
        final=final,
        fold_fits=tuple(fold_fits),
        oof=score(y, np.clip(raw, 0, 1)),
        in_sample=score(y, in_sample),
        test=score([t for t, _ in known], [h for _, h in known]) if known else None,
    )
