"""Cohort-level statistics on the fast path (case parameters and clinical rows, no images).

``cohort_spec`` draws exactly the parameters ``generate_cohort`` renders (tests in
``test_phantom_case.py`` check that the rasterized TLVR equals the reference TLVR used here).

Statistical bounds. Under independence, the sample Pearson r of n pairs has standard error
about ``1/sqrt(n-1)``; with n = 120 a bound of ``3.5/sqrt(n-1) = 0.32`` is exceeded by chance
with probability below 0.0005 per column (below 1 % for all 15 tested noise columns together).
The strong signal columns have population correlations of about 0.5-0.9 (measured on 300 cases, see
docs/phantom.md), at least 3 standard errors (about 0.065 at r = 0.5) above the bound. Moderate
ones (0.29-0.48, standard error about 0.08) must each be positive (r > 0.05, 2.9 standard
errors below the weakest) and average above 0.25 (their mean is about 0.39).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import require
from smoothseg.clinical import COLUMNS, column
from smoothseg.phantom import (
    NOISE_COLUMNS,
    CaseSpec,
    PhantomConfig,
    clinical_table,
    cohort_spec,
    size_group,
)
from smoothseg.phantom.tables import clinical_xlsx_bytes

N = 120
BOUND = 3.5 / np.sqrt(N - 1)
STRONG = (
    "Tr_Size",
    "T_involvment",
    "AFP",
    "AFP_group",
    "CLIP_Score",
    "CLIP",
    *(f"{r}_RECIST_BL" for r in (1, 2, 3)),
    *(f"{r}_mRECIST_BL" for r in (1, 2, 3)),
    "1_EASL_BL",
)
MODERATE = ("TNM", "BCLC", "Portal Vein Thrombosis", "Vascular invasion", "Lymphnodes", "Okuda")
REAL_XLSX = "hcc-tace-seg/HCC-TACE-Seg_clinical_data-V2.xlsx"


@pytest.fixture(scope="module")
def specs() -> list[CaseSpec]:
    cfg = PhantomConfig.preset("small")
    return [cohort_spec(i, 0, cfg) for i in range(N)]


@pytest.fixture(scope="module")
def table(specs: list[CaseSpec]) -> pd.DataFrame:
    return clinical_table(specs)


def _numeric(table: pd.DataFrame, name: str) -> pd.Series:
    """Codes in schema order (ordinal/binary), log10 for AFP, values otherwise."""
    col = table[name]
    spec = column(name)
    if name == "AFP":
        return np.log10(col.astype(float))
    if spec.codes:
        return col.map({v: i for i, v in enumerate(spec.values)}).astype(float)
    return col.astype(float)


def _r(x: pd.Series, y: np.ndarray) -> float:
    ok = x.notna().to_numpy()
    return float(np.corrcoef(x.to_numpy()[ok], y[ok])[0, 1])


def test_twenty_case_cohorts_span_burden_and_both_size_groups(specs: list[CaseSpec]) -> None:
    """Stratified burden: each block of 10 cases has a tumor-free and a >= 10 cm case."""
    for seed in (0, 1):
        block = specs[:20] if seed == 0 else [cohort_spec(i, 1, PhantomConfig()) for i in range(20)]
        tlvr = [s.tlvr for s in block]
        groups = {size_group(s.largest_diameter_mm) for s in block}
        assert min(tlvr) == 0.0 and max(tlvr) >= 0.4, (seed, max(tlvr))
        assert groups == {"none", "<10cm", ">=10cm"}
        assert all(0 <= s.n_tumors <= 6 for s in block)
        assert any(s.n_tumors >= 2 for s in block)
    diameters = [t.diameter_mm for s in specs for t in s.tumors]
    assert min(diameters) >= 5.0 and max(diameters) <= 150.0
    assert {t.kind for s in specs for t in s.tumors} == {"hypodense", "isodense", "heterogeneous"}
    liver = [s.liver_ml - s.tumor_ml for s in specs]
    assert min(liver) < 1000 < 1600 < max(liver)  # livers vary in size across patients


def test_signal_columns_correlate_with_tlvr_and_noise_columns_do_not(
    specs: list[CaseSpec], table: pd.DataFrame
) -> None:
    tlvr = np.array([s.tlvr for s in specs])
    for name in STRONG:
        assert _r(_numeric(table, name), tlvr) > BOUND, name
    moderate = {name: _r(_numeric(table, name), tlvr) for name in MODERATE}
    assert all(r > 0.05 for r in moderate.values()), moderate
    assert np.mean(list(moderate.values())) > 0.25, moderate
    for name in ("TTP", "OS"):
        assert _r(_numeric(table, name), tlvr) < -0.15, name
    visible = np.array([sum(t.diameter_mm >= 10 for t in s.tumors) for s in specs], dtype=float)
    assert _r(_numeric(table, "tumor_nodul"), visible) > BOUND
    for name in NOISE_COLUMNS:
        if column(name).kind == "categorical":
            continue
        assert abs(_r(_numeric(table, name), tlvr)) < BOUND, name


def test_staging_follows_clinical_rules(table: pd.DataFrame) -> None:
    cps = table["CPS"].map({"A": 0, "B": 1, "C": 2})
    morph = np.where(
        table["T_involvment"] == ">50%", 2, (table["tumor_nodul"] == "multinodular").astype(int)
    )
    clip = cps + morph + (table["AFP"] >= 400).astype(int) + table["Portal Vein Thrombosis"]
    assert (("Stage_" + clip.astype(str)) == table["CLIP_Score"]).all()
    assert (table.loc[table["Metastasis"] == 1, "TNM"] == "Stage-IVB").all()
    assert (table.loc[table["TNM"] == "Stage-I", "tumor_nodul"] == "uninodular").all()
    assert ((table["AFP"] >= 400) == (table["AFP_group"] == ">=400")).all()


@pytest.mark.realdata
def test_table_matches_real_dtypes_vocabularies_and_missing_rates(
    shared_data: Path, table: pd.DataFrame
) -> None:
    real_sheets = pd.read_excel(require(shared_data / REAL_XLSX), sheet_name=None)
    ours = pd.read_excel(io.BytesIO(clinical_xlsx_bytes(table)), sheet_name=None)
    assert list(ours) == list(real_sheets)
    real, gen = real_sheets["data table"], ours["data table"]
    assert list(gen.columns) == list(real.columns)
    assert list(gen["TCIA_ID"])[:2] == ["PHANTOM_001", "PHANTOM_002"]
    n = len(gen)
    for spec in COLUMNS:
        r, g = real[spec.name], gen[spec.name]
        assert g.dtype == r.dtype, (spec.name, g.dtype, r.dtype)
        if spec.codes:
            values = {v.item() if hasattr(v, "item") else v for v in g.dropna().unique()}
            assert values <= set(spec.values), spec.name
        p = r.isna().mean()
        tolerance = 3.5 * np.sqrt(p * (1 - p) / n) + 1.0 / n
        assert abs(g.isna().mean() - p) <= tolerance, spec.name
        if spec.kind == "binary" and spec.name in NOISE_COLUMNS:
            pr = float((r == spec.values[1]).mean())
            assert abs(float((g == spec.values[1]).mean()) - pr) <= 3.5 * np.sqrt(pr * (1 - pr) / n)
        if spec.kind == "numeric" and spec.observed_range is not None and spec.name != "AFP":
            lo, hi = spec.observed_range
            span = hi - lo
            assert g.min() >= lo - 0.5 * span and g.max() <= hi + 0.5 * span, spec.name
