"""Synthetic HCC-TACE-Seg clinical table rows, tied to each phantom's tumor burden.

The generative model (documented with all coefficients in ``docs/phantom.md``) uses the
case's latent tumor-to-liver volume ratio ``TLVR`` (on the reference grid), its tumor count
and its largest diameter. With ``b = sqrt(TLVR)`` (0 for a tumor-free liver, about 0.8 at
TLVR 0.65):

* imaging extent: ``Tr_Size`` (largest diameter with 8 % measurement noise),
  ``tumor_nodul`` (nodules of at least 1 cm, 8 % misread), ``T_involvment`` (noisy extent);
* logistic links ``sigmoid(a + c * b)`` for vascular invasion, portal vein thrombosis, lymph
  nodes, metastasis and performance status; ``log10 AFP = 0.8 + 3.2 b + N(0, 1)``;
* staging computed by the clinical rules from those: CLIP (exact formula of the real table),
  Okuda, AJCC TNM, BCLC;
* outcomes (TTP, OS) shorten with burden; baseline RECIST / mRECIST / EASL readings measure
  the largest two tumors (see :mod:`smoothseg.phantom.clinical_response`);
* demographics, risk factors, pathology, chemotherapy and intervals are independent noise
  with the real table's frequencies.

Tumor-free phantoms stand for patients whose lesion is below CT detectability: they get an
occult 5-10 mm uninodular tumor in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smoothseg.clinical.schema import COLUMN_NAMES, COLUMNS
from smoothseg.phantom.clinical_response import response_columns
from smoothseg.phantom.config import STREAM_CLINICAL, substream

if TYPE_CHECKING:
    from smoothseg.phantom.case import CaseSpec

#: Columns whose values depend on the tumor burden, with the sign of their correlation with
#: TLVR (ordinal codes in schema order, log10 for AFP).
SIGNAL_COLUMNS: dict[str, int] = {
    "Tr_Size": 1,
    "tumor_nodul": 1,
    "T_involvment": 1,
    "AFP": 1,
    "AFP_group": 1,
    "CLIP_Score": 1,
    "CLIP": 1,
    "TNM": 1,
    "BCLC": 1,
    "Vascular invasion": 1,
    "Portal Vein Thrombosis": 1,
    "Lymphnodes": 1,
    "Metastasis": 1,
    "PS_bclc_0_0_1-2_1_3-4_3": 1,
    "Okuda": 1,
    "TTP": -1,
    "OS": -1,
    **{f"{r}_RECIST_BL": 1 for r in (1, 2, 3)},
    **{f"{r}_mRECIST_BL": 1 for r in (1, 2, 3)},
    "1_EASL_BL": 1,
}
#: Columns drawn independently of the tumors.
NOISE_COLUMNS: tuple[str, ...] = (
    "Interval_BL",
    "Interval_FU",
    "Death_1_StillAliveorLostToFU_0",
    "Censored_0_progressed_1",
    "hepatitis",
    "age",
    "agegp",
    "Sex",
    "Smoking",
    "Alcohol",
    "fhx_can",
    "fhx_livc",
    "Diabetes",
    "Personal history of cancer",
    "Evidence_of_cirh",
    "Pathology",
    "CPS",
    "chemotherapy",
)

# Frequencies of the real table (counts out of 105 patients).
_BINARY_RATES = {
    "Smoking": 59 / 105,
    "Alcohol": 56 / 105,
    "fhx_can": 65 / 105,
    "fhx_livc": 7 / 105,
    "Diabetes": 35 / 105,
    "Personal history of cancer": 19 / 105,
}
_HEPATITIS = {"No virus": 54, "HCV only": 26, "HCV and HBV": 16, "HBV only": 9}
_PATHOLOGY = {
    "Well differentiated": 37,
    "Moderately differentiated": 31,
    "NOT STATED": 15,
    "Poorly differentiated": 13,
    "No biopsy": 7,
    "Moderately-poorly differentiated": 1,
    "Well-moderately differentiated": 1,
}
_CHEMO = {
    "Cisplatin, doxorubicin, Mitomycin-C": 52,
    "doxorubicin LC beads": 33,
    None: 17,
    "Cisplatin, Mitomycin-C": 2,
    "Cisplastin": 1,
}
P_TR_SIZE_MISSING = 52 / 105
P_INTERVAL_FU_MISSING = 8 / 105
VISIBLE_MM = 10.0


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def _pick(rng: np.random.Generator, counts: dict[Any, int]) -> Any:
    keys = list(counts)
    p = np.asarray([counts[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _agegp(age: int) -> str:
    for upper, label in ((40, "<=40"), (50, "41-50"), (60, "51-60"), (70, "61-70")):
        if age <= upper:
            return label
    return ">70"


def _tnm(n_nodules: int, size_mm: float, vi: int, major: bool, ln: int, met: int, t4: bool) -> str:
    """AJCC (7th edition) stage from nodules, size, vascular invasion, nodes, metastasis.

    ``major``: the vascular invasion involves a major portal/hepatic vein branch (T3b).
    """
    if met:
        return "Stage-IVB"
    if ln:
        return "Stage-IVA"
    if t4:
        return "Stage-IIIC"
    if vi and major:
        return "Stage-IIIB"
    if n_nodules > 1:
        return "Stage-IIIA" if size_mm > 50 else "Stage-II"
    return "Stage-II" if vi else "Stage-I"


def _bclc(cps: str, ps: int, multi: bool, small: bool, extent: int) -> str:
    """BCLC: D for Child-Pugh C or PS 3-4; C for PS 1-2 or invasion/spread; B multinodular."""
    if cps == "C" or ps == 3:
        return "Stage-D"
    if ps == 1 or extent:
        return "Stage-C"
    if multi and not small:
        return "Stage-B"
    return "Stage-A"


def clinical_row(spec: CaseSpec) -> dict[str, Any]:
    """One clinical-table row for a case (keys in schema order; ``None`` = missing)."""
    rng = substream(spec.seed, STREAM_CLINICAL)
    tlvr = spec.tlvr
    b = float(np.sqrt(max(tlvr, 0.0)))
    diam = sorted((t.diameter_mm for t in spec.tumors), reverse=True)
    visible = [d for d in diam if d >= VISIBLE_MM]
    size_mm = diam[0] if diam else float(rng.uniform(5.0, 10.0))
    n_obs = max(1, len(visible))
    row: dict[str, Any] = {"TCIA_ID": spec.case_id}

    # Noise: demographics, risk factors, pathology, timing.
    age = int(np.clip(np.rint(rng.normal(67.5, 11.3)), 31, 93))
    row["Interval_BL"] = int(np.rint(rng.laplace(8.0, 15.0)))
    if rng.uniform() < 0.06:
        row["Interval_BL"] += int(rng.choice([-1, 1]) * rng.uniform(100, 860))
    fu = float(np.round(max(1.0, rng.normal(9.7, 3.5)), 2))
    row["Interval_FU"] = None if rng.uniform() < P_INTERVAL_FU_MISSING else fu
    row["hepatitis"] = _pick(rng, _HEPATITIS)
    row["age"] = age
    row["agegp"] = _agegp(age)
    row["Sex"] = 1 if rng.uniform() < 68 / 105 else 2
    for name, p in _BINARY_RATES.items():
        row[name] = int(rng.uniform() < p)
    cirrhosis = int(rng.uniform() < 78 / 105)
    row["Evidence_of_cirh"] = cirrhosis
    row["Pathology"] = _pick(rng, _PATHOLOGY)
    cps_p = (0.80, 0.19, 0.01) if cirrhosis else (0.95, 0.05, 0.0)
    cps = str(rng.choice(["A", "B", "C"], p=cps_p))
    row["CPS"] = cps

    # Signal: imaging extent and invasion.
    tr = float(np.round(size_mm / 10.0 * np.exp(rng.normal(0.0, 0.08)), 1))
    row["Tr_Size"] = None if rng.uniform() < P_TR_SIZE_MISSING else max(tr, 0.5)
    multi = (n_obs > 1) != (rng.uniform() < 0.08)
    row["tumor_nodul"] = "multinodular" if multi else "uninodular"
    involvement = tlvr * (1.0 + 0.25 * (n_obs - 1)) * np.exp(rng.normal(0.0, 0.3))
    over_half = bool(involvement >= 0.3)
    row["T_involvment"] = ">50%" if over_half else "< or = 50%"
    vi = int(rng.uniform() < _sigmoid(-2.6 + 4.5 * b))
    pvt = int(rng.uniform() < _sigmoid(-3.3 + 4.5 * b + 1.0 * vi))
    ln = int(rng.uniform() < _sigmoid(-2.8 + 2.8 * b))
    met = int(rng.uniform() < _sigmoid(-4.5 + 5.5 * b))
    ps = int(rng.uniform() < _sigmoid(-0.5 + 1.8 * b))
    if ps and rng.uniform() < 0.04:
        ps = 3
    log_afp = float(np.clip(0.8 + 3.2 * b + rng.normal(0.0, 1.0), 0.15, 5.75))
    afp = float(np.round(10.0**log_afp, 1))
    row.update(
        {
            "Vascular invasion": vi,
            "Metastasis": met,
            "Lymphnodes": ln,
            "Portal Vein Thrombosis": pvt,
            "PS_bclc_0_0_1-2_1_3-4_3": ps,
            "AFP": afp,
            "AFP_group": ">=400" if afp >= 400 else "<400",
        }
    )

    # Staging by the clinical rules.
    morphology = 2 if over_half else int(multi)
    clip = {"A": 0, "B": 1, "C": 2}[cps] + morphology + int(afp >= 400) + pvt
    row["CLIP_Score"] = f"Stage_{clip}"
    row["CLIP"] = "Stage_ 0-2" if clip <= 2 else ("Stage_3" if clip == 3 else "Stage_4-6")
    severe = cps != "A"
    okuda = (
        int(over_half)
        + int(rng.uniform() < 0.05 + 0.2 * severe)
        + int(rng.uniform() < 0.08 + 0.15 * severe)
        + int(rng.uniform() < 0.02 + 0.1 * (cps == "C"))
    )
    row["Okuda"] = "Stage I" if okuda == 0 else ("Stage II" if okuda <= 2 else "Stage III")
    n_for_stage = n_obs if multi == (n_obs > 1) else (2 if multi else 1)
    major = bool(pvt) or rng.uniform() < 0.5
    row["TNM"] = _tnm(n_for_stage, size_mm, vi, major, ln, met, rng.uniform() < 0.02)
    small = n_for_stage <= 3 and size_mm <= 30.0
    row["BCLC"] = _bclc(cps, ps, multi, small, vi or pvt or ln or met)
    row["chemotherapy"] = _pick(rng, _CHEMO)

    # Outcomes: faster progression and shorter survival with burden.
    ttp_days = 28.0 + rng.gamma(1.2, (230.0 * np.exp(-1.5 * b) - 28.0) / 1.2)
    os_days = ttp_days + rng.gamma(1.2, 600.0 * np.exp(-1.2 * b) / 1.2)
    row["TTP"] = float(ttp_days / 7.0)
    row["OS"] = float(os_days / 7.0)
    row["Death_1_StillAliveorLostToFU_0"] = int(rng.uniform() < 93 / 105)
    row["Censored_0_progressed_1"] = int(rng.uniform() < 45 / 105)
    row.update(response_columns(rng, spec.tumors, size_mm))
    return {name: row.get(name) for name in COLUMN_NAMES}


def clinical_table(specs: Sequence[CaseSpec]) -> pd.DataFrame:
    """The clinical table of a cohort: one row per case, the real table's columns and dtypes.

    Integer columns without missing values are ``int64``; columns the real table stores as
    floats (because of missing values there) are ``float64``; text columns are strings.
    """
    df = pd.DataFrame([clinical_row(s) for s in specs], columns=list(COLUMN_NAMES))
    for spec in COLUMNS:
        col = df[spec.name]
        if spec.dtype == "str":
            df[spec.name] = col.astype("str").where(col.notna(), None)
        elif spec.dtype == "float64" or col.isna().any():
            df[spec.name] = pd.to_numeric(col, errors="raise").astype("float64")
        else:
            df[spec.name] = pd.to_numeric(col, errors="raise").astype("int64")
    return df
