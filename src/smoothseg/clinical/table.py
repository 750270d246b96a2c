"""Read a clinical table (xlsx sheet "data table" or CSV) and type every cell by the schema.

Every column of :mod:`smoothseg.clinical.schema` is parsed by its kind: coded columns (binary,
ordinal, categorical) to their exact code values, numeric columns to floats. Nothing is dropped
silently and nothing crashes on odd content:

* a cell that is not a code of its column (or not a number, for numeric columns) becomes
  missing and is listed by column and value in :class:`TableReport`;
* a cell that matches a code only loosely (case, spacing, ``Y``/``N`` for 1/0, the code's
  meaning such as ``male``) is recoded and listed too;
* a column the schema does not know is kept, typed by inference (numeric when every value is
  a number, else categorical) and listed as unknown: presets never use it, ``--include`` can;
* schema columns absent from the file are listed.

Rows join to cases through the ``TCIA_ID`` column (:func:`join_ids`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.clinical.cells import (
    ColumnType,
    EncodableKind,
    cell_text,
    infer_type,
    is_missing,
    loose_key,
    parse_coded,
    parse_numeric,
    schema_type,
)
from smoothseg.clinical.features import leakage_flags
from smoothseg.clinical.schema import COLUMN_NAMES, DATA_SHEET, column
from smoothseg.errors import InputError

__all__ = [
    "ID_COLUMN",
    "ClinicalTable",
    "ColumnReport",
    "ColumnType",
    "EncodableKind",
    "IdJoin",
    "TableReport",
    "join_ids",
    "read_clinical_table",
]

ID_COLUMN = "TCIA_ID"


@dataclass(frozen=True)
class ColumnReport:
    """What reading one column found.

    Attributes:
        name: Column header.
        kind: Its kind.
        known: Defined by the schema (else typed by inference).
        n_missing: Missing cells after parsing (unknown values included).
        unknown_values: ``(value, count)`` of cells that are no code / no number (now missing).
        recoded: ``(value as written, code, count)`` of loosely matched cells.
        flags: Leakage flags (post-treatment, imaging extent, derived from imaging extent).

    """

    name: str
    kind: str
    known: bool
    n_missing: int
    unknown_values: tuple[tuple[str, int], ...] = ()
    recoded: tuple[tuple[str, str, int], ...] = ()
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableReport:
    """Everything noticed while reading a table.

    Attributes:
        path: The file.
        n_rows: Patients read (rows with an id).
        columns: One report per typed column, in file order.
        unknown_columns: Headers the schema does not know (typed by inference).
        absent_columns: Schema columns missing from the file.
        renamed_columns: ``(header as written, schema name)`` matched loosely.
        skipped_rows: Rows without an id that still held data (skipped).

    """

    path: str
    n_rows: int
    columns: tuple[ColumnReport, ...]
    unknown_columns: tuple[str, ...] = ()
    absent_columns: tuple[str, ...] = ()
    renamed_columns: tuple[tuple[str, str], ...] = ()
    skipped_rows: int = 0

    def problems(self) -> list[str]:
        """One line per finding worth a reader's attention (empty: a clean table)."""
        out = [
            f"unknown column {c!r} (not in the schema; typed by inference)"
            for c in self.unknown_columns
        ]
        out += [f"schema column {c!r} is absent" for c in self.absent_columns]
        out += [f"column {a!r} read as schema column {b!r}" for a, b in self.renamed_columns]
        if self.skipped_rows:
            out.append(f"{self.skipped_rows} row(s) without {ID_COLUMN} skipped")
        for c in self.columns:
            out += [
                f"{c.name}: unknown value {v!r} x{n} (read as missing)" for v, n in c.unknown_values
            ]
            out += [f"{c.name}: {v!r} x{n} read as {code!r}" for v, code, n in c.recoded]
        return out


@dataclass(frozen=True)
class ClinicalTable:
    """A typed clinical table.

    Attributes:
        path: The file it came from.
        ids: Patient ids (``TCIA_ID``), in file order.
        types: Column types (id column excluded), in file order.
        values: Per column, one entry per row: ``float64`` (NaN missing) for numeric columns,
            an object array of code values (``None`` missing) for coded ones.
        report: What reading found.

    """

    path: Path
    ids: tuple[str, ...]
    types: dict[str, ColumnType]
    values: dict[str, npt.NDArray[Any]]
    report: TableReport

    @property
    def columns(self) -> tuple[str, ...]:
        """Typed column names (id excluded), in file order."""
        return tuple(self.types)

    def rows(self, ids: Iterable[str]) -> npt.NDArray[np.intp]:
        """Row indices of patient ``ids``.

        Raises:
            KeyError: an id that is not in the table.

        """
        where = {pid: i for i, pid in enumerate(self.ids)}
        return np.array([where[i] for i in ids], dtype=np.intp)


def _read_frame(path: Path, sheet: str) -> tuple[list[str], list[list[Any]]]:
    import pandas as pd

    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            sheets = pd.ExcelFile(path).sheet_names
            if sheet not in sheets:
                names = ", ".join(map(str, sheets))
                raise InputError(path, f"no sheet {sheet!r} (sheets: {names})")
            frame = pd.read_excel(path, sheet_name=sheet, dtype=object)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except InputError:
        raise
    except Exception as exc:  # pandas / openpyxl raise many types on bad files
        raise InputError(path, f"cannot read clinical table: {exc}") from exc
    headers = [str(h).strip() for h in frame.columns]
    return headers, [frame.iloc[:, j].tolist() for j in range(frame.shape[1])]


def _match_headers(headers: list[str]) -> tuple[dict[int, str], list[tuple[str, str]]]:
    loose = {loose_key(n): n for n in COLUMN_NAMES}
    names: dict[int, str] = {}
    renamed: list[tuple[str, str]] = []
    taken: set[str] = set()
    for j, h in enumerate(headers):
        if h in COLUMN_NAMES and h not in taken:
            names[j] = h
            taken.add(h)
    for j, h in enumerate(headers):
        if j not in names and loose.get(loose_key(h)) not in (None, *taken):
            names[j] = loose[loose_key(h)]
            taken.add(names[j])
            renamed.append((h, names[j]))
    for j, h in enumerate(headers):
        names.setdefault(j, h)
    return names, renamed


def _idcell_text(cell: Any) -> str:
    return "" if is_missing(cell) else cell_text(cell)


#: A schema column where more than this share of the filled cells cannot be parsed is refused.
MAX_UNPARSEABLE_SHARE = 0.5


def _check_parseable(
    path: Path, name: str, kind: str, n_rows: int, missing: int, unknown: Mapping[str, int]
) -> None:
    """Refuse a column that is mostly unparseable (shifted columns, a wrong table).

    A few unknown values are read as missing and reported (``TableReport.problems``).
    """
    n_unknown = sum(unknown.values())
    filled = n_rows - (missing - n_unknown)
    if n_unknown >= 3 and n_unknown > MAX_UNPARSEABLE_SHARE * filled:
        examples = ", ".join(repr(v) for v, _ in sorted(unknown.items())[:3])
        raise InputError(
            path,
            f"column {name!r}: {n_unknown} of {filled} values cannot be read as {kind} "
            f"(e.g. {examples}); is the column shifted, or is this another table?",
        )


#: No clinical value is this large; a cell beyond it (``1e308``) is a typo or a corrupt table.
MAX_ABS_VALUE = 1e12


def _check_unique_ids(path: Path, ids: tuple[str, ...]) -> None:
    """Refuse ids that repeat, also when they differ only in letter case or spaces.

    The join with cases ignores case (``HCC_005`` matches ``hcc_005``), so two such rows
    would silently compete for the same patient.
    """
    groups: dict[str, list[str]] = {}
    for pid in ids:
        groups.setdefault(pid.strip().casefold(), []).append(pid)
    dupes = [names for names in groups.values() if len(names) > 1]
    if not dupes:
        return
    shown = ", ".join(" / ".join(dict.fromkeys(names)) for names in dupes[:10])
    exact = all(len(set(names)) == 1 for names in dupes)
    how = "" if exact else " (ids differing only in letter case or spaces are the same patient)"
    raise InputError(path, f"duplicate {ID_COLUMN} value(s): {shown}{how}")


def _check_magnitude(path: Path, name: str, values: npt.NDArray[Any], ids: tuple[str, ...]) -> None:
    """Refuse a numeric cell that is infinite or beyond :data:`MAX_ABS_VALUE`."""
    bad = np.flatnonzero(np.isinf(values) | (np.abs(np.nan_to_num(values)) > MAX_ABS_VALUE))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            path,
            f"column {name!r}: value {values[i]:g} of {ids[i]} is not a plausible number "
            f"(beyond ±{MAX_ABS_VALUE:g}); fix the cell or clear it",
        )


def read_clinical_table(path: str | Path, *, sheet: str = DATA_SHEET) -> ClinicalTable:
    """Read and type a clinical table.

    Args:
        path: ``.xlsx`` (sheet ``sheet``) or ``.csv`` with a ``TCIA_ID`` column.
        sheet: Worksheet of an Excel file.

    Raises:
        InputError: unreadable file, no sheet / no ``TCIA_ID`` column, or duplicate ids.

    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(p, "no such clinical table")
    headers, cells = _read_frame(p, sheet)
    names, renamed = _match_headers(headers)
    by_name = {names[j]: cells[j] for j in range(len(headers))}
    if ID_COLUMN not in by_name:
        raise InputError(p, f"no {ID_COLUMN} column; columns: {', '.join(headers[:12])}")
    raw_ids = [_idcell_text(c) for c in by_name[ID_COLUMN]]
    keep = [i for i, pid in enumerate(raw_ids) if pid]
    skipped = sum(
        1
        for i, pid in enumerate(raw_ids)
        if not pid and any(not is_missing(col[i]) for col in by_name.values())
    )
    ids = tuple(raw_ids[i] for i in keep)
    _check_unique_ids(p, ids)
    types: dict[str, ColumnType] = {}
    values: dict[str, npt.NDArray[Any]] = {}
    reports: list[ColumnReport] = []
    unknown_columns: list[str] = []
    for name, col in by_name.items():
        if name == ID_COLUMN:
            continue
        rows = [col[i] for i in keep]
        if name in COLUMN_NAMES:
            ctype = schema_type(column(name))
        else:
            ctype = infer_type(name, rows)
            unknown_columns.append(name)
        parsed = (parse_numeric if ctype.kind == "numeric" else parse_coded)(rows, ctype)
        if ctype.kind == "numeric":
            _check_magnitude(p, name, parsed.values, ids)
        if ctype.known:
            _check_parseable(p, name, ctype.kind, len(rows), parsed.missing, parsed.unknown)
        types[name], values[name] = ctype, parsed.values
        reports.append(
            ColumnReport(
                name=name,
                kind=ctype.kind,
                known=ctype.known,
                n_missing=parsed.missing,
                unknown_values=tuple(sorted(parsed.unknown.items())),
                recoded=tuple((v, c, n) for (v, c), n in sorted(parsed.recoded.items())),
                flags=leakage_flags(name) if ctype.known else (),
            )
        )
    absent = tuple(n for n in COLUMN_NAMES if n not in by_name)
    report = TableReport(
        path=str(p),
        n_rows=len(ids),
        columns=tuple(reports),
        unknown_columns=tuple(unknown_columns),
        absent_columns=absent,
        renamed_columns=tuple(renamed),
        skipped_rows=skipped,
    )
    return ClinicalTable(p, ids, types, values, report)


@dataclass(frozen=True)
class IdJoin:
    """Cases matched to table rows.

    Attributes:
        rows: Case id → the patient id (``TCIA_ID``) of its row.
        missing: Case ids without a clinical row.
        unused: Table ids that no case matched.

    """

    rows: dict[str, str]
    missing: tuple[str, ...]
    unused: tuple[str, ...]


def join_ids(table: ClinicalTable, cases: Sequence[tuple[str, str]]) -> IdJoin:
    """Match cases to rows: by case id, else by patient id, else case-insensitively.

    Args:
        table: The clinical table.
        cases: ``(case_id, patient_id)`` pairs (patient id may be empty).

    """
    exact = set(table.ids)
    folded = {pid.strip().casefold(): pid for pid in table.ids}
    rows: dict[str, str] = {}
    missing: list[str] = []
    for case_id, patient_id in cases:
        for candidate in (case_id, patient_id):
            if candidate and candidate in exact:
                rows[case_id] = candidate
                break
        else:
            hit = folded.get(case_id.strip().casefold()) or folded.get(
                patient_id.strip().casefold() if patient_id else ""
            )
            if hit is None:
                missing.append(case_id)
            else:
                rows[case_id] = hit
    used = set(rows.values())
    return IdJoin(rows, tuple(missing), tuple(pid for pid in table.ids if pid not in used))
