"""Deterministic table files: the clinical workbook (.xlsx), CSV and JSON.

openpyxl stamps the current time into ``docProps/core.xml`` and into every zip entry; the
workbook is therefore rewritten with a fixed timestamp so that the same cohort seed gives a
byte-identical file.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from smoothseg.clinical.schema import COLUMNS, DATA_SHEET, GLOSSARY_SHEET
from smoothseg.io.atomic import atomic_output

#: Timestamp written into the workbook (and its zip entries) instead of "now".
FIXED_TIME = (2020, 1, 1, 0, 0, 0)
_ISO_TIME = "2020-01-01T00:00:00Z"
_STAMP = re.compile(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    return value


def clinical_xlsx_bytes(table: pd.DataFrame) -> bytes:
    """The clinical workbook: sheets "data table" and "glossary" like the real file."""
    from openpyxl import Workbook

    wb = Workbook()
    data = wb.active
    assert data is not None
    data.title = DATA_SHEET
    data.append([c.name for c in COLUMNS])
    for record in table.itertuples(index=False, name=None):
        row = []
        for spec, value in zip(COLUMNS, record, strict=True):
            v = _cell(value)
            row.append(spec.missing_marker if v is None and spec.missing_marker else v)
        data.append(row)
    glossary = wb.create_sheet(GLOSSARY_SHEET)
    for spec in COLUMNS:
        glossary.append([spec.name, spec.description])
    glossary.column_dimensions["A"].width = 30
    glossary.column_dimensions["B"].width = 120
    wb.properties.creator = "smoothseg phantom"
    buf = io.BytesIO()
    wb.save(buf)
    return normalize_zip(buf.getvalue())


def normalize_zip(payload: bytes) -> bytes:
    """Rewrite an OOXML zip with fixed entry times and fixed document timestamps."""
    src = zipfile.ZipFile(io.BytesIO(payload))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _STAMP.sub(rf"\g<1>{_ISO_TIME}\g<3>", data.decode("utf-8")).encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, data)
    return out.getvalue()


def write_bytes(path: Path, payload: bytes, *, overwrite: bool = False) -> Path:
    """Write ``payload`` atomically."""
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(payload)
    return path


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV with Unix line ends, no index, empty cells for missing values."""
    text: str = table.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def json_bytes(obj: Any) -> bytes:
    """Indented JSON with a final newline (NaN written as ``null``)."""
    return (json.dumps(_jsonable(obj), indent=2, allow_nan=False) + "\n").encode("utf-8")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    v = _cell(obj)
    return v
