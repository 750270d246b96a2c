"""Which cases have a clinical row: the ``TCIA_ID`` column of a clinical table.

Only presence is recorded at prepare time; the clinical encoder lives elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smoothseg.errors import InputError

ID_COLUMN = "TCIA_ID"
SHEET = "data table"


def read_clinical_frame(path: str | Path) -> pd.DataFrame:
    """A clinical table (xlsx sheet "data table", or CSV) with a ``TCIA_ID`` column, as read.

    Raises:
        InputError: unreadable, no "data table" sheet, or no ``TCIA_ID`` column.

    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(p, "no such clinical table")
    try:
        if p.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
            sheets = pd.ExcelFile(p).sheet_names
            if SHEET not in sheets:
                raise InputError(p, f"no sheet {SHEET!r}; sheets: {', '.join(map(str, sheets))}")
            table = pd.read_excel(p, sheet_name=SHEET, dtype={ID_COLUMN: str})
        else:
            table = pd.read_csv(p, dtype={ID_COLUMN: str})
    except InputError:
        raise
    except Exception as exc:  # pandas/openpyxl raise many types on bad files
        raise InputError(p, f"cannot read clinical table: {exc}") from exc
    if ID_COLUMN not in table.columns:
        columns = ", ".join(map(str, table.columns[:10]))
        raise InputError(p, f"no {ID_COLUMN} column; columns: {columns}")
    return table


def clinical_ids(path: str | Path) -> set[str]:
    """The ``TCIA_ID`` values of a clinical table (see :func:`read_clinical_frame`)."""
    table = read_clinical_frame(path)
    return {str(v).strip() for v in table[ID_COLUMN].dropna()}
