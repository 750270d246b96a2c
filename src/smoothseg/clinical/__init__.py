"""Clinical data of HCC patients and the soft labels fitted on it.

* :mod:`.schema` — the HCC-TACE-Seg table's columns (types in :mod:`.column_spec`, response
  readings in :mod:`.readings`); :func:`read_clinical_table` reads it.
* :mod:`.inputs` — the cohort's cases and TLVR (cache manifest or CSV) and the split part a fit
  uses (not imported here: it reads the datasets layer).
* :func:`fit_clinical` — soft labels (the TLVR a regression on clinical risk factors predicts)
  for a cohort, with a :class:`ClinicalConfig` (out-of-fold by default, or the paper's
  in-sample OLS).
"""

from smoothseg.clinical.api import ClinicalConfig, ClinicalFit, fit_clinical
from smoothseg.clinical.column_spec import REAL_N_ROWS, Code, ColumnSpec
from smoothseg.clinical.schema import (
    COLUMN_NAMES,
    COLUMNS,
    DATA_SHEET,
    GLOSSARY_SHEET,
    PAPER_TLVR_FEATURES,
    baseline_columns,
    column,
)
from smoothseg.clinical.table import ClinicalTable, read_clinical_table

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "DATA_SHEET",
    "GLOSSARY_SHEET",
    "PAPER_TLVR_FEATURES",
    "REAL_N_ROWS",
    "ClinicalConfig",
    "ClinicalFit",
    "ClinicalTable",
    "Code",
    "ColumnSpec",
    "baseline_columns",
    "column",
    "fit_clinical",
    "read_clinical_table",
]
