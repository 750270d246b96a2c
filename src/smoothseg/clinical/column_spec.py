"""One column of a clinical table: :class:`ColumnSpec`, its :class:`Code` values, and helpers.

The types :mod:`smoothseg.clinical.schema` declares the HCC-TACE-Seg table with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["id", "binary", "ordinal", "categorical", "numeric"]
ColumnGroup = Literal[
    "id",
    "timing",
    "outcome",
    "demographic",
    "risk_factor",
    "pathology",
    "liver_function",
    "tumor_imaging",
    "lab",
    "staging",
    "treatment",
    "response",
]
PandasDtype = Literal["str", "int64", "float64"]
CodeValue = int | str

#: Rows (patients) of the real table the counts below refer to.
REAL_N_ROWS = 105


@dataclass(frozen=True)
class Code:
    """One allowed value of a coded column.

    Attributes:
        value: The value as stored in the table (int or exact string).
        meaning: What it means.
        observed: Whether the value occurs in the real table (``False`` for values the coding
            allows but no patient has, e.g. CLIP score 6).

    """

    value: CodeValue
    meaning: str
    observed: bool = True


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the clinical table.

    Attributes:
        name: Exact column header.
        kind: ``id``, ``binary``, ``ordinal`` (codes listed in increasing order), ``categorical``
            or ``numeric``.
        description: The glossary sheet's text for the column.
        group: What the column is about.
        dtype: pandas dtype of the column as ``pandas.read_excel`` reads the real file.
        codes: Allowed values (binary: negative then positive; ordinal: increasing).
        unit: Unit of a numeric column.
        real_missing: Missing cells in the real table (out of :data:`REAL_N_ROWS`).
        missing_marker: Text the real file stores for a missing value (``None``: empty cell).
        observed_range: Minimum and maximum in the real table (numeric columns).
        post_treatment: Known only after the TACE procedure.
        imaging_extent: Measures tumor extent on baseline imaging.
        derived_from: Columns this one is computed from.
        paper_feature: Among the 15 features of the paper's TLVR regression (Table A1).
        note: Extra facts learnt from the data (inferred units, codings).

    """

    name: str
    kind: ColumnKind
    description: str
    group: ColumnGroup
    dtype: PandasDtype
    codes: tuple[Code, ...] = ()
    unit: str = ""
    real_missing: int = 0
    missing_marker: str | None = None
    observed_range: tuple[float, float] | None = None
    post_treatment: bool = False
    imaging_extent: bool = False
    derived_from: tuple[str, ...] = ()
    paper_feature: bool = False
    note: str = ""

    @property
    def values(self) -> tuple[CodeValue, ...]:
        """All allowed code values, in order."""
        return tuple(c.value for c in self.codes)

    @property
    def observed_values(self) -> tuple[CodeValue, ...]:
        """Code values that occur in the real table."""
        return tuple(c.value for c in self.codes if c.observed)

    def meaning(self, value: CodeValue) -> str:
        """The meaning of a code value.

        Raises:
            KeyError: ``value`` is not a code of this column.

        """
        for c in self.codes:
            if c.value == value:
                return c.meaning
        raise KeyError(f"{value!r} is not a code of column {self.name!r}; valid: {self.values}")


YN = "Y = 1 N = 0"
NO_YES = (Code(0, "no"), Code(1, "yes"))


def yn_column(
    name: str,
    group: ColumnGroup,
    description: str = YN,
    *,
    paper_feature: bool = False,
    note: str = "",
) -> ColumnSpec:
    """A binary (no = 0, yes = 1) column of int64 values."""
    return ColumnSpec(
        name, "binary", description, group, "int64", NO_YES, paper_feature=paper_feature, note=note
    )


def stage_codes(
    prefix: str, labels: tuple[str, ...], unobserved: tuple[str, ...] = ()
) -> tuple[Code, ...]:
    """Codes ``<prefix><label>`` meaning "stage <label>"; ``unobserved`` ones absent in the data."""
    return tuple(Code(f"{prefix}{s}", f"stage {s}", s not in unobserved) for s in labels)
