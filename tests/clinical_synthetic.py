"""A synthetic clinical table drawn from the schema, with a TLVR generated from known columns.

Every one of the 57 columns is drawn from its schema spec (codes, observed ranges, missing
rates; the staging scores are computed from their components as in the real table). The TLVR
follows a known linear model in three generating columns plus Gaussian noise:

    R = 0.25 + sum_j beta_j * (x_j - mu_j) / sd_j + eps,   eps ~ N(0, NOISE_SD^2)

with x_j the encoded feature (T_involvment 0/1, AFP as log10(1 + ng/mL), Lymphnodes 0/1) and
(mu_j, sd_j) its population mean and standard deviation, so beta_j is the TLVR change per
standard deviation. R is clipped to [0, 1] (a handful of cases at most).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smoothseg.clinical.column_spec import ColumnSpec
from smoothseg.clinical.schema import COLUMNS

#: TLVR change per standard deviation of each generating column.
GENERATING: dict[str, float] = {"T_involvment": 0.060, "AFP": 0.045, "Lymphnodes": 0.030}
NOISE_SD = 0.045
BASE = 0.25
_P_T_INVOLVED = 0.25
_P_LYMPH = 0.25
_LOG_AFP = (1.9, 1.0)  # mean, sd of log10(1 + AFP)


@dataclass(frozen=True)
class SyntheticCohort:
    """A synthetic table with its TLVR.

    Attributes:
        table: The 57 columns, ``TCIA_ID`` = ``SYN_001``...
        tlvr: TLVR per row.
        signal: The noise-free part of the TLVR per row (before clipping).

    """

    table: pd.DataFrame
    tlvr: np.ndarray
    signal: np.ndarray

    @property
    def ids(self) -> list[str]:
        return [str(v) for v in self.table["TCIA_ID"]]


def _draw(spec: ColumnSpec, n: int, rng: np.random.Generator) -> list[object]:
    if spec.kind == "numeric":
        lo, hi = spec.observed_range or (0.0, 1.0)
        x = rng.uniform(lo, hi, n)
        return [round(v) if spec.dtype == "int64" else round(float(v), 2) for v in x]
    values = list(spec.observed_values)
    return [values[i] for i in rng.integers(0, len(values), n)]


def synthetic_cohort(n: int = 105, seed: int = 0) -> SyntheticCohort:
    """Draw ``n`` synthetic patients."""
    rng = np.random.default_rng(seed)
    data: dict[str, list[object]] = {}
    for spec in COLUMNS:
        data[spec.name] = (
            _draw(spec, n, rng) if spec.kind != "id" else [f"SYN_{i + 1:03d}" for i in range(n)]
        )
    t_inv = rng.random(n) < _P_T_INVOLVED
    lymph = rng.random(n) < _P_LYMPH
    log_afp = np.clip(rng.normal(*_LOG_AFP, n), 0.1, 5.7)
    afp = np.round(10**log_afp - 1.0, 1)
    log_afp = np.log10(1.0 + afp)
    data["T_involvment"] = [">50%" if t else "< or = 50%" for t in t_inv]
    data["Lymphnodes"] = lymph.astype(int).tolist()
    data["AFP"] = afp.tolist()
    data["AFP_group"] = [">=400" if a >= 400 else "<400" for a in afp]
    age = np.array(data["age"], dtype=float)
    data["agegp"] = [
        "<=40"
        if a <= 40
        else "41-50"
        if a <= 50
        else "51-60"
        if a <= 60
        else "61-70"
        if a <= 70
        else ">70"
        for a in age
    ]
    cps = {"A": 0, "B": 1, "C": 2}
    clip = [
        cps[str(c)] + (2 if t else int(nod == "multinodular")) + int(a >= 400) + int(pvt)
        for c, t, nod, a, pvt in zip(
            data["CPS"],
            t_inv,
            data["tumor_nodul"],
            afp,
            data["Portal Vein Thrombosis"],
            strict=True,
        )
    ]
    data["CLIP_Score"] = [f"Stage_{min(s, 5)}" for s in clip]
    data["CLIP"] = ["Stage_ 0-2" if s <= 2 else "Stage_3" if s == 3 else "Stage_4-6" for s in clip]
    data["Okuda"] = [
        ("Stage II" if o == "Stage I" else o) if t else o
        for o, t in zip(data["Okuda"], t_inv, strict=True)
    ]
    for spec in COLUMNS:  # missing cells at the real table's rates
        if spec.real_missing:
            gone = rng.random(n) < spec.real_missing / 105
            marker = spec.missing_marker or None
            data[spec.name] = [
                marker if g else v for v, g in zip(data[spec.name], gone, strict=True)
            ]
    z = {
        "T_involvment": (t_inv - _P_T_INVOLVED) / math.sqrt(_P_T_INVOLVED * (1 - _P_T_INVOLVED)),
        "AFP": (log_afp - _LOG_AFP[0]) / _LOG_AFP[1],
        "Lymphnodes": (lymph - _P_LYMPH) / math.sqrt(_P_LYMPH * (1 - _P_LYMPH)),
    }
    signal = sum(GENERATING[k] * z[k] for k in GENERATING)
    tlvr = np.clip(BASE + signal + rng.normal(0.0, NOISE_SD, n), 0.0, 1.0)
    return SyntheticCohort(pd.DataFrame(data), tlvr, np.asarray(signal))


def expected_oof_r(signal_var: float, noise_sd: float, n: int, folds: int, p: int) -> float:
    """Expected out-of-fold Pearson r of an OLS fit with ``p`` features.

    The best achievable correlation is ``sqrt(S / (S + s^2))`` (S: signal variance, s: noise
    sd). Estimating ``p`` coefficients from ``m = n (K-1)/K`` training rows adds prediction
    variance ``s^2 p / (m - p - 1)`` (random-design OLS), which lowers the correlation to
    ``S / sqrt((S + s^2 k)(S + s^2))`` with ``k = p / (m - p - 1)``.
    """
    m = n * (folds - 1) / folds
    k = p / (m - p - 1)
    s2 = noise_sd**2
    return signal_var / math.sqrt((signal_var + s2 * k) * (signal_var + s2))


def write_cohort(cohort: SyntheticCohort, folder, *, xlsx: bool = True) -> tuple:
    """Write the table (xlsx "data table" + "glossary", or csv) and a manifest CSV."""
    from smoothseg.clinical.schema import DATA_SHEET, GLOSSARY_SHEET

    folder.mkdir(parents=True, exist_ok=True)
    if xlsx:
        table_path = folder / "clinical.xlsx"
        glossary = pd.DataFrame(
            [(c.name, c.description) for c in COLUMNS[1:]], columns=["TCIA_ID", "Patient ID"]
        )
        with pd.ExcelWriter(table_path) as writer:
            cohort.table.to_excel(writer, sheet_name=DATA_SHEET, index=False)
            glossary.to_excel(writer, sheet_name=GLOSSARY_SHEET, index=False)
    else:
        table_path = folder / "clinical.csv"
        cohort.table.to_csv(table_path, index=False)
    manifest = folder / "manifest.csv"
    pd.DataFrame({"case_id": cohort.ids, "tlvr": cohort.tlvr}).to_csv(manifest, index=False)
    return table_path, manifest
