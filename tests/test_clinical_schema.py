"""The clinical schema: internal consistency, and agreement with the real HCC-TACE-Seg table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import require
from smoothseg.clinical import (
    COLUMN_NAMES,
    COLUMNS,
    DATA_SHEET,
    GLOSSARY_SHEET,
    PAPER_TLVR_FEATURES,
    REAL_N_ROWS,
    baseline_columns,
    column,
)

REAL_XLSX = "hcc-tace-seg/HCC-TACE-Seg_clinical_data-V2.xlsx"


def test_57_unique_columns_with_valid_specs() -> None:
    assert len(COLUMNS) == 57
    assert len(set(COLUMN_NAMES)) == 57
    for spec in COLUMNS:
        assert spec.description, spec.name
        if spec.kind == "binary":
            assert len(spec.codes) == 2, spec.name
        if spec.kind in ("ordinal", "categorical"):
            assert len(spec.codes) >= 2, spec.name
        if spec.kind == "numeric":
            assert spec.unit and spec.observed_range is not None, spec.name
            assert not spec.codes
        assert len(set(spec.values)) == len(spec.values), spec.name
        assert 0 <= spec.real_missing < REAL_N_ROWS
        for other in spec.derived_from:
            assert other in COLUMN_NAMES, (spec.name, other)


def test_lookup_and_groups() -> None:
    assert column("CLIP_Score").meaning("Stage_3") == "stage 3"
    with pytest.raises(KeyError, match="did you mean T_involvment"):
        column("T_involvement")
    with pytest.raises(KeyError):
        column("Sex").meaning(3)
    base = {c.name for c in baseline_columns()}
    assert "TTP" not in base and "1_mRECIST" not in base and "TCIA_ID" not in base
    assert {"AFP", "1_RECIST_BL", "Tr_Size"} <= base
    assert all(real in COLUMN_NAMES for real in PAPER_TLVR_FEATURES.values())
    assert len(PAPER_TLVR_FEATURES) == 15
    # Imaging-extent and post-treatment columns are the ones that leak tumor size / outcome.
    assert column("Tr_Size").imaging_extent and column("2_RECIST_BL").imaging_extent
    assert column("OS").post_treatment and not column("AFP").post_treatment


@pytest.fixture(scope="module")
def real(shared_data: Path) -> dict[str, pd.DataFrame]:
    path = require(shared_data / REAL_XLSX)
    sheets: dict[str, pd.DataFrame] = pd.read_excel(path, sheet_name=None, header=None)
    return sheets


@pytest.mark.realdata
def test_columns_order_and_glossary_match_real_file(real: dict[str, pd.DataFrame]) -> None:
    assert list(real) == [DATA_SHEET, GLOSSARY_SHEET]
    header = [str(v) for v in real[DATA_SHEET].iloc[0]]
    assert header == list(COLUMN_NAMES)
    glossary = real[GLOSSARY_SHEET]
    assert [str(v) for v in glossary[0]] == list(COLUMN_NAMES)
    for spec, text in zip(COLUMNS, glossary[1], strict=True):
        assert spec.description == str(text).strip(), spec.name


@pytest.mark.realdata
def test_dtypes_codes_missing_and_ranges_match_real_table(shared_data: Path) -> None:
    df = pd.read_excel(require(shared_data / REAL_XLSX), sheet_name=DATA_SHEET)
    assert len(df) == REAL_N_ROWS
    for spec in COLUMNS:
        col = df[spec.name]
        if spec.dtype == "str":
            assert pd.api.types.is_string_dtype(col), spec.name
        else:
            assert str(col.dtype) == spec.dtype, spec.name
        assert int(col.isna().sum()) == spec.real_missing, spec.name
        if spec.codes:
            observed = {v.item() if hasattr(v, "item") else v for v in col.dropna().unique()}
            assert observed == set(spec.observed_values), spec.name
        if spec.observed_range is not None:
            lo, hi = spec.observed_range
            assert np.isclose(col.min(), lo) and np.isclose(col.max(), hi), spec.name


@pytest.mark.realdata
def test_documented_clip_formula_holds_on_real_table(shared_data: Path) -> None:
    df = pd.read_excel(require(shared_data / REAL_XLSX), sheet_name=DATA_SHEET)
    cps = df["CPS"].map({"A": 0, "B": 1, "C": 2})
    morphology = np.where(
        df["T_involvment"] == ">50%", 2, (df["tumor_nodul"] == "multinodular").astype(int)
    )
    score = cps + morphology + (df["AFP"] >= 400).astype(int) + df["Portal Vein Thrombosis"]
    assert (("Stage_" + score.astype(str)) == df["CLIP_Score"]).all()
