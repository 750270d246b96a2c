"""Schema-driven encoding of clinical columns into a numeric design matrix with named features.

* binary → 0/1 (the schema's first code is 0, e.g. ``Sex``: 1 = female);
* ordinal → the code's rank in the schema's increasing order (0, 1, 2, ...);
* categorical → one-hot, one feature ``column=level`` per level seen in the training rows
  except the reference level (the most frequent one in the training rows);
* numeric → float; ``AFP`` on a log scale, ``log10(1 + ng/mL)``.

Missing cells (and unknown values, which the table reader already reported) become NaN; so does
a categorical level never seen in the training rows. Imputation happens later, in-fold.
An :class:`Encoder` is fitted on training rows only and round-trips through JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from smoothseg.clinical.column_spec import CodeValue
from smoothseg.clinical.schema import column
from smoothseg.clinical.table import ClinicalTable, EncodableKind

#: Numeric columns encoded as ``log10(1 + x)``.
LOG10P1_COLUMNS = frozenset({"AFP"})
LOG10P1 = "log10(1+x)"
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ColumnEncoding:
    """How one column becomes features.

    Attributes:
        name: Column name.
        kind: Column kind.
        levels: binary: (code for 0, code for 1); ordinal: codes in increasing order (value =
            rank); categorical: the levels that get a feature; numeric: empty.
        reference: Categorical reference level (all its features 0), else ``None``.
        transform: ``"log10(1+x)"`` or empty.

    """

    name: str
    kind: EncodableKind
    levels: tuple[CodeValue, ...] = ()
    reference: CodeValue | None = None
    transform: str = ""

    @property
    def features(self) -> tuple[str, ...]:
        """Names of the features this column produces."""
        if self.kind == "categorical":
            return tuple(f"{self.name}={level}" for level in self.levels)
        return (self.name,)

    def encode(self, values: npt.NDArray[Any]) -> F64:
        """Encode one column's values (object codes or float) into ``[n, len(features)]``."""
        n = len(values)
        if self.kind == "numeric":
            x = np.asarray(values, dtype=np.float64).copy()
            if self.transform == LOG10P1:
                bad = x < 0
                x = np.log10(1.0 + np.where(bad, 0.0, x))
                x[bad] = np.nan
            return x.reshape(n, 1)
        if self.kind == "categorical":
            out = np.zeros((n, len(self.levels)))
            known = {*self.levels, self.reference}
            for i, v in enumerate(values):
                if v is None or v not in known:
                    out[i] = np.nan
                elif v in self.levels:
                    out[i, self.levels.index(v)] = 1.0
            return out
        rank = {level: float(r) for r, level in enumerate(self.levels)}
        return np.array([rank.get(v, np.nan) for v in values]).reshape(n, 1)

    def _label(self, value: CodeValue) -> str:
        try:
            spec = column(self.name)
            text = spec.meaning(value)
        except KeyError:
            return str(value)
        return text if isinstance(value, str) and value == text else f"{value} ({text})"

    def meaning(self) -> str:
        """One line on how the column is encoded."""
        if self.kind == "binary":
            return f"0 = {self._label(self.levels[0])}, 1 = {self._label(self.levels[1])}"
        if self.kind == "ordinal":
            return ", ".join(f"{r} = {v}" for r, v in enumerate(self.levels))
        if self.kind == "categorical":
            return f"one-hot, reference {self.reference}"
        return self.transform or "as is"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "kind": self.kind,
            "levels": list(self.levels),
            "reference": self.reference,
            "transform": self.transform,
            "features": list(self.features),
            "meaning": self.meaning(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnEncoding:
        """Inverse of :meth:`to_json`."""
        return cls(
            data["name"], data["kind"], tuple(data["levels"]), data["reference"], data["transform"]
        )


@dataclass(frozen=True)
class Encoder:
    """Encodings of the candidate columns, fitted on training rows."""

    columns: tuple[ColumnEncoding, ...]

    @property
    def feature_names(self) -> tuple[str, ...]:
        """All feature names, column by column."""
        return tuple(f for c in self.columns for f in c.features)

    @property
    def feature_columns(self) -> tuple[str, ...]:
        """The column each feature comes from."""
        return tuple(c.name for c in self.columns for _ in c.features)

    @property
    def feature_kinds(self) -> tuple[str, ...]:
        """The kind of the column each feature comes from."""
        return tuple(c.kind for c in self.columns for _ in c.features)

    def transform(self, table: ClinicalTable, rows: npt.NDArray[np.intp]) -> F64:
        """Design matrix ``[len(rows), n_features]`` of table rows (NaN: missing)."""
        blocks = [c.encode(table.values[c.name][rows]) for c in self.columns]
        if not blocks:
            return np.zeros((len(rows), 0))
        return np.concatenate(blocks, axis=1)

    def to_json(self) -> list[dict[str, Any]]:
        """JSON-ready list, one entry per column."""
        return [c.to_json() for c in self.columns]

    @classmethod
    def from_json(cls, data: Sequence[dict[str, Any]]) -> Encoder:
        """Inverse of :meth:`to_json`."""
        return cls(tuple(ColumnEncoding.from_json(d) for d in data))


def fit_encoder(
    table: ClinicalTable,
    columns: Sequence[str],
    rows: npt.NDArray[np.intp],
    *,
    raw_afp: bool = False,
) -> Encoder:
    """Fit the encodings of ``columns`` on table ``rows`` (training rows only).

    Only categorical columns learn from the rows: the levels seen and the reference level
    (the most frequent; ties go to the earlier code). ``raw_afp`` keeps AFP in ng/mL (the
    paper's reference code) instead of ``log10(1 + x)``.
    """
    out = []
    for name in columns:
        ctype = table.types[name]
        if ctype.kind == "categorical":
            counts = Counter(v for v in table.values[name][rows] if v is not None)
            seen = [v for v in ctype.codes if counts[v] > 0]
            reference = max(seen, key=lambda v: counts[v]) if seen else None
            levels = tuple(v for v in seen if v != reference)
            out.append(ColumnEncoding(name, "categorical", levels, reference))
        elif ctype.kind == "numeric":
            transform = LOG10P1 if name in LOG10P1_COLUMNS and not raw_afp else ""
            out.append(ColumnEncoding(name, "numeric", transform=transform))
        else:
            out.append(ColumnEncoding(name, ctype.kind, ctype.codes))
    return Encoder(tuple(out))
