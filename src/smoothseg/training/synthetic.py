"""On-the-fly synthetic training data: every epoch draws new domain-randomized phantoms.

Case ``index`` of epoch ``epoch`` depends only on ``(seed, epoch, index)``, so a run is
reproducible and resumable while no case repeats across epochs. :class:`SyntheticDataset` feeds
them through a stage's training transforms (``smoothseg train --synthetic N``). See
``docs/synthetic-training.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from monai.data.dataset import Dataset
from monai.transforms.compose import Compose
from monai.transforms.transform import apply_transform

from smoothseg.phantom.config import PhantomConfig
from smoothseg.phantom.phases import PHASE_HU, PHASES
from smoothseg.phantom.randomize import RandomizedCase, randomized_case
from smoothseg.phantom.tissues import Tissue

#: Redraws of a case whose field of view lost the liver (tumor stage needs one).
MAX_ATTEMPTS = 8


def case_seed(seed: int, epoch: int, index: int, attempt: int = 0) -> np.random.SeedSequence:
    """The seed sequence of one synthetic case (``ValueError`` on negative numbers).

    ``attempt`` > 0 gives the redraws of that case (see :data:`MAX_ATTEMPTS`).
    """
    if min(seed, epoch, index, attempt) < 0:
        raise ValueError(f"seed, epoch and index must be >= 0, got {(seed, epoch, index)}")
    extra = [attempt] if attempt else []
    return np.random.SeedSequence([seed, epoch, index, 0x5EED, *extra])


def liver_hu_range() -> tuple[float, float]:
    """Lowest and highest liver HU the phases draw (before scanner noise and bias)."""
    ranges = [PHASE_HU[p][Tissue.LIVER] for p in PHASES]
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


@dataclass(frozen=True)
class SyntheticCases:
    """``n_cases`` new randomized phantoms per epoch.

    Attributes:
        n_cases: Cases per epoch.
        seed: Run seed.
        config: Phantom grid and anatomy settings (default: ``small`` preset).

    """

    n_cases: int
    seed: int = 0
    config: PhantomConfig | None = None

    def __post_init__(self) -> None:
        if self.n_cases < 1:
            raise ValueError(f"n_cases must be >= 1, got {self.n_cases}")

    def case(self, epoch: int, index: int, attempt: int = 0) -> RandomizedCase:
        """Case ``index`` (0 <= index < n_cases) of ``epoch`` (``attempt``: a redraw)."""
        if not 0 <= index < self.n_cases:
            raise IndexError(f"index {index} outside 0..{self.n_cases - 1}")
        return randomized_case(case_seed(self.seed, epoch, index, attempt), self.config)

    def case_with_liver(self, epoch: int, index: int) -> RandomizedCase:
        """The first draw of case ``index`` whose field of view holds liver voxels."""
        for attempt in range(MAX_ATTEMPTS):
            case = self.case(epoch, index, attempt)
            if np.any(np.asarray(case.labels.array) > 0):
                return case
        raise RuntimeError(f"synthetic case {index} of epoch {epoch}: no liver in view")

    def epoch(self, epoch: int) -> Iterator[RandomizedCase]:
        """The cases of one epoch, in order."""
        for index in range(self.n_cases):
            yield self.case(epoch, index)


def provenance(cases: SyntheticCases, *, only: bool) -> dict[str, Any]:
    """What a run trained on, for ``run.json`` and the bundle's ``training`` record."""
    config = cases.config or PhantomConfig()
    low, high = liver_hu_range()
    return {
        "cases_per_epoch": cases.n_cases,
        "only": only,
        "seed": cases.seed,
        "generator": "smoothseg.phantom.randomize.randomized_case",
        "phantom": config.to_dict(),
        "phases": list(PHASES),
        "liver_hu_range": [low, high],
    }


class SyntheticDataset(Dataset):
    """:class:`SyntheticCases` through a training transform; :meth:`set_epoch` picks the cases.

    Items enter the transform (:func:`smoothseg.preprocess.transforms.train_transforms` with
    ``load=False``) as ``{"case_id", "soft_tlvr" (NaN), "image", "label", "affine",
    "spacing_mm"}`` in canonical RAS order.
    """

    def __init__(self, cases: SyntheticCases, transform: Compose) -> None:
        """Wrap ``cases``; epoch 0 until :meth:`set_epoch`."""
        super().__init__(list(range(cases.n_cases)), transform)
        self.cases = cases
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Serve the cases of ``epoch`` from now on."""
        self.epoch = epoch

    def item(self, index: int) -> dict[str, Any]:
        """The untransformed item of case ``index`` of the current epoch."""
        case = self.cases.case_with_liver(self.epoch, index)
        image, labels = case.image.to_canonical(), case.labels.to_canonical()
        return {
            "case_id": f"synthetic-e{self.epoch:04d}-{index:04d}",
            "soft_tlvr": math.nan,
            "image": np.asarray(image.array, dtype=np.float32)[None],
            "label": np.asarray(labels.array, dtype=np.uint8)[None],
            "affine": np.asarray(image.affine, dtype=np.float64),
            "spacing_mm": image.spacing_mm,
        }

    def _transform(self, index: int) -> Any:
        return apply_transform(self.transform, self.item(index))
