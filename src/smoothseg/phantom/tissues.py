"""Tissue classes of the phantom and their Hounsfield-unit ranges (portal-venous phase).

Each patient draws one value per tissue uniformly from ``HU_RANGES`` (tumors are set relative
to that patient's liver). The ranges follow typical contrast-enhanced abdominal CT values.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Tissue(IntEnum):
    """Codes of the in-memory tissue map (``PhantomCase.tissues``)."""

    AIR = 0
    SKIN = 1
    FAT = 2
    MUSCLE = 3
    BONE_CORTEX = 4
    BONE_MARROW = 5
    DISC = 6
    CSF = 7
    LUNG = 8
    HEART = 9
    BLOOD = 10
    AORTA = 11
    IVC = 12
    PORTAL_VEIN = 13
    HEPATIC_VEIN = 14
    LIVER = 15
    TUMOR = 16
    KIDNEY_CORTEX = 17
    KIDNEY_MEDULLA = 18
    RENAL_SINUS = 19
    SPLEEN = 20
    PANCREAS = 21
    STOMACH_WALL = 22
    STOMACH_CONTENT = 23
    GAS = 24
    BOWEL_WALL = 25
    BOWEL_CONTENT = 26
    GALLBLADDER = 27
    TABLE = 28
    SPLENIC_VEIN = 29


#: Per-patient HU is drawn uniformly from these ranges (before blur and noise).
HU_RANGES: dict[Tissue, tuple[float, float]] = {
    Tissue.AIR: (-1000.0, -1000.0),
    Tissue.SKIN: (20.0, 40.0),
    Tissue.FAT: (-115.0, -85.0),
    Tissue.MUSCLE: (45.0, 60.0),
    Tissue.BONE_CORTEX: (900.0, 1150.0),
    Tissue.BONE_MARROW: (320.0, 420.0),
    Tissue.DISC: (80.0, 100.0),
    Tissue.CSF: (5.0, 15.0),
    Tissue.LUNG: (-880.0, -820.0),
    Tissue.HEART: (80.0, 100.0),
    Tissue.BLOOD: (150.0, 190.0),
    Tissue.AORTA: (150.0, 220.0),
    Tissue.IVC: (125.0, 160.0),
    Tissue.PORTAL_VEIN: (160.0, 200.0),
    Tissue.HEPATIC_VEIN: (140.0, 170.0),
    Tissue.LIVER: (98.0, 125.0),
    Tissue.KIDNEY_CORTEX: (170.0, 200.0),
    Tissue.KIDNEY_MEDULLA: (130.0, 150.0),
    Tissue.RENAL_SINUS: (-80.0, -50.0),
    Tissue.SPLEEN: (105.0, 125.0),
    Tissue.PANCREAS: (85.0, 105.0),
    Tissue.STOMACH_WALL: (60.0, 80.0),
    Tissue.STOMACH_CONTENT: (10.0, 30.0),
    Tissue.GAS: (-1000.0, -990.0),
    Tissue.BOWEL_WALL: (55.0, 75.0),
    Tissue.BOWEL_CONTENT: (10.0, 35.0),
    Tissue.GALLBLADDER: (0.0, 20.0),
    Tissue.TABLE: (150.0, 250.0),
    Tissue.SPLENIC_VEIN: (150.0, 180.0),
}

#: Ranges the finished image must respect in the interior of each tissue (the issue's
#: physical-plausibility bounds, used by the tests on eroded tissue masks).
EXPECTED_HU: dict[Tissue, tuple[float, float]] = {
    Tissue.FAT: (-130.0, -70.0),
    Tissue.MUSCLE: (35.0, 65.0),
    Tissue.BONE_MARROW: (300.0, 1200.0),
    Tissue.AORTA: (120.0, 250.0),
    Tissue.IVC: (120.0, 250.0),
    Tissue.PORTAL_VEIN: (120.0, 250.0),
    Tissue.LIVER: (90.0, 130.0),
    Tissue.GAS: (-1000.0, -900.0),
    Tissue.LUNG: (-900.0, -750.0),
    Tissue.SPLEEN: (100.0, 130.0),
    Tissue.KIDNEY_CORTEX: (120.0, 220.0),
}


def draw_hu(rng: np.random.Generator) -> dict[Tissue, float]:
    """One patient's tissue values, drawn from :data:`HU_RANGES` in :class:`Tissue` order."""
    return {t: float(rng.uniform(*HU_RANGES[t])) for t in Tissue if t in HU_RANGES}
