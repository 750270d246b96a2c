"""Clinical table reader, schema typing, feature sets, encoding and TLVR (issue 5)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinical_synthetic import synthetic_cohort, write_cohort
from conftest import require
from smoothseg.clinical.column_spec import REAL_N_ROWS
from smoothseg.clinical.encode import LOG10P1, ColumnEncoding, Encoder, fit_encoder
from smoothseg.clinical.features import (
    PAPER_COLUMNS,
    PRESETS,
    leakage_flags,
    preset_columns,
    resolve_features,
)
from smoothseg.clinical.model import fit_preprocessor
from smoothseg.clinical.schema import COLUMNS, PAPER_TLVR_FEATURES, column
from smoothseg.clinical.table import join_ids, read_clinical_table
from smoothseg.clinical.tlvr import tlvr, tlvr_from_counts
from smoothseg.errors import InputError
from smoothseg.io import Volume

REAL = "hcc-tace-seg/HCC-TACE-Seg_clinical_data-V2.xlsx"


@pytest.mark.realdata
def test_real_table_parses_every_column(shared_data: Path) -> None:
    table = read_clinical_table(require(shared_data / REAL))
    assert len(table.ids) == REAL_N_ROWS == 105
    assert len(set(table.ids)) == 105
    assert table.ids[0] == "HCC_001"
    # TCIA_ID is the id; the other 56 columns are typed exactly as the schema says.
    assert len(table.columns) + 1 == len(COLUMNS) == 57
    assert table.columns == tuple(c.name for c in COLUMNS if c.kind != "id")
    report = table.report
    assert report.problems() == []
    assert not report.unknown_columns and not report.absent_columns
    for col in report.columns:
        spec = column(col.name)
        assert col.known and col.kind == spec.kind, col.name
        assert col.n_missing == spec.real_missing, col.name
        assert col.unknown_values == () and col.recoded == (), col.name
    assert table.values["CPS"][0] in ("A", "B", "C")
    assert np.isnan(table.values["Tr_Size"]).sum() == 52
    assert sum(v is None for v in table.values["chemotherapy"]) == 17  # the "NA" marker


@pytest.mark.realdata
def test_real_table_every_column_encodes(shared_data: Path) -> None:
    table = read_clinical_table(require(shared_data / REAL))
    rows = np.arange(len(table.ids))
    encoder = fit_encoder(table, table.columns, rows)
    x = encoder.transform(table, rows)
    assert x.shape == (105, len(encoder.feature_names))
    assert set(encoder.feature_columns) == set(table.columns)
    for j, name in enumerate(encoder.feature_columns):
        missing = column(name).real_missing
        assert np.isnan(x[:, j]).sum() == missing, name
    prep = fit_preprocessor(x, encoder.feature_kinds)
    z = prep.transform(x)
    assert np.isfinite(z).all()
    enc = {c.name: c for c in encoder.columns}
    assert enc["hepatitis"].reference == "No virus"  # most frequent level
    assert enc["T_involvment"].levels == ("< or = 50%", ">50%")
    afp = x[:, encoder.feature_names.index("AFP")]
    raw = np.asarray(table.values["AFP"], dtype=float)
    assert np.allclose(afp, np.log10(1 + raw))
    tnm = x[:, encoder.feature_names.index("TNM")]
    assert set(np.unique(tnm)) <= set(range(7))


def _bad_table(tmp_path: Path) -> Path:
    frame = synthetic_cohort(12, seed=3).table.astype(object)
    frame.loc[0, "Smoking"] = "maybe"  # unknown value
    frame.loc[1, "CPS"] = "D"  # unknown code
    frame.loc[2, "AFP"] = "high"  # not a number
    frame.loc[3, "Alcohol"] = "Y"  # loose: yes -> 1
    frame.loc[4, "Sex"] = "Female"  # loose: meaning -> 2
    frame.loc[5, "CLIP_Score"] = "stage_2"  # loose: case
    frame.loc[6, "Interval_BL"] = "NA"  # missing marker
    frame["BMI"] = np.linspace(20, 31, 12)  # unknown numeric column
    frame["Notes"] = ["a", "b"] * 6  # unknown text column
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


def test_unknown_values_and_columns_are_reported_by_name(tmp_path: Path) -> None:
    table = read_clinical_table(_bad_table(tmp_path))
    report = table.report
    by_name = {c.name: c for c in report.columns}
    assert by_name["Smoking"].unknown_values == (("maybe", 1),)
    assert by_name["CPS"].unknown_values == (("D", 1),)
    assert by_name["AFP"].unknown_values == (("high", 1),)
    assert by_name["Alcohol"].recoded == (("Y", "1", 1),)
    assert by_name["Sex"].recoded == (("Female", "2", 1),)
    assert by_name["CLIP_Score"].recoded == (("stage_2", "Stage_2", 1),)
    assert by_name["Interval_BL"].n_missing == 1 and not by_name["Interval_BL"].unknown_values
    assert report.unknown_columns == ("BMI", "Notes")
    assert table.types["BMI"].kind == "numeric"
    assert table.types["Notes"].kind == "categorical" and not table.types["Notes"].known
    assert table.values["Smoking"][0] is None and table.values["CPS"][1] is None
    assert table.values["Alcohol"][3] == 1 and table.values["Sex"][4] == 2
    text = "\n".join(report.problems())
    for needle in ("'maybe'", "'D'", "'high'", "BMI", "Notes", "Smoking", "CPS", "AFP"):
        assert needle in text
    # Unknown columns are usable on request, never by a preset.
    assert "BMI" not in resolve_features("all", table.columns).columns
    assert "BMI" in resolve_features("paper", table.columns, include=["BMI"]).columns
    encoder = fit_encoder(table, ["BMI", "Notes", "Smoking"], np.arange(12))
    assert encoder.feature_names == ("BMI", "Notes=b", "Smoking")


def test_csv_and_xlsx_read_the_same(tmp_path: Path) -> None:
    cohort = synthetic_cohort(15, seed=1)
    xlsx, _ = write_cohort(cohort, tmp_path / "x", xlsx=True)
    csv, _ = write_cohort(cohort, tmp_path / "c", xlsx=False)
    a, b = read_clinical_table(xlsx), read_clinical_table(csv)
    assert a.ids == b.ids and a.columns == b.columns
    assert a.report.problems() == b.report.problems() == []
    for name in a.columns:
        va, vb = a.values[name], b.values[name]
        if a.types[name].kind == "numeric":
            assert np.allclose(va, vb, equal_nan=True), name
        else:
            assert list(va) == list(vb), name


def test_table_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such clinical table"):
        read_clinical_table(tmp_path / "absent.xlsx")
    pd.DataFrame({"ID": ["a"], "age": [3]}).to_csv(tmp_path / "noid.csv", index=False)
    with pytest.raises(InputError, match="no TCIA_ID column"):
        read_clinical_table(tmp_path / "noid.csv")
    pd.DataFrame({"TCIA_ID": ["a", "a"], "age": [3, 4]}).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(InputError, match="duplicate TCIA_ID value"):
        read_clinical_table(tmp_path / "dup.csv")
    pd.DataFrame({"TCIA_ID": ["a"]}).to_excel(tmp_path / "sheet.xlsx", sheet_name="other")
    with pytest.raises(InputError, match="no sheet 'data table'"):
        read_clinical_table(tmp_path / "sheet.xlsx")
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read clinical table"):
        read_clinical_table(tmp_path / "junk.xlsx")


def test_partial_table_reports_absent_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame({"TCIA_ID": ["P1", "P2", ""], " age ": [50, 60, None], "afp": [3, 4, 5]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    table = read_clinical_table(tmp_path / "t.csv")
    assert table.ids == ("P1", "P2")
    assert table.columns == ("age", "AFP")
    assert ("afp", "AFP") in table.report.renamed_columns
    assert table.report.skipped_rows == 1
    assert len(table.report.absent_columns) == 57 - 3
    features = resolve_features("paper", table.columns)
    assert features.columns == ("AFP", "age")
    assert any("'TTP' is absent" in n for n in features.notes)


def test_join_ids(tmp_path: Path) -> None:
    cohort = synthetic_cohort(4, seed=0)
    table = read_clinical_table(write_cohort(cohort, tmp_path, xlsx=False)[0])
    join = join_ids(table, [("SYN_001", ""), ("scan7", "SYN_002"), ("syn_003", ""), ("OTHER", "X")])
    assert join.rows == {"SYN_001": "SYN_001", "scan7": "SYN_002", "syn_003": "SYN_003"}
    assert join.missing == ("OTHER",)
    assert join.unused == ("SYN_004",)


def test_presets_and_leakage_flags() -> None:
    assert tuple(PAPER_TLVR_FEATURES.values()) == PAPER_COLUMNS
    assert len(PAPER_COLUMNS) == 15
    names = {c.name for c in COLUMNS}
    for preset in PRESETS:
        assert set(preset_columns(preset)) <= names
    pre = preset_columns("pre-treatment")
    assert not any(column(c).post_treatment for c in pre)
    assert "TTP" not in pre and "T_involvment" in pre and "agegp" not in pre
    assert "Okuda" in pre  # not a mere regrouping of T_involvment
    assert all(not leakage_flags(c) for c in preset_columns("strict"))
    assert "AFP" in preset_columns("strict") and "CLIP_Score" not in preset_columns("strict")
    assert leakage_flags("TTP") == ("post-treatment",)
    assert leakage_flags("T_involvment") == ("imaging extent",)
    assert leakage_flags("CLIP_Score")[0].startswith("derived from imaging extent")
    assert leakage_flags("BMI") == ()
    fs = resolve_features("paper", list(names), exclude=["TTP"], include=["hepatitis"])
    assert "TTP" not in fs.columns and fs.columns[-1] == "hepatitis"
    assert set(fs.flags) == {"T_involvment", "CLIP_Score", "TNM"}
    with pytest.raises(InputError, match="did you mean T_involvment"):
        resolve_features("paper", list(names), exclude=["T_involvement"])
    with pytest.raises(InputError, match="unknown preset"):
        resolve_features("best", list(names))
    with pytest.raises(InputError, match="no candidate column"):
        resolve_features("none", list(names))


def test_encodings_and_json_round_trip(tmp_path: Path) -> None:
    cohort = synthetic_cohort(30, seed=2)
    table = read_clinical_table(write_cohort(cohort, tmp_path, xlsx=False)[0])
    train = np.arange(20)
    cols = ["Sex", "TNM", "Pathology", "AFP", "age"]
    encoder = fit_encoder(table, cols, train)
    enc = {c.name: c for c in encoder.columns}
    assert enc["Sex"].encode(np.array([1, 2, None], dtype=object)).ravel().tolist()[:2] == [0, 1]
    assert enc["TNM"].encode(np.array(["Stage-I", "Stage-IVB"], dtype=object)).ravel().tolist() == [
        0,
        6,
    ]
    assert enc["AFP"].transform == LOG10P1
    assert math.isnan(float(enc["AFP"].encode(np.array([-1.0])).ravel()[0]))
    path = enc["Pathology"]
    assert path.reference is not None and path.reference not in path.levels
    unseen = path.encode(np.array(["Martian"], dtype=object))
    assert np.isnan(unseen).all()
    ref = path.encode(np.array([path.reference], dtype=object))
    assert (ref == 0).all()
    again = Encoder.from_json(json.loads(json.dumps(encoder.to_json())))
    assert again == encoder
    assert np.array_equal(
        again.transform(table, np.arange(30)), encoder.transform(table, np.arange(30)), True
    )
    assert ColumnEncoding("Lymphnodes", "binary", (0, 1)).meaning() == "0 = 0 (no), 1 = 1 (yes)"


def test_tlvr_of_labels() -> None:
    labels = np.zeros((4, 4, 4), np.uint8)
    labels[:2] = 1
    labels[0, 0, :2] = 2
    assert tlvr(labels) == pytest.approx(2 / 32)
    assert tlvr(np.zeros((3, 3, 3), np.uint8)) is None  # empty liver: undefined
    assert tlvr(np.ones((3, 3, 3), np.uint8)) == 0.0
    assert tlvr_from_counts(0, 5) == 1.0
    vol = Volume(labels, np.eye(4), kind="label")
    assert tlvr(vol) == pytest.approx(1 / 16)
    with pytest.raises(InputError, match="label map"):
        tlvr(Volume(labels.astype(np.float32), np.eye(4), kind="image"))
    with pytest.raises(InputError, match="integer label map"):
        tlvr(labels.astype(np.float32))
    with pytest.raises(ValueError):
        tlvr_from_counts(-1, 0)
