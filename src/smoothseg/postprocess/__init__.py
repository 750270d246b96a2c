"""Post-processing of predicted masks: tumor refinement, lesion measurements, reports.

* :mod:`.refine` — morphological Chan-Vese refinement of the tumor mask (Supplementary C.2).
* :mod:`.lesions` — minimum-volume filter and per-lesion measurements (RECIST-style diameters).
* :mod:`.confidence` — per-lesion confidence: mean probability, contrast to the liver, CNR.
* :mod:`.quality` — the per-case quality-control verdict (warnings); thresholds in
  :mod:`.quality_config`.
* :mod:`.statistics` — the ``statistics.json`` document of one prediction.
* :mod:`.preview` — ``preview.png``: three orthogonal slices through the largest lesion.
"""

from smoothseg.postprocess.lesions import (
    LesionStats,
    feret_diameter_mm,
    lesion_stats,
    remove_small_lesions,
)
from smoothseg.postprocess.refine import refine_tumor

__all__ = [
    "LesionStats",
    "feret_diameter_mm",
    "lesion_stats",
    "refine_tumor",
    "remove_small_lesions",
]
