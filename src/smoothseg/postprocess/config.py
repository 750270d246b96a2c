"""The frozen configuration of tumor post-processing (:class:`PostprocessConfig`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from smoothseg.errors import SmoothsegError


class PostprocessConfigError(SmoothsegError, ValueError):
    """A post-processing option is invalid."""


@dataclass(frozen=True)
class PostprocessConfig:
    """What happens to the model's tumor mask before it is measured.

    Attributes:
        refine: Refine tumor boundaries with morphological Chan-Vese.
        chan_vese_iterations: Chan-Vese iterations (the paper: 2).
        chan_vese_smoothing: Smoothing steps per Chan-Vese iteration.
        refine_margin_mm: Margin of the local box around each lesion refined.
        min_lesion_mm3: Tumor components smaller than this are removed (0 keeps all).

    """

    refine: bool = True
    chan_vese_iterations: int = 2
    chan_vese_smoothing: int = 1
    refine_margin_mm: float = 10.0
    min_lesion_mm3: float = 25.0

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise PostprocessConfigError("invalid post-processing options: " + "; ".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with these options (empty when valid)."""
        problems: list[str] = []
        if self.chan_vese_iterations < 0 or self.chan_vese_smoothing < 0:
            problems.append("chan_vese_iterations and chan_vese_smoothing must be >= 0")
        if self.min_lesion_mm3 < 0 or self.refine_margin_mm < 0:
            problems.append("min_lesion_mm3 and refine_margin_mm must be >= 0")
        return problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)
