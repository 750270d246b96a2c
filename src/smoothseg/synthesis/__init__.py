"""Synthetic liver lesions implanted into real CT (issue 16; core only so far)."""

from smoothseg.synthesis.lesions import Lesion, LesionRequest, implant_lesions
from smoothseg.synthesis.volume import synthesize_volume

__all__ = ["Lesion", "LesionRequest", "implant_lesions", "synthesize_volume"]
