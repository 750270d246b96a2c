"""Treatment-response readings (EASL, RECIST, mRECIST by up to three readers) for a phantom.

Baseline readings measure the phantom's real tumors: RECIST sums the diameters of the two
largest tumors of at least 1 cm (RECIST 1.1 allows two targets per organ); mRECIST sums their
viable (enhancing) parts; EASL adds the enhancing areas (mm^2). The follow-up is drawn from an
mRECIST response category (CR 22 %, PR 42 %, SD 30 %, PD 6 %, the real table's rates); whole
tumors shrink less than their viable part. Each reader measures with 8 % noise and rounds like
the real table (reader 2 to whole mm); response codes follow from each reader's own ratio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from smoothseg.phantom.tumors import Tumor

READINGS: tuple[tuple[str, int], ...] = (
    ("EASL", 1),
    ("RECIST", 1),
    ("RECIST", 2),
    ("RECIST", 3),
    ("mRECIST", 1),
    ("mRECIST", 2),
    ("mRECIST", 3),
)
#: All readings missing (no follow-up imaging) / one reading block missing.
P_ALL_MISSING = 6 / 105
P_BLOCK_MISSING = 0.03
_CATEGORY_P = (0.22, 0.42, 0.30, 0.06)
READER_NOISE = 0.08


def recist_code(baseline: float, follow_up: float) -> int:
    """RECIST/mRECIST code: 1 CR (nothing left), 2 PR (<= 70 %), 4 PD (>= 120 %), else 3 SD."""
    if follow_up <= 0:
        return 1
    ratio = follow_up / baseline
    if ratio <= 0.7:
        return 2
    return 4 if ratio >= 1.2 else 3


def easl_code(follow_up: float) -> int:
    """EASL code as in the real table: 3 when no enhancing tumor remains, else 4."""
    return 3 if follow_up <= 0 else 4


def _round(value: float, reader: int, criterion: str) -> float:
    if criterion == "EASL":
        return float(np.round(value, 2))
    return float(np.round(value, 0 if reader == 2 else 1))


def response_columns(
    rng: np.random.Generator, tumors: tuple[Tumor, ...], occult_mm: float
) -> dict[str, Any]:
    """The 21 response columns of one patient (``None`` where missing)."""
    targets = [t for t in sorted(tumors, key=lambda t: -t.diameter_mm) if t.diameter_mm >= 10][:2]
    diam = [t.diameter_mm for t in targets] or [max(occult_mm, 10.0)]
    kinds = [t.kind for t in targets] or ["hypodense"]
    viable = [
        rng.uniform(0.6, 0.9) if k == "heterogeneous" else rng.uniform(0.92, 1.0) for k in kinds
    ]
    size = {
        "RECIST": float(sum(diam)),
        "mRECIST": float(sum(d * v for d, v in zip(diam, viable, strict=True))),
        "EASL": float(
            sum(d * d * rng.uniform(0.75, 0.95) * v * v for d, v in zip(diam, viable, strict=True))
        ),
    }
    category = int(rng.choice(4, p=_CATEGORY_P)) + 1
    viable_ratio = (0.0, rng.uniform(0.05, 0.68), rng.uniform(0.72, 1.18), rng.uniform(1.22, 1.8))[
        category - 1
    ]
    whole_lo_hi = ((0.55, 1.0), (0.6, 1.05), (0.8, 1.15), (1.15, 1.6))[category - 1]
    ratio = {
        "RECIST": float(rng.uniform(*whole_lo_hi)),
        "mRECIST": float(viable_ratio),
        "EASL": float(viable_ratio**2 * rng.uniform(0.8, 1.2)),
    }
    none_at_all = rng.uniform() < P_ALL_MISSING
    out: dict[str, Any] = {}
    for criterion, reader in READINGS:
        prefix = f"{reader}_{criterion}"
        missing = none_at_all or rng.uniform() < P_BLOCK_MISSING
        bl = size[criterion] * np.exp(rng.normal(0.0, READER_NOISE))
        fu = size[criterion] * ratio[criterion] * np.exp(rng.normal(0.0, READER_NOISE))
        bl, fu = _round(bl, reader, criterion), _round(fu, reader, criterion)
        code = easl_code(fu) if criterion == "EASL" else recist_code(bl, fu)
        out[f"{prefix}_BL"] = None if missing else bl
        out[f"{prefix}_FU"] = None if missing else fu
        out[prefix] = None if missing else float(code)
    return out
