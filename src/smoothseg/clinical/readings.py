"""The treatment-response reading columns of the HCC-TACE-Seg table (EASL, RECIST, mRECIST).

Per reader and criterion three columns: the baseline reading, the follow-up reading and the
response code derived from them (:data:`READING_COLUMNS`, in the file's order).
"""

from __future__ import annotations

from smoothseg.clinical.column_spec import Code, ColumnSpec

_READINGS = {
    "EASL": ("EASL (European Association for the Study of the Liver guideline 2018)", "mm2"),
    "RECIST": ("RECIST (Response Evaluation Criteria in Solid Tumor version 1.1)", "mm"),
    "mRECIST": ("mRECIST", "mm"),
}
_RESPONSE = (
    Code(1, "complete response (CR)"),
    Code(2, "partial response (PR)"),
    Code(3, "stable disease (SD)"),
    Code(4, "progressive disease (PD)"),
)
_EASL_RESPONSE = (
    Code(3, "complete response: no enhancing tumor at follow-up"),
    Code(4, "any other response (enhancing tumor remains)"),
)
_READERS = (("EASL", 1), *(("RECIST", r) for r in (1, 2, 3)), *(("mRECIST", r) for r in (1, 2, 3)))
# Per (criterion, reader): observed (min, max) of baseline and follow-up, missing count.
_READING_FACTS: dict[tuple[str, int], tuple[tuple[float, float], tuple[float, float], int]] = {
    ("EASL", 1): ((68.64, 20841.81), (0.0, 22293.98), 9),
    ("RECIST", 1): ((17.3, 253.1), (8.4, 243.9), 9),
    ("RECIST", 2): ((21.0, 294.0), (18.0, 243.0), 9),
    ("RECIST", 3): ((19.2, 247.1), (10.4, 242.0), 10),
    ("mRECIST", 1): ((15.6, 243.9), (0.0, 205.5), 9),
    ("mRECIST", 2): ((15.0, 286.0), (0.0, 169.0), 9),
    ("mRECIST", 3): ((16.7, 247.1), (0.0, 208.5), 10),
}


def _reading_columns(criterion: str, reader: int) -> tuple[ColumnSpec, ...]:
    long, unit = _READINGS[criterion]
    bl_range, fu_range, missing = _READING_FACTS[(criterion, reader)]
    prefix = f"{reader}_{criterion}"
    first = f"{long} reading" if reader == 1 else f"{criterion} reading"
    what = (
        "viable (enhancing) tumor area, product of diameters"
        if criterion == "EASL"
        else "sum of target-lesion diameters"
        + (" (viable, enhancing part)" if criterion == "mRECIST" else "")
    )
    size_note = f"{what} in {unit} (unit inferred from the values)."
    codes = _EASL_RESPONSE if criterion == "EASL" else _RESPONSE
    if criterion == "RECIST":  # no reader scored a complete response by RECIST
        codes = (Code(1, _RESPONSE[0].meaning, observed=False), *_RESPONSE[1:])
    code_note = (
        "Only codes 3 and 4 occur; 3 coincides exactly with a follow-up area of 0."
        if criterion == "EASL"
        else "Codes follow the follow-up/baseline ratio: 0 -> 1, <= 0.7 -> 2, >= 1.2 -> 4, else 3."
    )
    return (
        ColumnSpec(
            f"{prefix}_BL",
            "numeric",
            f"{first} for reader {reader}, baseline study",
            "response",
            "float64",
            unit=unit,
            real_missing=missing,
            observed_range=bl_range,
            imaging_extent=True,
            note=size_note,
        ),
        ColumnSpec(
            f"{prefix}_FU",
            "numeric",
            f"{criterion} reading for reader {reader}, Follow up study",
            "response",
            "float64",
            unit=unit,
            real_missing=missing,
            observed_range=fu_range,
            post_treatment=True,
            note=size_note,
        ),
        ColumnSpec(
            prefix,
            "ordinal",
            f"{criterion} reading for treatment response",
            "response",
            "float64",
            codes,
            real_missing=missing,
            post_treatment=True,
            derived_from=(f"{prefix}_BL", f"{prefix}_FU"),
            note=code_note + " Float dtype only because of missing values.",
        ),
    )


#: The reading columns, in the file's order (they follow the base columns).
READING_COLUMNS: tuple[ColumnSpec, ...] = tuple(
    spec for criterion, reader in _READERS for spec in _reading_columns(criterion, reader)
)
