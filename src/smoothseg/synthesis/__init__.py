"""Synthetic liver lesions implanted into real CT (issue 16; core only so far)."""

from smoothseg.synthesis.lesions import Lesion, LesionRequest, implant_lesions

__all__ = ["Lesion", "LesionRequest", "implant_lesions"]
