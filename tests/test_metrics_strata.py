"""Tumor-size strata (paper Table 4): mask and clinical rules, edges, tumor-free cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import require
from smoothseg.clinical import schema
from smoothseg.errors import InputError
from smoothseg.evaluation import assign_stratum, evaluate_labels, read_clinical_sizes_cm
from smoothseg.evaluation.case import EvaluationConfig
from smoothseg.evaluation.strata import TR_SIZE_UNIT, describe_size_rule


def test_mask_rule_threshold_edge_counts_as_large() -> None:
    at_edge = assign_stratum(patient_id="p", largest_diameter_mm=100.0, has_tumor=True)
    assert (at_edge.group, at_edge.size_cm, at_edge.source) == ("≥10 cm", 10.0, "mask")
    below = assign_stratum(patient_id="p", largest_diameter_mm=99.9, has_tumor=True)
    assert below.group == "<10 cm"


def test_tumor_free_cases_are_their_own_group_under_every_rule() -> None:
    for rule in ("mask", "clinical", "clinical-then-mask"):
        s = assign_stratum(
            patient_id="p", largest_diameter_mm=0.0, has_tumor=False, rule=rule,
            clinical_sizes_cm={"p": 12.0},
        )  # fmt: skip
        assert s.group == "no tumor"


def test_clinical_rules(tmp_path: Path) -> None:
    table = tmp_path / "clinical.csv"
    table.write_text("TCIA_ID,Tr_Size,Age\nHCC_001,12.5,60\nHCC_002,,70\nHCC_003,3,50\n")
    sizes = read_clinical_sizes_cm(table)
    assert sizes == {"HCC_001": 12.5, "HCC_002": None, "HCC_003": 3.0}

    def group(pid: str, rule: str) -> tuple[str, str]:
        s = assign_stratum(
            patient_id=pid, largest_diameter_mm=150.0, has_tumor=True, rule=rule,
            clinical_sizes_cm=sizes,
        )  # fmt: skip
        return s.group, s.source

    assert group("HCC_001", "clinical") == ("≥10 cm", "clinical")
    assert group("HCC_003", "clinical") == ("<10 cm", "clinical")  # the table wins over the mask
    assert group("HCC_002", "clinical") == ("unknown", "none")
    assert group("HCC_999", "clinical") == ("unknown", "none")
    assert group("HCC_002", "clinical-then-mask") == ("≥10 cm", "mask")


def test_clinical_rule_needs_a_table(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="clinical"):
        assign_stratum(patient_id="p", largest_diameter_mm=1, has_tumor=True, rule="clinical")
    bad = tmp_path / "bad.csv"
    bad.write_text("TCIA_ID,Age\nHCC_001,60\n")
    with pytest.raises(InputError, match="Tr_Size"):
        read_clinical_sizes_cm(bad)


def test_rule_is_described_for_the_outputs() -> None:
    text = describe_size_rule("clinical", 10.0, "table.xlsx")
    assert "Tr_Size (cm)" in text and "table.xlsx" in text and "unknown" in text


def test_unit_agrees_with_the_clinical_schema() -> None:
    assert schema.column("Tr_Size").unit == TR_SIZE_UNIT


def test_case_stratum_from_the_reference_mask() -> None:
    ref = np.zeros((12, 12, 50), np.uint8)
    ref[1:11, 1:11, 1:49] = 1
    ref[5, 5, 2:45] = 2  # 42 gaps of 2.5 mm = 105 mm
    result = evaluate_labels(ref, ref, (0.7, 0.7, 2.5))
    assert result.stratum.group == "≥10 cm"
    assert result.stratum.size_cm == pytest.approx(10.5)
    small = evaluate_labels(ref, ref, (0.7, 0.7, 2.0), config=EvaluationConfig())
    assert small.stratum.group == "<10 cm"  # 84 mm


@pytest.mark.realdata
def test_real_clinical_table(shared_data: Path) -> None:
    path = require(shared_data / "hcc-tace-seg" / "HCC-TACE-Seg_clinical_data-V2.xlsx")
    sizes = read_clinical_sizes_cm(path)
    assert len(sizes) == 105
    values = [v for v in sizes.values() if v is not None]
    assert len(values) == 105 - 52
    assert min(values) >= 0.8 and max(values) <= 20.0
