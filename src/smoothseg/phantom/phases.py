"""Contrast phases for domain-randomized phantoms: per-case tissue HU ranges.

Each phase widens or shifts the portal-venous ranges of :data:`~smoothseg.phantom.tissues.HU_RANGES`
for the tissues that take up contrast (liver ~40-150 HU across phases, vessels, spleen, kidneys).
Tumors are drawn relative to the liver: hypo-, iso- or hyper-dense, with optional rim
enhancement (arterial/portal) and a necrotic core (see :mod:`smoothseg.phantom.randomize`).
"""

from __future__ import annotations

import numpy as np

from smoothseg.phantom.tissues import HU_RANGES, Tissue

Range = tuple[float, float]

#: Tissue HU ranges that differ from the portal-venous defaults, per phase.
PHASE_HU: dict[str, dict[Tissue, Range]] = {
    "non-contrast": {
        Tissue.LIVER: (40.0, 70.0),
        Tissue.SPLEEN: (35.0, 55.0),
        Tissue.BLOOD: (30.0, 50.0),
        Tissue.AORTA: (30.0, 50.0),
        Tissue.IVC: (30.0, 50.0),
        Tissue.PORTAL_VEIN: (30.0, 50.0),
        Tissue.HEPATIC_VEIN: (30.0, 50.0),
        Tissue.SPLENIC_VEIN: (30.0, 50.0),
        Tissue.HEART: (30.0, 50.0),
        Tissue.KIDNEY_CORTEX: (25.0, 40.0),
        Tissue.KIDNEY_MEDULLA: (25.0, 40.0),
        Tissue.PANCREAS: (30.0, 50.0),
    },
    "arterial": {
        Tissue.LIVER: (60.0, 90.0),
        Tissue.SPLEEN: (80.0, 160.0),
        Tissue.AORTA: (250.0, 400.0),
        Tissue.BLOOD: (200.0, 350.0),
        Tissue.PORTAL_VEIN: (90.0, 160.0),
        Tissue.HEPATIC_VEIN: (50.0, 80.0),
        Tissue.IVC: (50.0, 90.0),
        Tissue.KIDNEY_CORTEX: (180.0, 280.0),
        Tissue.KIDNEY_MEDULLA: (60.0, 100.0),
        Tissue.PANCREAS: (100.0, 140.0),
    },
    "portal-venous": {Tissue.LIVER: (90.0, 150.0)},
    "delayed": {
        Tissue.LIVER: (70.0, 100.0),
        Tissue.SPLEEN: (70.0, 100.0),
        Tissue.AORTA: (90.0, 130.0),
        Tissue.BLOOD: (90.0, 130.0),
        Tissue.PORTAL_VEIN: (90.0, 130.0),
        Tissue.HEPATIC_VEIN: (90.0, 130.0),
        Tissue.IVC: (90.0, 130.0),
        Tissue.KIDNEY_CORTEX: (120.0, 170.0),
        Tissue.KIDNEY_MEDULLA: (150.0, 250.0),
    },
}
PHASES: tuple[str, ...] = tuple(PHASE_HU)

#: Tumor-to-liver appearance: (HU offset range, rim offset range, washout) per phase.
#: Offsets are drawn per tumor; the sign picks hypo/iso/hyper.
TUMOR_OFFSET_HU: dict[str, Range] = {
    "non-contrast": (-30.0, 10.0),
    "arterial": (-40.0, 60.0),
    "portal-venous": (-60.0, 15.0),
    "delayed": (-50.0, 5.0),
}


def phase_hu(phase: str, rng: np.random.Generator) -> dict[Tissue, float]:
    """One case's tissue values in ``phase`` (unknown phase → ``ValueError``)."""
    if phase not in PHASE_HU:
        raise ValueError(f"unknown phase {phase!r}; choose from {', '.join(PHASES)}")
    ranges = {**HU_RANGES, **PHASE_HU[phase]}
    return {t: float(rng.uniform(*ranges[t])) for t in Tissue if t in ranges}
