"""On-the-fly synthetic training data: every epoch draws new domain-randomized phantoms.

Case ``index`` of epoch ``epoch`` depends only on ``(seed, epoch, index)``, so a run is
reproducible and resumable while no case repeats across epochs. See
``docs/synthetic-training.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from smoothseg.phantom.config import PhantomConfig
from smoothseg.phantom.randomize import RandomizedCase, randomized_case


def case_seed(seed: int, epoch: int, index: int) -> np.random.SeedSequence:
    """The seed sequence of one synthetic case (``ValueError`` on negative numbers)."""
    if min(seed, epoch, index) < 0:
        raise ValueError(f"seed, epoch and index must be >= 0, got {(seed, epoch, index)}")
    return np.random.SeedSequence([seed, epoch, index, 0x5EED])


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

    def case(self, epoch: int, index: int) -> RandomizedCase:
        """Case ``index`` (0 <= index < n_cases) of ``epoch``."""
        if not 0 <= index < self.n_cases:
            raise IndexError(f"index {index} outside 0..{self.n_cases - 1}")
        return randomized_case(case_seed(self.seed, epoch, index), self.config)

    def epoch(self, epoch: int) -> Iterator[RandomizedCase]:
        """The cases of one epoch, in order."""
        for index in range(self.n_cases):
            yield self.case(epoch, index)
