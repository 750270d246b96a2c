"""Synthetic liver lesions implanted into real CT (``smoothseg synthesize``, docs/synthesis.md).

from smoothseg.synthesis import LesionRequest, synthesize_volume

new_ct, labels, lesions = synthesize_volume(ct, liver, LesionRequest(count=2), rng)
"""

from smoothseg.synthesis.config import (
    DENSITY_CONTRAST_HU,
    MAX_DIAMETER_MM,
    MIN_DIAMETER_MM,
    Lesion,
    LesionRequest,
    SynthesisConfigError,
)
from smoothseg.synthesis.lesions import implant_lesions
from smoothseg.synthesis.sites import analyse_liver
from smoothseg.synthesis.volume import synthesize_volume

__all__ = [
    "DENSITY_CONTRAST_HU",
    "MAX_DIAMETER_MM",
    "MIN_DIAMETER_MM",
    "Lesion",
    "LesionRequest",
    "SynthesisConfigError",
    "analyse_liver",
    "implant_lesions",
    "synthesize_volume",
]
