"""Clinical data of HCC patients: the HCC-TACE-Seg table's schema (readers come later)."""

from smoothseg.clinical.schema import (
    COLUMN_NAMES,
    COLUMNS,
    DATA_SHEET,
    GLOSSARY_SHEET,
    PAPER_TLVR_FEATURES,
    REAL_N_ROWS,
    Code,
    ColumnSpec,
    baseline_columns,
    column,
)

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "DATA_SHEET",
    "GLOSSARY_SHEET",
    "PAPER_TLVR_FEATURES",
    "REAL_N_ROWS",
    "Code",
    "ColumnSpec",
    "baseline_columns",
    "column",
]
