"""Response categories: RECIST 1.1, mRECIST and volumetric, each with the rule that decided it.

RECIST 1.1 (Eisenhauer et al. 2009): target lesions are up to :data:`MAX_TARGETS` measurable
liver lesions (longest axial diameter >= :data:`MEASURABLE_MM`), largest first; the rest are
non-target. CR: every lesion gone; PD: a new lesion, or the target sum up >= 20 % and >= 5 mm;
PR: target sum down >= 30 %; otherwise SD. mRECIST (Lencioni & Llovet 2010) applies the same
to the *viable* (arterially enhancing) diameters of targets that enhance at baseline; CR means
no enhancing tissue left in any lesion; PD needs a >= 20 % increase. Volumetric: total tumor
volume down >= 65 % (PR) or up >= 73 % (PD), the volumes of a sphere whose diameter changes by
-30 % / +20 %. A new lesion is an unmatched follow-up lesion >= :data:`MEASURABLE_MM`.
"""

from __future__ import annotations

from dataclasses import dataclass

from smoothseg.response.match import Match
from smoothseg.response.measure import Lesion

MEASURABLE_MM = 10.0
MAX_TARGETS = 2
PR_CHANGE = -0.30
PD_CHANGE = 0.20
PD_ABSOLUTE_MM = 5.0
VOLUME_PR = -0.65
VOLUME_PD = 0.73


@dataclass(frozen=True)
class Category:
    """A response category with its numbers and the rule that decided it."""

    criterion: str
    category: str
    rule: str
    baseline_sum: float
    followup_sum: float
    change_pct: float | None
    targets: tuple[int, ...]


def new_lesions(matches: list[Match], follow: list[Lesion]) -> list[int]:
    """Match numbers of unmatched follow-up lesions large enough to count as new."""
    return [
        m.number
        for m in matches
        if m.kind == "new" and max(follow[f - 1].diameter_mm for f in m.followup) >= MEASURABLE_MM
    ]


def _followup_value(
    matches: list[Match], target: int, follow: list[Lesion], viable: bool, seen: set[int]
) -> float:
    total = 0.0
    for m in matches:
        if target in m.baseline:
            for f in m.followup:
                if f not in seen:  # a merged lesion counts once
                    seen.add(f)
                    les = follow[f - 1]
                    total += (les.viable_diameter_mm or 0.0) if viable else les.diameter_mm
    return total


def _by_sum(
    name: str,
    base_sum: float,
    follow_sum: float,
    targets: tuple[int, ...],
    new: list[int],
    all_gone: bool,
    absolute_mm: float | None,
) -> Category:
    change = (follow_sum - base_sum) / base_sum if base_sum > 0 else None
    pct = None if change is None else round(100 * change, 1)

    def cat(category: str, rule: str) -> Category:
        return Category(
            name, category, rule, round(base_sum, 1), round(follow_sum, 1), pct, targets
        )

    if new:
        return cat("PD", f"new lesion(s) {new} (>= {MEASURABLE_MM:g} mm)")
    if all_gone:
        return cat("CR", "no lesion (mRECIST: no enhancing tissue) left at follow-up")
    if change is None:
        return cat("non-CR/non-PD", "no measurable target lesion at baseline")
    if change >= PD_CHANGE and (absolute_mm is None or follow_sum - base_sum >= absolute_mm):
        extra = "" if absolute_mm is None else f" and >= {absolute_mm:g} mm"
        return cat("PD", f"target sum up {pct} % (>= {100 * PD_CHANGE:g} %{extra})")
    if change <= PR_CHANGE:
        return cat("PR", f"target sum down {-change * 100:.1f} % (>= {-100 * PR_CHANGE:g} %)")
    return cat("SD", f"target sum change {pct} % (neither PR nor PD)")


def recist(base: list[Lesion], follow: list[Lesion], matches: list[Match]) -> Category:
    """RECIST 1.1 category (baseline = nadir: two time points only)."""
    order = sorted(base, key=lambda les: -les.diameter_mm)
    targets = tuple(les.index for les in order if les.diameter_mm >= MEASURABLE_MM)[:MAX_TARGETS]
    seen: set[int] = set()
    base_sum = sum(base[t - 1].diameter_mm for t in targets)
    follow_sum = sum(_followup_value(matches, t, follow, False, seen) for t in targets)
    return _by_sum(
        "RECIST 1.1",
        base_sum,
        follow_sum,
        targets,
        new_lesions(matches, follow),
        bool(base) and not follow,
        PD_ABSOLUTE_MM,
    )


def mrecist(base: list[Lesion], follow: list[Lesion], matches: list[Match]) -> Category | None:
    """MRECIST category on viable diameters (None without arterial phases)."""
    if any(les.viable_diameter_mm is None for les in base + follow):
        return None
    order = sorted(base, key=lambda les: -(les.viable_diameter_mm or 0.0))
    targets = tuple(
        les.index
        for les in order
        if les.diameter_mm >= MEASURABLE_MM and (les.viable_diameter_mm or 0.0) >= MEASURABLE_MM
    )[:MAX_TARGETS]
    seen: set[int] = set()
    base_sum = sum(base[t - 1].viable_diameter_mm or 0.0 for t in targets)
    follow_sum = sum(_followup_value(matches, t, follow, True, seen) for t in targets)
    gone = bool(base) and all((les.viable_volume_ml or 0.0) == 0.0 for les in follow)
    return _by_sum(
        "mRECIST", base_sum, follow_sum, targets, new_lesions(matches, follow), gone, None
    )


def volumetric(base: list[Lesion], follow: list[Lesion], matches: list[Match]) -> Category:
    """Volumetric category on the total tumor volume (ml)."""
    b = sum(les.volume_ml for les in base)
    f = sum(les.volume_ml for les in follow)
    change = (f - b) / b if b > 0 else None
    pct = None if change is None else round(100 * change, 1)
    new = new_lesions(matches, follow)

    def cat(category: str, rule: str) -> Category:
        return Category("volumetric", category, rule, round(b, 2), round(f, 2), pct, ())

    if new:
        return cat("PD", f"new lesion(s) {new}")
    if b > 0 and f == 0:
        return cat("CR", "no tumor volume left")
    if change is None:
        return cat("non-CR/non-PD", "no tumor at baseline")
    if change >= VOLUME_PD:
        return cat("PD", f"volume up {pct} % (>= {100 * VOLUME_PD:g} %)")
    if change <= VOLUME_PR:
        return cat("PR", f"volume down {-change * 100:.1f} % (>= {-100 * VOLUME_PR:g} %)")
    return cat("SD", f"volume change {pct} % (neither PR nor PD)")
