"""Typing of clinical table cells: the column types and the cell parsers.

Coded columns (binary, ordinal, categorical) parse to their exact code values, numeric columns
to floats. A cell matching a code only loosely (case, spacing, ``Y``/``N`` for 1/0, the code's
meaning such as ``male``) is recoded; a cell that is neither becomes missing and is counted as
an unknown value. Missing markers: empty cells and the texts in :data:`MISSING_TEXTS`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from smoothseg.clinical.column_spec import CodeValue, ColumnSpec

EncodableKind = Literal["binary", "ordinal", "categorical", "numeric"]
#: Cell texts read as missing (compared stripped and lower-cased).
MISSING_TEXTS = frozenset({"", "na", "n/a", "nan", "none", "null", "#n/a"})
_YES_NO_ALIASES = {"y": 1, "yes": 1, "true": 1, "n": 0, "no": 0, "false": 0}


@dataclass(frozen=True)
class ColumnType:
    """How one column is typed.

    Attributes:
        name: Column header.
        kind: ``binary``, ``ordinal``, ``categorical`` or ``numeric``.
        codes: Allowed values of a coded column, in the schema's order (ordinal: increasing).
        spec: The schema's spec, ``None`` for a column the schema does not know (inferred).

    """

    name: str
    kind: EncodableKind
    codes: tuple[CodeValue, ...] = ()
    spec: ColumnSpec | None = None

    @property
    def known(self) -> bool:
        """Whether the schema defines this column."""
        return self.spec is not None


def is_missing(cell: Any, marker: str | None = None) -> bool:
    """Whether a cell is empty, NaN, a missing text, or the column's missing ``marker``."""
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    if isinstance(cell, str):
        text = cell.strip()
        return text.lower() in MISSING_TEXTS or (marker is not None and text == marker)
    try:
        import pandas as pd

        return bool(pd.isna(cell))
    except (TypeError, ValueError):
        return False


def _as_number(cell: Any) -> float | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float | np.integer | np.floating):
        value = float(cell)
    elif isinstance(cell, str):
        try:
            value = float(cell.strip())
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def loose_key(text: str) -> str:
    """Case- and spacing-insensitive key of a text (for loose code matching)."""
    return re.sub(r"[\s_\-]+", "", text.casefold())


def _aliases(ctype: ColumnType) -> dict[str, CodeValue]:
    keys: dict[str, set[CodeValue]] = {}
    spec_codes = ctype.spec.codes if ctype.spec is not None else ()
    for value in ctype.codes:
        keys.setdefault(loose_key(str(value)), set()).add(value)
    for code in spec_codes:
        keys.setdefault(loose_key(code.meaning), set()).add(code.value)
    if tuple(c.meaning for c in spec_codes) == ("no", "yes"):
        for text, value in _YES_NO_ALIASES.items():
            keys.setdefault(text, set()).add(value)
    return {k: next(iter(v)) for k, v in keys.items() if len(v) == 1}


def cell_text(cell: Any) -> str:
    """A cell as text (integral numbers without a decimal point)."""
    number = _as_number(cell)
    if number is not None and number.is_integer() and not isinstance(cell, str):
        return str(int(number))
    return str(cell).strip()


@dataclass
class Parsed:
    """A parsed column: values, missing count, unknown and recoded values with counts."""

    values: npt.NDArray[Any]
    missing: int
    unknown: Counter[str]
    recoded: Counter[tuple[str, str]]


def parse_coded(cells: Sequence[Any], ctype: ColumnType) -> Parsed:
    """Parse a coded column's cells to code values (``None``: missing or unknown)."""
    marker = ctype.spec.missing_marker if ctype.spec is not None else None
    numeric_codes = all(isinstance(v, int) for v in ctype.codes)
    exact = set(ctype.codes)
    aliases = _aliases(ctype)
    out = np.empty(len(cells), dtype=object)
    missing, unknown, recoded = 0, Counter[str](), Counter[tuple[str, str]]()
    for i, cell in enumerate(cells):
        value: CodeValue | None = None
        if is_missing(cell, marker):
            missing += 1
            out[i] = None
            continue
        number = _as_number(cell)
        if numeric_codes and number is not None and number.is_integer():
            value = int(number) if int(number) in exact else None
        elif isinstance(cell, str) and cell.strip() in exact:
            value = cell.strip()
        if value is None:
            value = aliases.get(loose_key(cell_text(cell)))
            if value is not None:
                recoded[(cell_text(cell), str(value))] += 1
        if value is None:
            unknown[cell_text(cell)] += 1
            missing += 1
        out[i] = value
    return Parsed(out, missing, unknown, recoded)


def parse_numeric(cells: Sequence[Any], ctype: ColumnType) -> Parsed:
    """Parse a numeric column's cells to floats (NaN: missing or not a number)."""
    marker = ctype.spec.missing_marker if ctype.spec is not None else None
    out = np.full(len(cells), np.nan)
    missing, unknown = 0, Counter[str]()
    for i, cell in enumerate(cells):
        if is_missing(cell, marker):
            missing += 1
            continue
        number = _as_number(cell)
        if number is None:
            unknown[cell_text(cell)] += 1
            missing += 1
        else:
            out[i] = number
    return Parsed(out, missing, unknown, Counter())


def infer_type(name: str, cells: Sequence[Any]) -> ColumnType:
    """Type a column the schema does not know: numeric if every value is a number.

    Otherwise categorical, with its distinct texts as levels (most frequent first).
    """
    present = [c for c in cells if not is_missing(c)]
    if all(_as_number(c) is not None for c in present):
        return ColumnType(name, "numeric")
    counts = Counter(cell_text(c) for c in present)
    levels = sorted(counts, key=lambda v: (-counts[v], v))
    return ColumnType(name, "categorical", tuple(levels))


def schema_type(spec: ColumnSpec) -> ColumnType:
    """The type of a schema column (its kind and codes)."""
    if spec.kind == "id":
        raise ValueError(f"{spec.name} is the id column, not a typed value column")
    return ColumnType(spec.name, spec.kind, spec.values, spec)
