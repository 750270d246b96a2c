"""Contrast phases for domain-randomized phantoms: per-case tissue HU ranges.

Each phase widens or shifts the portal-venous ranges of :data:`~smoothseg.phantom.tissues.HU_RANGES`
for the tissues that take up contrast (liver ~40-150 HU across phases, vessels, spleen, kidneys).
Tumors are drawn relative to the liver: their body hypo- or hyper-dense by at least
:data:`MIN_TUMOR_CONTRAST_HU` (an enhancing rim or a necrotic core may come closer to the
liver's value), with optional rim enhancement (arterial/portal) and a necrotic core
(see :mod:`smoothseg.phantom.randomize`). A lesion within a few HU of the liver under 5-35 HU of
noise is invisible; labelling such regions "tumor" teaches a network to mark uniform liver as tumor
(the large false tumor of issue 15), so no lesion is drawn closer to the liver than that.
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

#: Tumor-minus-liver HU range per phase (hypo- below 0, hyper- above). Offsets are drawn per
#: tumor from the range with ``(-MIN_TUMOR_CONTRAST_HU, MIN_TUMOR_CONTRAST_HU)`` left out.
TUMOR_OFFSET_HU: dict[str, Range] = {
    "non-contrast": (-30.0, 10.0),
    "arterial": (-40.0, 60.0),
    "portal-venous": (-60.0, 15.0),
    "delayed": (-50.0, 5.0),
}

#: Smallest |tumor - liver| HU drawn: a visible lesion (issue 15, see the module docstring).
MIN_TUMOR_CONTRAST_HU = 15.0


def tumor_offset_hu(phase: str, rng: np.random.Generator) -> float:
    """A tumor's HU offset from the liver in ``phase``.

    Uniform over the phase's :data:`TUMOR_OFFSET_HU` range without the near-isodense band
    ``|offset| < MIN_TUMOR_CONTRAST_HU``.
    """
    low, high = TUMOR_OFFSET_HU[phase]
    floor = MIN_TUMOR_CONTRAST_HU
    pieces = [(low, min(high, -floor)), (max(low, floor), high)]
    pieces = [(a, b) for a, b in pieces if b > a]
    if not pieces:
        raise ValueError(f"phase {phase!r} leaves no tumor contrast of at least {floor:g} HU")
    total = sum(b - a for a, b in pieces)
    u = float(rng.uniform(0.0, total))
    for a, b in pieces:
        if u <= b - a:
            return a + u
        u -= b - a
    return pieces[-1][1]


def phase_hu(phase: str, rng: np.random.Generator) -> dict[Tissue, float]:
    """One case's tissue values in ``phase`` (unknown phase → ``ValueError``)."""
    if phase not in PHASE_HU:
        raise ValueError(f"unknown phase {phase!r}; choose from {', '.join(PHASES)}")
    ranges = {**HU_RANGES, **PHASE_HU[phase]}
    return {t: float(rng.uniform(*ranges[t])) for t in Tissue if t in ranges}
