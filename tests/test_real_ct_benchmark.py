"""Scoring logic of ``benchmarks/real_ct.py`` on tiny hand-made masks (no model, no real data)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np


def _module() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "real_ct.py"
    spec = importlib.util.spec_from_file_location("real_ct_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_score_counts_dice_false_tumor_and_lesions() -> None:
    bench = _module()
    ref = np.zeros((12, 12, 12), dtype=np.uint8)
    ref[2:10, 2:10, 2:10] = 1
    ref[3:5, 3:5, 3:5] = 2  # lesion A (found)
    ref[7:9, 7:9, 7:9] = 2  # lesion B (missed)
    liver = ref > 0
    tumor = np.zeros_like(liver)
    tumor[3:5, 3:5, 3:5] = True
    tumor[3:5, 7:9, 3:5] = True  # 8 false tumor voxels
    s = bench.score("toy", liver, tumor, ref, (2.0, 2.0, 2.0), 1.5)
    assert s.liver_dice == 1.0
    assert math.isclose(s.tumor_dice, 2 * 8 / (16 + 16))
    assert math.isclose(s.fp_tumor_ml, 8 * 8 / 1000)
    assert (s.lesions_found, s.lesions_true) == (1, 2)
    assert s.liver_hd95_mm == 0.0
    assert "toy" in bench.table(
        [("m", {"scores": [s.__dict__], "volumes": [], "hcc009_tumor_agreement": float("nan")})]
    )


def test_score_without_reference_tumor_has_no_tumor_dice() -> None:
    bench = _module()
    ref = np.zeros((8, 8, 8), dtype=np.uint8)
    ref[1:7, 1:7, 1:7] = 1
    tumor = np.zeros(ref.shape, dtype=bool)
    tumor[2:4, 2:4, 2:4] = True
    s = bench.score("no tumor", ref > 0, tumor, ref, (1.0, 1.0, 1.0), 0.1)
    assert math.isnan(s.tumor_dice)
    assert math.isclose(s.fp_tumor_ml, 8 / 1000)
    assert s.lesions_true == 0


def test_summary_reports_total_prediction_seconds() -> None:
    bench = _module()
    res = {
        "scores": [
            {
                "case": "dcmqi 3-slice liver (DICOM SEG)",
                "liver_dice": 0.5,
                "tumor_dice": float("nan"),
                "fp_tumor_ml": 0.0,
                "lesions_found": 0,
                "lesions_true": 0,
                "seconds": 1.25,
            }
        ],
        "volumes": [{"case": "HCC_009 series 2", "tumor_ml": 3.0, "seconds": 2.5}],
    }
    assert bench.total_seconds(res) == 3.75
    summary = bench._summary(res)
    assert "dcmqi liver 0.500" in summary and "predict 3.8 s over all scans" in summary
