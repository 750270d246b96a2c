"""The clinical TLVR model: acceptance on a phantom cohort, cross-fitting, in-fold fitting.

Acceptance bounds are derived from the generators' noise levels (see each test), not tuned.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from clinical_synthetic import (
    GENERATING,
    NOISE_SD,
    expected_oof_r,
    synthetic_cohort,
)
from conftest import require
from smoothseg import phantom
from smoothseg.clinical.api import NO_CLINICAL_ROW, NO_TLVR, ClinicalConfig, fit_clinical
from smoothseg.clinical.cohort import Case
from smoothseg.clinical.encode import fit_encoder
from smoothseg.clinical.model import ClinicalModel
from smoothseg.clinical.report import load_model, write_outputs
from smoothseg.clinical.table import ClinicalTable, read_clinical_table
from smoothseg.errors import InputError, OutputExistsError

FAST = ClinicalConfig(compare=False)
# Generator constants of smoothseg.phantom.clinical (docs/phantom.md), b = sqrt(TLVR):
#   log10 AFP = 0.8 + 3.2 b + N(0, 1);
#   T_involvment = ">50%" iff TLVR * (1 + 0.25 (n - 1)) * exp(N(0, 0.3^2)) >= 0.3,
#   n = tumors of at least 10 mm (at least 1).
AFP_SLOPE, AFP_NOISE_SD = 3.2, 1.0
INVOLVED_CUT, INVOLVED_LOG_SD, PER_EXTRA_NODULE, VISIBLE_MM = 0.3, 0.3, 0.25, 10.0


def _table(frame: pd.DataFrame, folder: Path) -> ClinicalTable:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "clinical.csv", index=False)
    return read_clinical_table(folder / "clinical.csv")


def _dump(model: ClinicalModel) -> str:
    return json.dumps(model.to_json(), sort_keys=True)  # NaN-safe comparison


def _shrink(r: float, n_train: float, p: int) -> float:
    """Expected out-of-sample r of OLS with p features when the best population r is r."""
    k = p / (n_train - p - 1)
    return r**2 / math.sqrt(r**2 + (1 - r**2) * k)


def _lower_bound(expected: float, n: int) -> float:
    """Three standard errors of a sample Pearson r below its expectation."""
    return expected - 3 * (1 - expected**2) / math.sqrt(n - 1)


@pytest.fixture(scope="session")
def phantom_cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, ClinicalTable]:
    """105 phantom case specs (not rendered) and their clinical table.

    The latent TLVR is measured on an 8 mm reference grid instead of 4 mm (3x faster); the
    clinical generator is unchanged.
    """
    config = phantom.PhantomConfig.preset("small", reference_spacing_mm=8.0)
    specs = [phantom.cohort_spec(i, 0, config) for i in range(105)]
    table = _table(phantom.clinical_table(specs), tmp_path_factory.mktemp("phantom"))
    return specs, table


def test_phantom_cohort_acceptance(phantom_cohort: tuple[list, ClinicalTable]) -> None:
    """Generating features rank at the top; OOF r clears a bound from the noise levels.

    Bound: a linear model using T_involvment alone reaches, in the population, the
    correlation rho_T = cov(R, pi) / (sd(R) sd(T)) with pi = P(T = 1 | case) =
    Phi(ln(R (1 + 0.25 (n - 1)) / 0.3) / 0.3) (the generator's log-normal measurement noise);
    likewise for log AFP, rho_AFP = 3.2 cov(R, b) / (sd(R) sqrt(3.2^2 var(b) + 1^2)). The
    model of the best of them with estimation noise for all p = 15 candidates fitted on 4/5
    of the cases (random-design OLS: prediction variance x (1 + p / (m - p - 1))) has
    expected out-of-fold r = rho^2 / sqrt(rho^2 + (1 - rho^2) k); the bound is three
    standard errors below. Other signal columns (lymph nodes, metastasis, TNM...) only help.
    """
    from smoothseg.phantom import NOISE_COLUMNS, SIGNAL_COLUMNS

    specs, table = phantom_cohort
    r = np.array([s.tlvr for s in specs])
    b = np.sqrt(r)
    n_obs = np.array([max(1, sum(t.diameter_mm >= VISIBLE_MM for t in s.tumors)) for s in specs])
    extent = np.maximum(r, 1e-12) * (1 + PER_EXTRA_NODULE * (n_obs - 1))
    pi = np.where(r > 0, norm.cdf(np.log(extent / INVOLVED_CUT) / INVOLVED_LOG_SD), 0.0)
    rho_t = np.cov(r, pi, bias=True)[0, 1] / (r.std() * math.sqrt(pi.mean() * (1 - pi.mean())))
    rho_afp = (
        AFP_SLOPE
        * np.cov(r, b, bias=True)[0, 1]
        / (r.std() * math.sqrt(AFP_SLOPE**2 * b.var() + AFP_NOISE_SD**2))
    )
    n = len(specs)
    expected = _shrink(max(rho_t, rho_afp), n * 4 / 5, 15)
    bound = _lower_bound(expected, n)

    cases = [Case(s.case_id, s.tlvr) for s in specs]
    fit = fit_clinical(table, cases, ClinicalConfig(trees=40))
    oof, in_sample = fit.cross.oof, fit.cross.in_sample
    print(
        f"\nphantom: rho_T={rho_t:.3f} rho_AFP={rho_afp:.3f} bound={bound:.3f} "
        f"OOF r={oof.r:.3f} in-sample r={in_sample.r:.3f}"
    )
    assert oof.r > bound
    assert in_sample.r > oof.r  # the optimism of an in-sample fit, reported beside it
    selection = fit.cross.final.selection
    assert selection is not None
    ranked = [f for f, _ in selection.ranking]
    print("chosen:", selection.chosen)
    assert ranked[0] == "T_involvment"
    assert all(f in SIGNAL_COLUMNS for f in ranked[:3]), ranked[:3]
    assert {"T_involvment", "AFP"} <= set(selection.chosen)
    top_noise = min(ranked.index(c) for c in NOISE_COLUMNS if c in ranked)
    assert top_noise >= 2
    # Model comparison: linear vs two non-linear models, same folds.
    names = [m.name for m in fit.comparison]
    assert names == ["linear (ols, all candidates)", "random forest", "gradient boosting"]
    assert all(0.3 < m.scores.r <= 1 and m.scores.n == n for m in fit.comparison)


def test_synthetic_generator_acceptance(tmp_path: Path) -> None:
    """Forward model R = 0.25 + sum beta_j z_j + N(0, 0.045^2) in three columns.

    The expected OOF r with OLS estimation noise for all 15 candidates (see
    clinical_synthetic.expected_oof_r), less three standard errors, must be cleared; the
    three generating columns must be the top three features.
    """
    cohort = synthetic_cohort(105, seed=0)
    table = _table(cohort.table, tmp_path)
    cases = [Case(i, float(t)) for i, t in zip(cohort.ids, cohort.tlvr, strict=True)]
    fit = fit_clinical(table, cases, FAST)
    expected = expected_oof_r(float(np.var(cohort.signal)), NOISE_SD, 105, 5, 15)
    bound = _lower_bound(expected, 105)
    print(
        f"\nsynthetic: bound={bound:.3f} OOF r={fit.cross.oof.r:.3f} "
        f"in-sample r={fit.cross.in_sample.r:.3f}"
    )
    assert fit.cross.oof.r > bound
    assert fit.cross.in_sample.r > fit.cross.oof.r
    selection = fit.cross.final.selection
    assert selection is not None
    assert {f for f, _ in selection.ranking[:3]} == set(GENERATING)
    coefs = {c.feature: c for c in fit.cross.final.model.coefficients()}
    for name, beta in GENERATING.items():  # per-SD coefficients recover the generator's
        c = coefs[name]
        assert c.ci_low < c.estimate < c.ci_high and c.p_value < 1e-3
        assert abs(c.estimate - beta) < 4 * (c.ci_high - c.ci_low) / (2 * 1.96)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClinicalTable, list[Case]]:
    cohort = synthetic_cohort(50, seed=4)
    table = _table(cohort.table, tmp_path_factory.mktemp("small"))
    cases = [Case(i, float(t)) for i, t in zip(cohort.ids, cohort.tlvr, strict=True)]
    return table, cases


def test_out_of_fold_property(small: tuple[ClinicalTable, list[Case]]) -> None:
    """Changing one patient's TLVR does not change its own soft label (but others')."""
    table, cases = small
    config = replace(FAST, preset="pre-treatment", max_features=8)
    before = {lab.case_id: lab for lab in fit_clinical(table, cases, config).cross.labels}
    for victim in (0, 17):
        changed = list(cases)
        old = changed[victim]
        changed[victim] = replace(old, tlvr=0.95 if (old.tlvr or 0) < 0.5 else 0.0)
        after = {lab.case_id: lab for lab in fit_clinical(table, changed, config).cross.labels}
        assert after[old.case_id].raw == before[old.case_id].raw  # bit-identical
        assert after[old.case_id].fold == before[old.case_id].fold
        moved = [k for k in before if after[k].raw != before[k].raw]
        assert len(moved) > 10  # the other folds did see the change


def test_imputation_and_scaling_fitted_in_fold(
    small: tuple[ClinicalTable, list[Case]], tmp_path: Path
) -> None:
    """Feature values of held-out rows cannot change what is fitted without them."""
    table, cases = small
    test_ids = [c.case_id for c in cases[:10]]
    base = fit_clinical(table, cases, FAST, test_ids=test_ids)
    frame = pd.read_csv(table.path, dtype=str, keep_default_na=False)
    held = frame["TCIA_ID"].isin(test_ids)
    frame.loc[held, "AFP"] = "99999999"  # extreme values
    frame.loc[held, "age"] = ""  # missing: imputation must not see them
    frame.loc[held, "Smoking"] = "1"
    frame.loc[held, "T_involvment"] = ">50%"
    edited = _table(frame, tmp_path)
    new = fit_clinical(edited, cases, FAST, test_ids=test_ids)
    assert _dump(new.cross.final.model) == _dump(base.cross.final.model)
    old_labels = {lab.case_id: lab for lab in base.cross.labels}
    for lab in new.cross.labels:
        if lab.fold != "test":
            assert lab.raw == old_labels[lab.case_id].raw
    assert any(
        lab.raw != old_labels[lab.case_id].raw for lab in new.cross.labels if lab.fold == "test"
    )
    # Inside cross-fitting too: a held-out patient's values leave its fold's fit unchanged.
    victim = cases[20].case_id
    frame = pd.read_csv(table.path, dtype=str, keep_default_na=False)
    frame.loc[frame["TCIA_ID"] == victim, ["AFP", "age"]] = ["88888888", ""]
    edited = _table(frame, tmp_path / "2")
    a = fit_clinical(table, cases, FAST)
    b = fit_clinical(edited, cases, FAST)
    fold = int(next(lab.fold for lab in a.cross.labels if lab.case_id == victim)) - 1
    fa, fb = a.cross.fold_fits[fold].model, b.cross.fold_fits[fold].model
    assert _dump(fa) == _dump(fb)
    other = (fold + 1) % len(a.cross.fold_fits)
    ma, mb = a.cross.fold_fits[other].model, b.cross.fold_fits[other].model
    assert ma.preprocessor.to_json() != mb.preprocessor.to_json() or ma.columns != mb.columns


def test_penalized_models_and_no_selection(small: tuple[ClinicalTable, list[Case]]) -> None:
    table, cases = small
    ols = fit_clinical(table, cases, replace(FAST, select=False)).cross
    ridge = fit_clinical(table, cases, replace(FAST, select=False, model="ridge", alpha=20)).cross
    enet = fit_clinical(
        table, cases, replace(FAST, model="elasticnet", alpha=0.01, l1_ratio=0.5)
    ).cross
    assert ols.final.selection is None
    assert len(ols.final.model.columns) == 15
    norm_ols = np.linalg.norm(ols.final.model.linear.coef)
    norm_ridge = np.linalg.norm(ridge.final.model.linear.coef)
    assert norm_ridge < norm_ols
    assert all(math.isnan(c.p_value) for c in ridge.final.model.coefficients())
    assert all(0 <= lab.tlvr_hat <= 1 for lab in enet.labels)
    assert enet.oof.r > 0.5
    with pytest.raises(InputError, match="unknown linear model"):
        ClinicalConfig(model="lasso")  # type: ignore[arg-type]


def test_cases_without_clinical_row_or_tlvr(small: tuple[ClinicalTable, list[Case]]) -> None:
    table, cases = small
    extra = [*cases, Case("NOT_IN_TABLE", 0.3), replace(cases[0], tlvr=None)]
    extra.pop(0)  # case 0 now has no TLVR
    fit = fit_clinical(table, extra, FAST)
    assert {(m.case_id, m.reason) for m in fit.missing} == {
        ("NOT_IN_TABLE", NO_CLINICAL_ROW),
        (cases[0].case_id, NO_TLVR),
    }
    ids = {lab.case_id for lab in fit.cross.labels}
    assert "NOT_IN_TABLE" not in ids and cases[0].case_id not in ids
    with pytest.raises(InputError, match="duplicate case id"):
        fit_clinical(table, [*cases, cases[0]], FAST)
    with pytest.raises(InputError, match="not in \\[0, 1\\]"):
        fit_clinical(table, [*cases[1:], replace(cases[0], tlvr=1.5)], FAST)
    with pytest.raises(InputError, match="need 2"):
        fit_clinical(table, [Case("nobody", 0.1)], FAST)


@pytest.mark.realdata
def test_real_table_end_to_end(shared_data: Path, tmp_path: Path) -> None:
    """The real table against a TLVR generated for the test (real masks are not here).

    R = 0.10 + 0.12 [T_involvment > 50%] + 0.025 log10(1 + AFP) + N(0, 0.04^2), clipped.
    """
    table = read_clinical_table(
        require(shared_data / "hcc-tace-seg/HCC-TACE-Seg_clinical_data-V2.xlsx")
    )
    rows = np.arange(len(table.ids))
    x = fit_encoder(table, ["T_involvment", "AFP"], rows).transform(table, rows)
    signal = 0.12 * x[:, 0] + 0.025 * x[:, 1]
    rng = np.random.default_rng(5)
    target = np.clip(0.10 + signal + rng.normal(0, 0.04, len(rows)), 0, 1)
    cases = [Case(pid, float(t)) for pid, t in zip(table.ids, target, strict=True)]
    test_ids = list(table.ids[::5])
    fit = fit_clinical(table, cases, ClinicalConfig(trees=30), test_ids=test_ids, part="demo")
    n_train = 105 - len(test_ids)
    expected = expected_oof_r(float(np.var(signal)), 0.04, n_train, 5, 15)
    print(
        f"\nreal table: bound={_lower_bound(expected, n_train):.3f} "
        f"OOF r={fit.cross.oof.r:.3f} in-sample r={fit.cross.in_sample.r:.3f}"
    )
    assert fit.cross.oof.r > _lower_bound(expected, n_train)
    assert fit.cross.test is not None and fit.cross.test.n == len(test_ids)
    assert len(fit.cross.labels) == 105 and not fit.missing
    assert {"T_involvment", "AFP"} <= set(fit.cross.final.model.columns)
    assert all(0 <= lab.tlvr_hat <= 1 for lab in fit.cross.labels)
    folds = {lab.fold for lab in fit.cross.labels}
    assert folds == {"1", "2", "3", "4", "5", "test"}
    paths = write_outputs(fit, tmp_path / "out")
    csv = pd.read_csv(paths["soft_labels.csv"], dtype={"fold": str})
    assert list(csv.columns) == ["case_id", "tlvr", "tlvr_hat", "fold"]
    assert len(csv) == 105 and (csv["fold"] == "test").sum() == len(test_ids)
    report = paths["report.md"].read_text()
    assert "Pearson r" in report and "Leakage guard" in report and "TTP" in report
    model = load_model(paths["model.json"])
    final = fit.cross.final.model
    assert np.allclose(model.predict(table, rows), final.predict(table, rows))
    with pytest.raises(OutputExistsError):
        write_outputs(fit, tmp_path / "out")


def test_paper_mode_is_in_sample_ols_on_table_a1(small: tuple[ClinicalTable, list[Case]]) -> None:
    """``mode="paper"``: OLS on Table A1's fixed columns, raw AFP, in-sample soft labels."""
    from smoothseg.clinical.features import PAPER_COLUMNS

    table, cases = small
    config = ClinicalConfig(compare=False, mode="paper", preset="strict", select=True)
    assert (config.preset, config.model, config.select) == ("paper", "ols", False)
    fit = fit_clinical(table, cases, config)
    model = fit.cross.final.model
    assert len(PAPER_COLUMNS) == 15 and fit.features.columns == PAPER_COLUMNS
    assert fit.cross.final.selection is None
    afp = [c for c in model.encoder.columns if c.name == "AFP"]
    assert afp and afp[0].transform == ""  # raw ng/mL, as the reference code
    rows = table.rows(c.case_id for c in cases)
    z = model.preprocessor.transform(model.encoder.transform(table, rows))
    design = np.column_stack([np.ones(len(rows)), z[:, model.preprocessor.keep]])
    y = np.array([c.tlvr for c in cases])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)  # independent in-sample OLS
    raw = np.array([lab.raw for lab in fit.cross.labels])
    np.testing.assert_allclose(raw, design @ coef, atol=1e-8)
    assert {lab.fold for lab in fit.cross.labels} == {"in-sample"}
    # in-sample: a patient's own TLVR moves its own soft label (unlike cross-fit)
    changed = list(cases)
    changed[0] = replace(cases[0], tlvr=0.95 if (cases[0].tlvr or 0) < 0.5 else 0.0)
    after = fit_clinical(table, changed, config).cross.labels[0]
    assert after.raw != fit.cross.labels[0].raw
    with pytest.raises(InputError, match="--mode"):
        ClinicalConfig(mode="bogus")
