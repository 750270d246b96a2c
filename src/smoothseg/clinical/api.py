"""Fit the clinical TLVR model of a cohort and produce its soft labels (typed entry point).

:func:`fit_clinical` joins cases to clinical rows, resolves the candidate columns, cross-fits
the soft labels, and (optionally) runs the model comparison. :func:`smoothseg.clinical.report.
write_outputs` writes the files.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from smoothseg.clinical.cohort import Case
from smoothseg.clinical.compare import ModelScore, compare_models
from smoothseg.clinical.features import FeatureSet, resolve_features
from smoothseg.clinical.model import LinearConfig, LinearKind
from smoothseg.clinical.soft_labels import CrossFit, FitSettings, LabelledCase, cross_fit
from smoothseg.clinical.table import ClinicalTable, TableReport, join_ids
from smoothseg.errors import InputError

NO_CLINICAL_ROW = "no clinical row"
NO_TLVR = "no TLVR (no liver or tumor in the label)"
NOT_IN_PART = "not in the split part"
FIT_MODES = ("cross-fit", "paper")


@dataclass(frozen=True)
class ClinicalConfig:
    """Settings of a clinical fit (defaults: the paper's).

    Attributes:
        preset: Candidate columns (``paper``, ``pre-treatment``, ``strict``, ``all``, ``none``).
        include: Columns added to the preset.
        exclude: Columns removed from it.
        model: ``ols`` (paper), ``ridge`` or ``elasticnet``.
        alpha: Penalty of ridge / elastic net.
        l1_ratio: Elastic-net mix.
        select: Choose the top-n columns by 5-fold CV Pearson r (Appendix A).
        max_features: Largest n tried (default: all candidates).
        folds: Cross-fitting folds for the out-of-fold soft labels.
        selection_folds: Folds of the selection's CV (the paper: 5).
        seed: Seed of every fold assignment and of the tree models.
        compare: Run the linear vs non-linear comparison.
        trees: Trees of the random forest and gradient boosting.
        mode: ``cross-fit`` (default: out-of-fold soft labels, feature selection, log AFP) or
            ``paper`` (the paper's reference: OLS fitted in-sample on Table A1's 15 fixed
            features, raw AFP; overrides preset, model and select).

    """

    preset: str = "paper"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    model: LinearKind = "ols"
    alpha: float = 1.0
    l1_ratio: float = 0.5
    select: bool = True
    max_features: int | None = None
    folds: int = 5
    selection_folds: int = 5
    seed: int = 0
    compare: bool = True
    trees: int = 300
    mode: str = "cross-fit"

    def __post_init__(self) -> None:
        if self.folds < 2 or self.selection_folds < 2:
            raise InputError("--folds", "needs at least 2 folds")
        if self.max_features is not None and self.max_features < 1:
            raise InputError("--max-features", "must be at least 1")
        if self.mode not in FIT_MODES:
            raise InputError("--mode", f"unknown mode {self.mode!r}; choose from {FIT_MODES}")
        if self.mode == "paper":  # the reference fit, whatever else was asked
            object.__setattr__(self, "preset", "paper")
            object.__setattr__(self, "include", ())
            object.__setattr__(self, "exclude", ())
            object.__setattr__(self, "model", "ols")
            object.__setattr__(self, "select", False)
        if self.trees < 1:
            raise InputError("--trees", "must be at least 1")
        try:
            self.linear()
        except ValueError as exc:
            raise InputError("--model", str(exc)) from None

    def linear(self) -> LinearConfig:
        """The linear model settings."""
        return LinearConfig(self.model, self.alpha, self.l1_ratio)

    def settings(self) -> FitSettings:
        """The fitting settings."""
        return FitSettings(
            self.linear(),
            self.select,
            self.max_features,
            self.folds,
            self.selection_folds,
            self.seed,
            in_sample=self.mode == "paper",
            raw_afp=self.mode == "paper",
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        out = asdict(self)
        out["include"], out["exclude"] = list(self.include), list(self.exclude)
        return out


@dataclass(frozen=True)
class MissingCase:
    """A case that gets no soft label, and why."""

    case_id: str
    reason: str


@dataclass(frozen=True)
class ClinicalFit:
    """Everything a clinical fit produced.

    Attributes:
        config: The settings.
        table: What reading the table found.
        features: Candidate columns with leakage flags.
        cross: Soft labels, the final model, scores.
        comparison: Linear vs non-linear CV scores (empty when not asked).
        missing: Cases without a soft label.
        unused_rows: Clinical rows that matched no case.
        part: Split part the fit used (empty: all cases are training cases).

    """

    config: ClinicalConfig
    table: TableReport
    features: FeatureSet
    cross: CrossFit
    comparison: tuple[ModelScore, ...]
    missing: tuple[MissingCase, ...]
    unused_rows: tuple[str, ...]
    part: str = ""


def _check_cases(cases: Sequence[Case]) -> None:
    dupes = sorted(k for k, n in Counter(c.case_id for c in cases).items() if n > 1)
    if dupes:
        raise InputError("--manifest", f"duplicate case id(s): {', '.join(dupes[:10])}")
    for c in cases:
        if c.tlvr is not None and not (math.isfinite(c.tlvr) and 0.0 <= c.tlvr <= 1.0):
            raise InputError("--manifest", f"case {c.case_id}: TLVR {c.tlvr} is not in [0, 1]")


def _check_filled(table: ClinicalTable, columns: Sequence[str], patients: Sequence[str]) -> None:
    """Refuse a fit whose every candidate column is empty for the training rows.

    Such a fit would "succeed" with one constant soft label for every case.
    """
    if not columns:
        return  # preset "none": a constant soft label is what was asked for
    rows = table.rows(patients)
    for name in columns:
        values = table.values[name][rows]
        if table.types[name].kind == "numeric":
            if np.any(np.isfinite(values.astype(np.float64))):
                return
        elif any(v is not None for v in values):
            return
    shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
    raise InputError(
        table.path,
        f"every feature column ({shown}) is empty for the {len(set(patients))} training "
        "patient(s): nothing to fit soft labels from (wrong table, or a column-name mismatch?)",
    )


def fit_clinical(
    table: ClinicalTable,
    cases: Sequence[Case],
    config: ClinicalConfig | None = None,
    *,
    train_ids: Collection[str] | None = None,
    test_ids: Collection[str] = (),
    part: str = "",
) -> ClinicalFit:
    """Cross-fit soft labels for ``cases`` from ``table``.

    Args:
        table: The typed clinical table.
        cases: Cases with their TLVR.
        config: Settings (default: the paper's).
        train_ids: Training case ids (default: every case not in ``test_ids``); they get
            out-of-fold soft labels.
        test_ids: Test case ids; they get predictions of the model fitted on training cases.
        part: Name of the split part, for the report.

    Raises:
        InputError: duplicate cases, a TLVR outside [0, 1], a case both train and test, bad
            feature options, or fewer than two training patients with a clinical row.

    """
    cfg = config or ClinicalConfig()
    _check_cases(cases)
    test = set(test_ids)
    if train_ids is not None and set(train_ids) & test:
        both = sorted(set(train_ids) & test)
        raise InputError("--split", f"case(s) both train and test: {', '.join(both[:10])}")
    join = join_ids(table, [(c.case_id, c.patient_id) for c in cases])
    train_cases: list[LabelledCase] = []
    test_cases: list[LabelledCase] = []
    missing: list[MissingCase] = []
    for c in cases:
        row = join.rows.get(c.case_id)
        if row is None:
            missing.append(MissingCase(c.case_id, NO_CLINICAL_ROW))
        elif c.case_id in test:
            test_cases.append(LabelledCase(c.case_id, row, c.tlvr))
        elif train_ids is not None and c.case_id not in train_ids:
            missing.append(MissingCase(c.case_id, NOT_IN_PART))
        elif c.tlvr is None:
            missing.append(MissingCase(c.case_id, NO_TLVR))
        else:
            train_cases.append(LabelledCase(c.case_id, row, c.tlvr))
    features = resolve_features(cfg.preset, table.columns, include=cfg.include, exclude=cfg.exclude)
    patients = {c.patient_id for c in train_cases}
    if len(patients) < 2:
        raise InputError(
            "--manifest",
            f"only {len(patients)} training patient(s) have a clinical row and a TLVR; need 2+ "
            f"({len(join.missing)} of {len(cases)} cases have no clinical row)",
        )
    _check_filled(table, features.columns, [c.patient_id for c in train_cases])
    settings = cfg.settings()
    cross = cross_fit(table, train_cases, test_cases, features.columns, settings)
    comparison: list[ModelScore] = []
    if cfg.compare:
        comparison = compare_models(table, train_cases, features.columns, settings, trees=cfg.trees)
    return ClinicalFit(
        config=cfg,
        table=table.report,
        features=features,
        cross=cross,
        comparison=tuple(comparison),
        missing=tuple(sorted(missing, key=lambda m: m.case_id)),
        unused_rows=join.unused,
        part=part,
    )
