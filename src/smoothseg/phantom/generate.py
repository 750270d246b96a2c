"""A rendered phantom case: :func:`generate_case` draws a :class:`CaseSpec` and renders it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smoothseg.io import Volume
from smoothseg.phantom.case import CaseSpec, RngOrSeed, sample_case
from smoothseg.phantom.config import STREAM_IMAGE, PhantomConfig, substream
from smoothseg.phantom.render import render_case
from smoothseg.phantom.tumors import Tumor


@dataclass(frozen=True)
class PhantomCase:
    """A rendered case.

    Attributes:
        case_id: Case identifier.
        image: CT in HU (int16).
        structures: Raw labels (0 bg, 1 liver, 2 tumor mass, 3 portal vein, 4 aorta).
        labels: Harmonized labels (0 bg, 1 liver incl. portal vein, 2 tumor).
        tissues: Tissue map (:class:`~smoothseg.phantom.tissues.Tissue` codes), in memory only.
        spec: The random parameters it was rendered from.

    """

    case_id: str
    image: Volume
    structures: Volume
    labels: Volume
    tissues: Volume
    spec: CaseSpec

    @property
    def tumors(self) -> tuple[Tumor, ...]:
        """The case's tumors, largest first."""
        return self.spec.tumors

    @property
    def liver_ml(self) -> float:
        """Liver + tumor volume on the output grid (harmonized labels 1 and 2)."""
        return float(np.count_nonzero(self.labels.array)) * self.labels.voxel_volume_ml

    @property
    def tumor_ml(self) -> float:
        """Tumor volume on the output grid."""
        return float(np.count_nonzero(self.labels.array == 2)) * self.labels.voxel_volume_ml

    @property
    def tlvr(self) -> float:
        """Tumor-to-liver volume ratio on the output grid (paper eq. 1)."""
        return self.tumor_ml / self.liver_ml if self.liver_ml > 0 else 0.0


def generate_case(
    case_id: str,
    rng_or_seed: RngOrSeed,
    config: PhantomConfig | None = None,
    burden_quantile: float | None = None,
) -> PhantomCase:
    """Generate one case in memory: CT image, raw and harmonized labels, tumor list.

    Args:
        case_id: Identifier of the case.
        rng_or_seed: Randomness: an int seed, a ``SeedSequence`` or a ``Generator``.
        config: Generation settings (default: ``small`` preset).
        burden_quantile: Stratified tumor-burden quantile in [0, 1) (uniform when ``None``).

    """
    cfg = config or PhantomConfig()
    spec = sample_case(case_id, rng_or_seed, cfg, burden_quantile)
    rendered = render_case(spec, cfg, substream(spec.seed, STREAM_IMAGE))
    affine = cfg.grid.affine
    return PhantomCase(
        case_id=case_id,
        image=Volume(rendered.image, affine, kind="image"),
        structures=Volume(rendered.structures, affine, kind="label"),
        labels=Volume(harmonize(rendered.structures), affine, kind="label"),
        tissues=Volume(rendered.tissues, affine, kind="label"),
        spec=spec,
    )


def harmonize(structures: np.ndarray) -> np.ndarray:
    """Fold raw structures into 0 background, 1 liver (incl. portal vein), 2 tumor."""
    lut = np.array([0, 1, 2, 1, 0], dtype=np.uint8)
    out: np.ndarray = lut[structures]
    return out
