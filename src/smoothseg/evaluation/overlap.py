"""Voxel-overlap metrics from confusion counts (paper Supplementary D, SD.2).

Each metric is a function of one :class:`ConfusionCounts` (true/false positives/negatives of a
binary mask over **every voxel of the volume**), exactly as SD.2 defines it:

* accuracy = (TP + TN) / (TP + TN + FP + FN)
* Dice = 2 TP / (2 TP + FP + FN)
* IoU (Jaccard) = TP / (TP + FP + FN)
* sensitivity = TP / (TP + FN)
* specificity = TN / (TN + FP)

Beyond the paper: relative volume error = (|pred| - |ref|) / |ref| (signed; positive means
over-segmentation) and the pooled ("global") Dice of a set of cases, 2 ΣTP / Σ(2 TP + FP + FN),
computed from counts summed over the cases.

Empty-mask rules (a metric whose denominator is 0):

* reference and prediction both empty: Dice = 1 and IoU = 1 (perfect agreement on "nothing");
  sensitivity and relative volume error are undefined (NaN);
* reference empty, prediction not: Dice = 0, IoU = 0, sensitivity and relative volume error NaN;
* reference not empty, prediction empty: Dice = 0, IoU = 0, sensitivity = 0, relative volume
  error = -1;
* no negative voxel (the mask fills the volume): specificity NaN; an empty volume: accuracy NaN.

NaN means "undefined", never "bad": summaries leave NaN out of means and report how many.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NAN = float("nan")


@dataclass(frozen=True)
class ConfusionCounts:
    """Voxel counts of a binary prediction against a binary reference.

    Attributes:
        tp: Voxels in both masks.
        fp: Voxels in the prediction only.
        fn: Voxels in the reference only.
        tn: Voxels in neither.

    """

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def total(self) -> int:
        """All voxels counted."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def ref_voxels(self) -> int:
        """Voxels of the reference mask (TP + FN)."""
        return self.tp + self.fn

    @property
    def pred_voxels(self) -> int:
        """Voxels of the predicted mask (TP + FP)."""
        return self.tp + self.fp

    def __add__(self, other: ConfusionCounts) -> ConfusionCounts:
        return ConfusionCounts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )


ZERO_COUNTS = ConfusionCounts(0, 0, 0, 0)


def confusion_counts(pred: npt.ArrayLike, ref: npt.ArrayLike) -> ConfusionCounts:
    """Count TP/FP/FN/TN of two same-shaped binary masks (non-zero = inside).

    Raises:
        ValueError: the masks differ in shape.

    """
    p = np.asarray(pred).astype(bool, copy=False)
    r = np.asarray(ref).astype(bool, copy=False)
    if p.shape != r.shape:
        raise ValueError(f"prediction shape {p.shape} differs from reference shape {r.shape}")
    tp = int(np.count_nonzero(p & r))
    n_pred = int(np.count_nonzero(p))
    n_ref = int(np.count_nonzero(r))
    return ConfusionCounts(tp=tp, fp=n_pred - tp, fn=n_ref - tp, tn=p.size - n_pred - n_ref + tp)


def _ratio(num: int, den: int) -> float:
    return num / den if den else NAN


def accuracy(c: ConfusionCounts) -> float:
    """(TP + TN) / all voxels; NaN for an empty volume."""
    return _ratio(c.tp + c.tn, c.total)


def dice(c: ConfusionCounts) -> float:
    """2 TP / (2 TP + FP + FN); 1 when both masks are empty."""
    den = 2 * c.tp + c.fp + c.fn
    return 2 * c.tp / den if den else 1.0


def iou(c: ConfusionCounts) -> float:
    """TP / (TP + FP + FN) (Jaccard); 1 when both masks are empty."""
    den = c.tp + c.fp + c.fn
    return c.tp / den if den else 1.0


def sensitivity(c: ConfusionCounts) -> float:
    """TP / (TP + FN) (recall); NaN when the reference is empty."""
    return _ratio(c.tp, c.tp + c.fn)


def specificity(c: ConfusionCounts) -> float:
    """TN / (TN + FP); NaN when there is no negative voxel."""
    return _ratio(c.tn, c.tn + c.fp)


def relative_volume_error(c: ConfusionCounts) -> float:
    """(|pred| - |ref|) / |ref|, signed; NaN when the reference is empty."""
    return _ratio(c.pred_voxels - c.ref_voxels, c.ref_voxels)


def pooled_dice(counts: Iterable[ConfusionCounts]) -> float:
    """Global Dice of several cases: 2 ΣTP / Σ(2 TP + FP + FN); NaN for no case.

    Like a per-case Dice it is 1 when every mask of every case is empty.
    """
    items = list(counts)
    if not items:
        return NAN
    total = sum(items, ZERO_COUNTS)
    return dice(total)


#: Overlap metrics by output name, in reporting order.
OVERLAP_METRICS: dict[str, Callable[[ConfusionCounts], float]] = {
    "accuracy": accuracy,
    "dice": dice,
    "iou": iou,
    "sensitivity": sensitivity,
    "specificity": specificity,
    "rve": relative_volume_error,
}
