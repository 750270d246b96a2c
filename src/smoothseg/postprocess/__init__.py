"""Post-processing of predicted masks: pure functions of masks and the CT, no files.

* :mod:`.refine` — morphological Chan-Vese refinement of the tumor mask (Supplementary C.2).
* :mod:`.lesions` — minimum-volume filter and per-lesion measurements (RECIST-style diameters).
* :mod:`.finish` — the chain the predictor applies: refinement, then the lesion filter, as a
  :class:`PostprocessConfig` says.
* :mod:`.confidence` — per-lesion confidence: mean probability, contrast to the liver, CNR.
* :mod:`.quality` — the per-case quality-control verdict (warnings); thresholds in
  :mod:`.quality_config`.
"""

from smoothseg.postprocess.config import PostprocessConfig, PostprocessConfigError
from smoothseg.postprocess.finish import FinishedTumor, finish_tumor
from smoothseg.postprocess.lesions import (
    LesionStats,
    lesion_stats,
    remove_small_lesions,
)
from smoothseg.postprocess.refine import refine_tumor

__all__ = [
    "FinishedTumor",
    "LesionStats",
    "PostprocessConfig",
    "PostprocessConfigError",
    "finish_tumor",
    "lesion_stats",
    "refine_tumor",
    "remove_small_lesions",
]
