"""Plain-language warnings about a response assessment (what a reader should double-check).

Each warning names the lesion by its match number (the same number at both time points) and
says why the category may be less certain: a poor registration, a low-confidence or
many-to-one match, an equivocal small new lesion, lipiodol inside a measured lesion, no
measurable target, or mRECIST not assessed for want of arterial phases.
"""

from __future__ import annotations

from smoothseg.response.criteria import MEASURABLE_MM, Category
from smoothseg.response.match import Match
from smoothseg.response.measure import Lesion
from smoothseg.response.register import Registration

#: Liver Dice after registration under which matching is flagged as unreliable.
MIN_LIVER_DICE = 0.8
#: Match confidence under which a match is flagged.
MIN_CONFIDENCE = 0.5


def response_warnings(
    registration: Registration,
    matches: list[Match],
    baseline: list[Lesion],
    followup: list[Lesion],
    categories: dict[str, Category],
) -> list[str]:
    """Warnings about one comparison, most important first."""
    out: list[str] = []
    reg = registration
    if reg.liver_dice_after < MIN_LIVER_DICE:
        out.append(
            f"the livers agree poorly after registration (Dice {reg.liver_dice_after:.2f} < "
            f"{MIN_LIVER_DICE:g}): lesion matching may be wrong; check the registration figure"
        )
    if reg.liver_dice_after < reg.liver_dice_before:
        out.append(
            f"registration lowered the liver overlap (Dice {reg.liver_dice_before:.2f} → "
            f"{reg.liver_dice_after:.2f})"
        )
    for m in matches:
        if m.baseline and m.followup and m.confidence < MIN_CONFIDENCE:
            out.append(f"lesion #{m.number} is matched with low confidence ({m.confidence:.2f})")
        if m.kind in ("merged", "split", "complex"):
            out.append(
                f"lesion #{m.number} {m.kind} between time points (baseline "
                f"{list(m.baseline)}, follow-up {list(m.followup)}); each follow-up lesion is "
                "counted once in the sums"
            )
        if m.kind == "new":
            size = max(followup[f - 1].diameter_mm for f in m.followup)
            if size < MEASURABLE_MM:
                out.append(
                    f"lesion #{m.number} is new but {size:.1f} mm (< {MEASURABLE_MM:g} mm): "
                    "equivocal, not counted as a new lesion; confirm on the next scan"
                )
        lipiodol = sum(followup[f - 1].lipiodol_ml for f in m.followup)
        if lipiodol > 0:
            out.append(
                f"lesion #{m.number} holds lipiodol ({lipiodol:.2f} mL above 300 HU at "
                "follow-up): its RECIST diameter includes the deposit; mRECIST excludes it"
            )
    recist = categories.get("recist")
    if recist is not None and not recist.targets and baseline:
        out.append(f"no measurable target lesion (>= {MEASURABLE_MM:g} mm) at baseline")
    if "mrecist" not in categories:
        out.append("no arterial phases given: mRECIST (viable tumor) is not assessed")
    return out
