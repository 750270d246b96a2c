"""Cases with their TLVR: the regression's targets, read from a cohort manifest CSV.

Any CSV with ``case_id`` and ``tlvr`` columns works (e.g. a phantom cohort's
``manifest.csv``); ``patient_id`` is optional. A prepared cache manifest is read by
:func:`smoothseg.datasets.read_manifest` (the CLI does that) and turned into :class:`Case`
objects the same way.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from smoothseg.errors import InputError

REQUIRED = ("case_id", "tlvr")


@dataclass(frozen=True)
class Case:
    """A case of the cohort.

    Attributes:
        case_id: Case id (matched to the clinical table's ``TCIA_ID``).
        tlvr: TLVR of its harmonized label (``None``: undefined, e.g. no liver).
        patient_id: Patient it belongs to (empty: the case id is the patient id).

    """

    case_id: str
    tlvr: float | None
    patient_id: str = ""


def read_cohort_csv(path: str | Path) -> list[Case]:
    """Read ``case_id``, ``tlvr`` (and ``patient_id``) from a CSV or a folder's manifest.csv.

    Raises:
        InputError: missing file or columns, a TLVR that is no number in [0, 1], duplicates.

    """
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "manifest.csv"
    if not p.is_file():
        raise InputError(p, "no such manifest")
    try:
        reader = csv.DictReader(io.StringIO(p.read_text(encoding="utf-8-sig")))
        fields = [f.strip() for f in reader.fieldnames or []]
        rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(p, f"cannot read manifest: {exc}") from exc
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        raise InputError(
            p,
            f"manifest lacks column(s) {', '.join(missing)} (has: {', '.join(fields[:12])}); "
            "give a prepared cache manifest or a CSV with case_id and tlvr",
        )
    cases = []
    for line, row in enumerate(rows, start=2):
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        case_id = cells["case_id"]
        if not case_id:
            raise InputError(p, f"line {line}: empty case_id")
        cases.append(Case(case_id, _tlvr(cells["tlvr"], p, line), cells.get("patient_id", "")))
    return cases


def _tlvr(text: str, path: Path, line: int) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, f"line {line}: tlvr {text!r} is not a number") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InputError(path, f"line {line}: tlvr {value} is not in [0, 1]")
    return value
