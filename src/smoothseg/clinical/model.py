"""The interpretable TLVR regression: in-fold imputation + standardization, then a linear model.

A :class:`ClinicalModel` is one fitted pipeline: :class:`~smoothseg.clinical.encode.Encoder`
→ :class:`Preprocessor` (median imputation for numeric features, most-frequent for coded ones,
then standardization to mean 0 / sd 1; all fitted on the training rows only; features constant
in the training rows are dropped) → :class:`LinearFit` on the standardized features, so a
coefficient is the change in TLVR per standard deviation of its feature.

Linear models (:class:`LinearConfig`): ``ols`` (statsmodels: coefficients with 95% CI and
p-values), ``ridge`` and ``elasticnet`` (scikit-learn conventions for ``alpha`` and
``l1_ratio``; no CI or p-values).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from smoothseg.clinical.encode import F64, Encoder, fit_encoder
from smoothseg.clinical.table import ClinicalTable

LinearKind = Literal["ols", "ridge", "elasticnet"]
LINEAR_KINDS: tuple[LinearKind, ...] = ("ols", "ridge", "elasticnet")


@dataclass(frozen=True)
class LinearConfig:
    """Which linear model.

    Attributes:
        kind: ``ols`` (the paper's), ``ridge`` or ``elasticnet``.
        alpha: Penalty strength (ridge: ``||y - Xb||² + alpha ||b||²``; elastic net: as
            scikit-learn's ``ElasticNet``).
        l1_ratio: Elastic-net mix (1 = lasso).

    """

    kind: LinearKind = "ols"
    alpha: float = 1.0
    l1_ratio: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in LINEAR_KINDS:
            raise ValueError(f"unknown linear model {self.kind!r}; choose from {LINEAR_KINDS}")
        if self.alpha < 0 or not 0 <= self.l1_ratio <= 1:
            raise ValueError("alpha must be >= 0 and l1_ratio in [0, 1]")


@dataclass(frozen=True)
class Scores:
    """Agreement of predictions with the TLVR: Pearson r, MSE, MAE over ``n`` cases."""

    r: float
    mse: float
    mae: float
    n: int


def score(y: Sequence[float] | F64, y_hat: Sequence[float] | F64) -> Scores:
    """Pearson r (NaN when either side is constant), MSE and MAE."""
    a, b = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    r = float("nan")
    if len(a) > 1 and np.std(a) > 0 and np.std(b) > 0:
        r = float(np.corrcoef(a, b)[0, 1])
    err = a - b
    mse = float(np.mean(err**2)) if len(a) else float("nan")
    mae = float(np.mean(np.abs(err))) if len(a) else float("nan")
    return Scores(r, mse, mae, len(a))


@dataclass(frozen=True)
class Preprocessor:
    """Imputation and standardization fitted on training rows.

    Attributes:
        fill: Value imputed for a missing cell, per feature.
        mean: Mean after imputation, per feature.
        scale: Standard deviation after imputation, per feature (1 where it is 0).
        keep: Features used: those that vary in the training rows (and were selected).

    """

    fill: F64
    mean: F64
    scale: F64
    keep: npt.NDArray[np.bool_]

    def transform(self, x: F64) -> F64:
        """Impute, standardize, and keep the varying features."""
        filled = np.where(np.isnan(x), self.fill, x)
        z: F64 = ((filled - self.mean) / self.scale)[:, self.keep]
        return z

    def to_json(self) -> dict[str, list[Any]]:
        """JSON-ready dict."""
        return {k: np.asarray(v).tolist() for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, list[Any]]) -> Preprocessor:
        """Inverse of :meth:`to_json`."""
        return cls(
            np.asarray(data["fill"], dtype=np.float64),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["keep"], dtype=np.bool_),
        )


def _mode(values: F64) -> float:
    uniq, counts = np.unique(values, return_counts=True)
    return float(uniq[int(np.argmax(counts))])  # ties: the smaller value


def fit_preprocessor(x: F64, kinds: Sequence[str]) -> Preprocessor:
    """Fit imputation (numeric: median; coded: most frequent) and standardization on ``x``."""
    p = x.shape[1]
    fill = np.zeros(p)
    for j in range(p):
        present = x[~np.isnan(x[:, j]), j]
        if present.size:
            fill[j] = float(np.median(present)) if kinds[j] == "numeric" else _mode(present)
    filled = np.where(np.isnan(x), fill, x)
    mean = filled.mean(axis=0) if len(x) else np.zeros(p)
    sd = filled.std(axis=0) if len(x) else np.zeros(p)
    keep = sd > 1e-12
    return Preprocessor(fill, mean, np.where(keep, sd, 1.0), keep)


@dataclass(frozen=True)
class LinearFit:
    """A linear model on standardized features.

    Attributes:
        intercept: Prediction at the training means.
        coef: One coefficient per kept feature (TLVR per standard deviation).
        ci_low: Lower 95% bound per coefficient (OLS only).
        ci_high: Upper 95% bound per coefficient (OLS only).
        p_value: Two-sided p-value per coefficient (OLS only).
        r_squared: In-sample R² (OLS only).
        rank_deficient: The design (with intercept) is not of full column rank, so collinear
            coefficients are not identifiable (OLS with inference only).

    """

    intercept: float
    coef: F64
    ci_low: F64 | None = None
    ci_high: F64 | None = None
    p_value: F64 | None = None
    r_squared: float | None = None
    rank_deficient: bool = False

    def predict(self, z: F64) -> F64:
        """Predicted TLVR (not clipped) of standardized features ``z``."""
        out: F64 = self.intercept + z @ self.coef
        return out


def fit_linear(z: F64, y: F64, config: LinearConfig, *, inference: bool = False) -> LinearFit:
    """Fit the configured linear model on standardized features.

    Args:
        z: ``[n, p]`` standardized features (mean 0 in these rows).
        y: TLVR of the rows.
        config: Model kind and penalties.
        inference: For OLS, compute 95% CIs and p-values with statsmodels (else a fast
            least-squares solve giving the same coefficients).

    """
    n, p = z.shape
    if p == 0:
        return LinearFit(float(np.mean(y)), np.zeros(0))
    if config.kind == "elasticnet":
        from sklearn.linear_model import ElasticNet

        model = ElasticNet(alpha=config.alpha, l1_ratio=config.l1_ratio, max_iter=10_000)
        model.fit(z, y)
        return LinearFit(float(model.intercept_), np.asarray(model.coef_, dtype=np.float64))
    if config.kind == "ridge":
        yc = y - y.mean()
        coef = np.asarray(
            np.linalg.solve(z.T @ z + config.alpha * np.eye(p), z.T @ yc), dtype=np.float64
        )
        return LinearFit(float(y.mean() - z.mean(axis=0) @ coef), coef)
    if not inference:
        design = np.column_stack([np.ones(n), z])
        beta = np.asarray(np.linalg.lstsq(design, y, rcond=None)[0], dtype=np.float64)
        return LinearFit(float(beta[0]), beta[1:])
    import warnings

    from statsmodels.regression.linear_model import OLS

    design = np.column_stack([np.ones(n), z])
    deficient = bool(np.linalg.matrix_rank(design) < p + 1)
    with warnings.catch_warnings():  # rank deficiency is reported, not warned about
        warnings.simplefilter("ignore")
        result = OLS(y, design, hasconst=True).fit()
    params = np.asarray(result.params, dtype=np.float64)
    if result.df_resid > 0:
        ci = np.asarray(result.conf_int(alpha=0.05), dtype=np.float64)
        pv = np.asarray(result.pvalues, dtype=np.float64)
    else:  # saturated model: no residual degrees of freedom
        ci, pv = np.full((p + 1, 2), np.nan), np.full(p + 1, np.nan)
    return LinearFit(
        float(params[0]),
        params[1:],
        ci[1:, 0],
        ci[1:, 1],
        pv[1:],
        float(result.rsquared),
        deficient,
    )


@dataclass(frozen=True)
class Coefficient:
    """One coefficient of a fitted model, for reports.

    Attributes:
        feature: Feature name (``column`` or ``column=level``).
        column: Source column.
        estimate: TLVR change per standard deviation of the feature.
        ci_low: Lower 95% bound (NaN without inference).
        ci_high: Upper 95% bound.
        p_value: Two-sided p-value (NaN without inference).
        per_unit: TLVR change per unit of the encoded feature.

    """

    feature: str
    column: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    per_unit: float


@dataclass(frozen=True)
class ClinicalModel:
    """A fitted pipeline: encoder, preprocessor, linear model.

    Attributes:
        columns: Columns used, in order.
        encoder: Encoding fitted on the training rows.
        preprocessor: Imputation/standardization fitted on the training rows.
        linear: The linear model on the kept standardized features.
        config: Linear model settings.
        n_train: Training rows.

    """

    columns: tuple[str, ...]
    encoder: Encoder
    preprocessor: Preprocessor
    linear: LinearFit
    config: LinearConfig
    n_train: int

    @property
    def features(self) -> tuple[str, ...]:
        """Names of the kept features (one per coefficient)."""
        names = self.encoder.feature_names
        return tuple(n for n, k in zip(names, self.preprocessor.keep, strict=True) if k)

    def design(self, table: ClinicalTable, rows: npt.NDArray[np.intp]) -> F64:
        """Standardized features of table rows."""
        return self.preprocessor.transform(self.encoder.transform(table, rows))

    def predict(self, table: ClinicalTable, rows: npt.NDArray[np.intp]) -> F64:
        """Predicted TLVR of table rows (not clipped)."""
        return self.linear.predict(self.design(table, rows))

    def coefficients(self) -> list[Coefficient]:
        """One :class:`Coefficient` per kept feature."""
        keep = self.preprocessor.keep
        cols = [c for c, k in zip(self.encoder.feature_columns, keep, strict=True) if k]
        scale = self.preprocessor.scale[keep]
        lin = self.linear
        nan = np.full(len(cols), np.nan)
        lo = lin.ci_low if lin.ci_low is not None else nan
        hi = lin.ci_high if lin.ci_high is not None else nan
        pv = lin.p_value if lin.p_value is not None else nan
        return [
            Coefficient(f, c, float(b), float(a), float(h), float(q), float(b / s))
            for f, c, b, a, h, q, s in zip(
                self.features, cols, lin.coef, lo, hi, pv, scale, strict=True
            )
        ]

    def contributions(self) -> dict[str, float]:
        """Contribution of each kept feature: its absolute standardized coefficient."""
        return {f: abs(float(b)) for f, b in zip(self.features, self.linear.coef, strict=True)}

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: features, encoding, scaler, coefficients."""
        lin = self.linear

        def opt(a: F64 | None) -> list[float] | None:
            return None if a is None else [float(v) for v in a]

        return {
            "columns": list(self.columns),
            "features": list(self.features),
            "encoding": self.encoder.to_json(),
            "scaler": {"features": list(self.encoder.feature_names), **self.preprocessor.to_json()},
            "model": asdict(self.config),
            "intercept": lin.intercept,
            "coefficients": [asdict(c) for c in self.coefficients()],
            "coef": opt(lin.coef),
            "ci_low": opt(lin.ci_low),
            "ci_high": opt(lin.ci_high),
            "p_value": opt(lin.p_value),
            "r_squared": lin.r_squared,
            "rank_deficient": lin.rank_deficient,
            "n_train": self.n_train,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClinicalModel:
        """Inverse of :meth:`to_json` (enough to predict)."""

        def arr(key: str) -> F64 | None:
            v = data.get(key)
            return None if v is None else np.asarray(v, dtype=np.float64)

        coef = arr("coef")
        linear = LinearFit(
            float(data["intercept"]),
            coef if coef is not None else np.zeros(0),
            arr("ci_low"),
            arr("ci_high"),
            arr("p_value"),
            data.get("r_squared"),
            bool(data.get("rank_deficient", False)),
        )
        return cls(
            tuple(data["columns"]),
            Encoder.from_json(data["encoding"]),
            Preprocessor.from_json(data["scaler"]),
            linear,
            LinearConfig(**data["model"]),
            int(data["n_train"]),
        )


def fit_model(
    table: ClinicalTable,
    rows: npt.NDArray[np.intp],
    y: F64,
    columns: Sequence[str],
    config: LinearConfig,
    *,
    features: Collection[str] | None = None,
    inference: bool = False,
    raw_afp: bool = False,
) -> ClinicalModel:
    """Fit encoder, preprocessor and linear model on table ``rows`` with targets ``y``.

    Args:
        table: Clinical table.
        rows: Training rows.
        y: Their TLVR.
        columns: Columns to encode.
        config: Linear model.
        features: Use only these features (e.g. a selection's); columns without one are
            dropped. Default: every feature of ``columns``.
        inference: Compute CIs and p-values (OLS).
        raw_afp: AFP in ng/mL, not on a log scale (``--mode paper``).

    """
    if features is not None:
        wanted = set(features)
        encoder = fit_encoder(table, columns, rows, raw_afp=raw_afp)
        used = {
            c
            for f, c in zip(encoder.feature_names, encoder.feature_columns, strict=True)
            if f in wanted
        }
        columns = [c for c in columns if c in used]
    encoder = fit_encoder(table, columns, rows, raw_afp=raw_afp)
    x = encoder.transform(table, rows)
    prep = fit_preprocessor(x, encoder.feature_kinds)
    if features is not None:
        chosen = np.array([f in wanted for f in encoder.feature_names], dtype=np.bool_)
        prep = replace(prep, keep=prep.keep & chosen)
    linear = fit_linear(prep.transform(x), y, config, inference=inference)
    return ClinicalModel(tuple(columns), encoder, prep, linear, config, len(rows))
