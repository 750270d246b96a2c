"""The result of one baseline/follow-up comparison (:class:`CompareResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from smoothseg.response.criteria import Category
from smoothseg.response.match import Match
from smoothseg.response.measure import Lesion
from smoothseg.response.register import Registration


@dataclass(frozen=True)
class CompareResult:
    """Everything ``compare`` found (also written to ``out_dir``)."""

    baseline_lesions: list[Lesion]
    followup_lesions: list[Lesion]
    matches: list[Match]
    categories: dict[str, Category]
    registration: Registration
    inputs: dict[str, str]
    timings_s: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
