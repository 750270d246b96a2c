"""Thresholds of the per-lesion confidence and the per-case quality-control (QC) verdict.

Where the defaults come from:

* **Plausible liver volume 600-3500 mL.** Standard-liver-volume formulas give, for adults with a
  body-surface area of 1.4-2.6 m², about 990-1840 mL (Urata et al., Hepatology 1995:
  ``706.2 x BSA + 2.4``) and 1160-2440 mL (Heinemann et al., Liver Transplantation 1999:
  ``1072.8 x BSA - 345.7``). The range is widened on both sides for small adults, resected
  livers, hepatomegaly and large tumor burden; a liver outside it is more likely a segmentation
  error or a scan that covers only part of the liver.
* **Trained liver HU 40-150.** The liver HU that the domain-randomized training phantoms draw
  across contrast phases (:data:`smoothseg.phantom.phases.PHASE_HU`: 40-70 non-contrast up to
  90-150 portal-venous), used when a model bundle records no range of its own
  (:func:`smoothseg.postprocess.quality.quality_config_for`).
* **Liver noise up to 50 HU.** The phantoms' scanner noise is 5-35 HU
  (:func:`smoothseg.phantom.scanner.sample_scanner`); parenchymal texture adds some.
* **Lesion thresholds.** A mean tumor probability below 0.6 means most of the lesion is near the
  decision boundary of a three-class softmax; a lesion within 10 HU of its surrounding liver, or
  with a contrast-to-noise ratio below 1, is hard to see for a reader too. 5 mL is the false-tumor
  limit of issue 15's real-scan targets.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds for :mod:`~smoothseg.postprocess.confidence` and ``quality``.

    Attributes:
        min_mean_probability: A lesion with a lower mean tumor probability is uncertain.
        shell_mm: Width of the liver shell around a lesion that its contrast is measured against.
        min_shell_voxels: Fewer shell voxels than this: no contrast is measured.
        isodense_hu: A lesion within this many HU of its shell is liver-isodense (uncertain).
        min_cnr: A lesion with a lower absolute contrast-to-noise ratio is uncertain.
        large_lesion_ml: An uncertain lesion at least this large gets a case warning.
        liver_ml_range: Plausible liver volume (tumor included), in mL.
        edge_min_area_mm2: Liver area on a face of the scan that counts as touching it.
        trained_liver_hu: Liver median HU range the model was trained on.
        liver_hu_margin: Tolerance around ``trained_liver_hu``.
        max_liver_noise_hu: A noisier liver (robust SD) than this gets a warning.

    """

    min_mean_probability: float = 0.6
    shell_mm: float = 10.0
    min_shell_voxels: int = 10
    isodense_hu: float = 10.0
    min_cnr: float = 1.0
    large_lesion_ml: float = 5.0
    liver_ml_range: tuple[float, float] = (600.0, 3500.0)
    edge_min_area_mm2: float = 100.0
    trained_liver_hu: tuple[float, float] = (40.0, 150.0)
    liver_hu_margin: float = 15.0
    max_liver_noise_hu: float = 50.0

    def __post_init__(self) -> None:
        numbers = {k: v for k, v in asdict(self).items() if not isinstance(v, tuple)}
        for name, value in numbers.items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if self.min_mean_probability > 1:
            raise ValueError(f"min_mean_probability must be <= 1, got {self.min_mean_probability}")
        if self.shell_mm <= 0:
            raise ValueError(f"shell_mm must be > 0, got {self.shell_mm}")
        for name in ("liver_ml_range", "trained_liver_hu"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {(low, high)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
