"""Tumor-size strata of the paper's Table 4: tumors ≥ 10 cm versus < 10 cm in diameter.

Each case gets one group from its size and a *rule*, and the rule is written into every output:

* ``mask`` (default): the largest reference lesion's maximal 3D diameter, measured on the
  reference mask with its real voxel spacing (lesions are 26-connected components; diameter as in
  :func:`smoothseg.measure.lesion_diameters_mm`, centre to centre).
* ``clinical``: the clinical table's ``Tr_Size`` (HCC-TACE-Seg: "tumor size (cm)", the largest
  tumor diameter, missing for about half the patients), matched on the patient id
  (``TCIA_ID``). A patient without a value goes to the group ``unknown``.
* ``clinical-then-mask``: ``Tr_Size`` where the table has it, the mask otherwise.

Whatever the rule, a case whose reference has no tumor voxel is in the group ``no tumor``
(tumor metrics of such cases are not comparable with the others). A size exactly at the
threshold counts as large (``≥``), as in "≥ 10 cm" HCC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

import pandas as pd

from smoothseg.datasets.clinical_ids import ID_COLUMN, read_clinical_frame
from smoothseg.errors import InputError

SizeRule = Literal["mask", "clinical", "clinical-then-mask"]
SIZE_RULES: tuple[str, ...] = get_args(SizeRule)
#: Paper Table 4 threshold.
DEFAULT_SIZE_THRESHOLD_CM = 10.0
#: Clinical column with the largest tumor diameter, and its unit (``smoothseg.clinical.schema``).
TR_SIZE_COLUMN = "Tr_Size"
TR_SIZE_UNIT = "cm"
NO_TUMOR = "no tumor"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class SizeStratum:
    """The size group of one case.

    Attributes:
        group: ``≥10 cm``, ``<10 cm`` (for the default threshold), ``no tumor`` or ``unknown``.
        size_cm: The size the group was decided from (``None``: no tumor or no value).
        source: ``mask``, ``clinical`` or ``none``.

    """

    group: str
    size_cm: float | None
    source: str


def size_group_names(threshold_cm: float = DEFAULT_SIZE_THRESHOLD_CM) -> tuple[str, str]:
    """``(large, small)`` group names, e.g. ``('≥10 cm', '<10 cm')``."""
    return f"≥{threshold_cm:g} cm", f"<{threshold_cm:g} cm"


def all_group_names(threshold_cm: float = DEFAULT_SIZE_THRESHOLD_CM) -> tuple[str, ...]:
    """Every group a case can fall in, in reporting order."""
    return (*size_group_names(threshold_cm), NO_TUMOR, UNKNOWN)


def size_group(size_cm: float, threshold_cm: float = DEFAULT_SIZE_THRESHOLD_CM) -> str:
    """The large or small group of a tumor of ``size_cm`` (``≥`` threshold is large)."""
    large, small = size_group_names(threshold_cm)
    return large if size_cm >= threshold_cm else small


def check_size_rule(rule: str) -> SizeRule:
    """``rule`` if it is a known size rule.

    Raises:
        InputError: unknown rule (the message lists the valid ones).

    """
    if rule not in SIZE_RULES:
        raise InputError(
            "--size-rule", f"unknown size rule {rule!r}; valid: {', '.join(SIZE_RULES)}"
        )
    return cast(SizeRule, rule)


def describe_size_rule(
    rule: SizeRule,
    threshold_cm: float = DEFAULT_SIZE_THRESHOLD_CM,
    clinical: str | Path | None = None,
) -> str:
    """One line recorded in every output that says how cases were grouped."""
    large, small = size_group_names(threshold_cm)
    mask = "largest reference lesion's maximal 3D diameter (26-connected, real spacing)"
    clin = f"clinical {TR_SIZE_COLUMN} ({TR_SIZE_UNIT}) from {clinical or '?'} by patient id"
    source = {
        "mask": mask,
        "clinical": f"{clin}; missing value → {UNKNOWN}",
        "clinical-then-mask": f"{clin}; missing value → {mask}",
    }[rule]
    return f"{rule}: {large} vs {small} by {source}; reference without tumor → {NO_TUMOR}"


def read_clinical_sizes_cm(path: str | Path) -> dict[str, float | None]:
    """``TCIA_ID`` → ``Tr_Size`` in cm (``None`` when missing) from a clinical table.

    Reads the HCC-TACE-Seg workbook (sheet "data table") or a CSV with the same columns.

    Raises:
        InputError: unreadable table, or no ``TCIA_ID`` / ``Tr_Size`` column.

    """
    p = Path(path).expanduser()
    table = read_clinical_frame(p)
    if TR_SIZE_COLUMN not in table.columns:
        raise InputError(p, f"no {TR_SIZE_COLUMN} column (needed for --size-rule clinical)")
    sizes = pd.to_numeric(table[TR_SIZE_COLUMN], errors="coerce")
    out: dict[str, float | None] = {}
    for raw_id, value in zip(table[ID_COLUMN], sizes, strict=True):
        if isinstance(raw_id, str) and raw_id.strip():
            out[raw_id.strip()] = None if math.isnan(value) else float(value)
    return out


def assign_stratum(
    *,
    patient_id: str,
    largest_diameter_mm: float,
    has_tumor: bool,
    rule: SizeRule = "mask",
    clinical_sizes_cm: Mapping[str, float | None] | None = None,
    threshold_cm: float = DEFAULT_SIZE_THRESHOLD_CM,
) -> SizeStratum:
    """The size group of one case under ``rule`` (see module docs).

    Args:
        patient_id: Key into ``clinical_sizes_cm`` (``TCIA_ID``).
        largest_diameter_mm: Largest reference lesion diameter (mm).
        has_tumor: Whether the reference has any tumor voxel.
        rule: ``mask``, ``clinical`` or ``clinical-then-mask``.
        clinical_sizes_cm: From :func:`read_clinical_sizes_cm` (needed by clinical rules).
        threshold_cm: Large/small threshold.

    Raises:
        InputError: a clinical rule without a clinical table.

    """
    if rule != "mask" and clinical_sizes_cm is None:
        raise InputError("--clinical", f"--size-rule {rule} needs a clinical table (--clinical)")
    if not has_tumor:
        return SizeStratum(NO_TUMOR, None, "none")
    if rule != "mask" and clinical_sizes_cm is not None:
        value = clinical_sizes_cm.get(patient_id)
        if value is not None:
            return SizeStratum(size_group(value, threshold_cm), value, "clinical")
        if rule == "clinical":
            return SizeStratum(UNKNOWN, None, "none")
    size_cm = largest_diameter_mm / 10.0
    return SizeStratum(size_group(size_cm, threshold_cm), size_cm, "mask")
