"""Lesion-wise detection: connected components matched with the LiTS overlap rule.

Lesions are the 26-connected components (``cc3d``) of the tumor mask, in the reference and in
the prediction; their sizes are maximal 3D diameters from
:func:`smoothseg.measure.lesion_diameters_mm` (centre-to-centre, so a one-voxel lesion
measures 0 mm).

Matching follows the LiTS evaluation's ``detect_lesions`` (Bilic et al., LiTS benchmark, Medical
Image Analysis 2023; its public evaluation code), which merges lesions before matching so that
one prediction spanning several reference lesions, or several predictions covering one lesion,
are scored as one correspondence:

1. **Merges.** Every reference lesion that any prediction overlaps picks the predicted component
   that overlaps it most (ties: lowest component label). Reference lesions that pick the same
   component form one *reference group*; reference lesions no prediction touches stay alone.
2. **Splits.** Every predicted component that overlaps a reference lesion joins the reference
   group it overlaps most (summed over the group's lesions; ties: the group holding the lowest
   reference label). The components that join one group form its *prediction set*.
3. **Detection.** A group is detected when the IoU of the union of its reference lesions with
   the union of its prediction set is **strictly greater** than the threshold (LiTS:
   ``min_overlap=0.5``, undetected when IoU <= 0.5). Every reference lesion of a detected group
   counts as detected; every component of its prediction set counts as matched.

Scores: recall = detected reference lesions / reference lesions; precision = matched predicted
components / predicted components; F1 = 2 P R / (P + R). Empty rules: no reference lesion →
recall NaN; no predicted component → precision NaN; F1 NaN when neither has a lesion, 0 when only
one side has lesions (nothing can match) or when P + R = 0. By lesion size, reference lesions
are binned by their own diameter (recall) and predicted components by theirs (precision).
Pooled scores over cases sum the counts (:class:`DetectionCounts` supports ``+``).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import cc3d
import numpy as np
import numpy.typing as npt

from smoothseg.evaluation.surface import check_spacing_mm, union_box
from smoothseg.measure import lesion_diameters_mm

NAN = float("nan")
#: The LiTS evaluation's ``min_overlap``: detected when IoU > 0.5.
LITS_IOU_THRESHOLD = 0.5
#: Upper edges (mm) of the default lesion-diameter bins: <10, 10-20, 20-50, ≥50 mm.
DEFAULT_LESION_BINS_MM: tuple[float, ...] = (10.0, 20.0, 50.0)


def _ratio(num: int, den: int) -> float:
    return num / den if den else NAN


@dataclass(frozen=True)
class DetectionCounts:
    """Lesion counts behind recall, precision and F1 (add them to pool cases or bins).

    Attributes:
        n_ref: Reference lesions.
        ref_detected: Reference lesions detected.
        n_pred: Predicted components.
        pred_matched: Predicted components that belong to a detected correspondence.

    """

    n_ref: int = 0
    ref_detected: int = 0
    n_pred: int = 0
    pred_matched: int = 0

    def __add__(self, other: DetectionCounts) -> DetectionCounts:
        return DetectionCounts(
            self.n_ref + other.n_ref,
            self.ref_detected + other.ref_detected,
            self.n_pred + other.n_pred,
            self.pred_matched + other.pred_matched,
        )

    @property
    def recall(self) -> float:
        """Detected / reference lesions; NaN without reference lesions."""
        return _ratio(self.ref_detected, self.n_ref)

    @property
    def precision(self) -> float:
        """Matched / predicted components; NaN without predicted components."""
        return _ratio(self.pred_matched, self.n_pred)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (see module docs for empty rules)."""
        if self.n_ref == 0 and self.n_pred == 0:
            return NAN
        if self.n_ref == 0 or self.n_pred == 0:
            return 0.0
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0


@dataclass(frozen=True)
class LesionGroup:
    """One correspondence: reference lesions and the predicted components matched to them.

    Component labels are 1-based, numbered by ``cc3d`` within the box around both masks.

    Attributes:
        ref_ids: Reference lesions of the group (several: a merge).
        pred_ids: Predicted components assigned to it (several: a split; none: missed).
        intersection_voxels: Voxels shared by the two unions.
        union_voxels: Voxels in either union.
        iou: intersection / union.
        detected: ``iou`` is above the threshold.

    """

    ref_ids: tuple[int, ...]
    pred_ids: tuple[int, ...]
    intersection_voxels: int
    union_voxels: int
    iou: float
    detected: bool


@dataclass(frozen=True)
class LesionDetection:
    """Lesion-wise detection of one case (index ``i`` of a tuple is component ``i + 1``).

    Attributes:
        iou_threshold: Detected when a group's IoU is strictly above this.
        ref_diameters_mm: Maximal 3D diameter of each reference lesion.
        pred_diameters_mm: Maximal 3D diameter of each predicted component.
        ref_detected: Whether each reference lesion was detected.
        pred_matched: Whether each predicted component was matched.
        groups: Every correspondence (one per reference group).

    """

    iou_threshold: float
    ref_diameters_mm: tuple[float, ...]
    pred_diameters_mm: tuple[float, ...]
    ref_detected: tuple[bool, ...]
    pred_matched: tuple[bool, ...]
    groups: tuple[LesionGroup, ...] = field(default=())

    @property
    def counts(self) -> DetectionCounts:
        """Counts over all lesions of the case."""
        return DetectionCounts(
            len(self.ref_detected),
            sum(self.ref_detected),
            len(self.pred_matched),
            sum(self.pred_matched),
        )

    @property
    def largest_ref_diameter_mm(self) -> float:
        """Diameter of the largest reference lesion; 0 without tumor."""
        return max(self.ref_diameters_mm, default=0.0)

    def counts_by_size(
        self, bins_mm: Sequence[float] = DEFAULT_LESION_BINS_MM
    ) -> dict[str, DetectionCounts]:
        """Counts per diameter bin (names from :func:`size_bin_names`), every bin present."""
        names = size_bin_names(bins_mm)
        ref_bins = _bin_indices(self.ref_diameters_mm, bins_mm)
        pred_bins = _bin_indices(self.pred_diameters_mm, bins_mm)
        out: dict[str, DetectionCounts] = {}
        for index, name in enumerate(names):
            ref_in = [d for d, b in zip(self.ref_detected, ref_bins, strict=True) if b == index]
            pred_in = [m for m, b in zip(self.pred_matched, pred_bins, strict=True) if b == index]
            out[name] = DetectionCounts(len(ref_in), sum(ref_in), len(pred_in), sum(pred_in))
        return out


def check_bins_mm(bins_mm: Sequence[float]) -> tuple[float, ...]:
    """``bins_mm`` as a tuple after checking the edges are positive and increasing.

    Raises:
        ValueError: an edge is not positive and finite, or edges do not increase.

    """
    edges = tuple(float(b) for b in bins_mm)
    if any(not np.isfinite(b) or b <= 0 for b in edges):
        raise ValueError(f"lesion size bins must be positive mm values, got {list(edges)}")
    if any(b >= c for b, c in itertools.pairwise(edges)):
        raise ValueError(f"lesion size bins must increase, got {list(edges)}")
    return edges


def size_bin_names(bins_mm: Sequence[float] = DEFAULT_LESION_BINS_MM) -> tuple[str, ...]:
    """Names of the bins cut at ``bins_mm``, e.g. ``('<10 mm', '10-20 mm', '≥20 mm')``."""
    edges = check_bins_mm(bins_mm)
    if not edges:
        return ("all sizes",)
    names = [f"<{edges[0]:g} mm"]
    names += [f"{a:g}-{b:g} mm" for a, b in itertools.pairwise(edges)]
    names.append(f"≥{edges[-1]:g} mm")
    return tuple(names)


def _bin_indices(diameters: Sequence[float], bins_mm: Sequence[float]) -> list[int]:
    edges = np.asarray(check_bins_mm(bins_mm), dtype=np.float64)
    return [int(i) for i in np.searchsorted(edges, np.asarray(diameters), side="right")]


def _components(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.uint32], int]:
    labels, n = cc3d.connected_components(
        np.ascontiguousarray(mask, dtype=np.uint8), connectivity=26, return_N=True
    )
    return np.asarray(labels, dtype=np.uint32), int(n)


def _diameters(
    mask: npt.NDArray[np.bool_], n: int, spacing: npt.NDArray[np.float64]
) -> tuple[float, ...]:
    # Same cc3d call as _components, so the component order (labels 1..n) agrees.
    diameters = lesion_diameters_mm(mask, np.diag([*spacing.tolist(), 1.0]))
    if len(diameters) != n:  # pragma: no cover - would mean cc3d labelled differently
        raise RuntimeError("lesion diameters and components disagree")
    return tuple(diameters)


def match_lesions(
    pred: npt.ArrayLike,
    ref: npt.ArrayLike,
    spacing_mm: Sequence[float],
    *,
    iou_threshold: float = LITS_IOU_THRESHOLD,
) -> LesionDetection:
    """Match predicted tumor components to reference lesions (rules in the module docs).

    Args:
        pred: Predicted tumor mask (non-zero = tumor).
        ref: Reference tumor mask, same shape.
        spacing_mm: Voxel size along each axis (for lesion diameters).
        iou_threshold: A correspondence is detected when its IoU is strictly above this.

    Raises:
        ValueError: shapes differ, ``spacing_mm`` is invalid, or the threshold is outside
            [0, 1).

    """
    p = np.asarray(pred).astype(bool, copy=False)
    r = np.asarray(ref).astype(bool, copy=False)
    if p.shape != r.shape or p.ndim != 3:
        raise ValueError(f"need two 3D masks of one shape, got {p.shape} and {r.shape}")
    spacing = check_spacing_mm(spacing_mm, 3)
    if not 0.0 <= iou_threshold < 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1), got {iou_threshold}")
    box = union_box(p, r, margin=0)
    if box is None:
        return LesionDetection(iou_threshold, (), (), (), (), ())
    p, r = p[box], r[box]
    ref_labels, n_ref = _components(r)
    pred_labels, n_pred = _components(p)
    ref_size = np.bincount(ref_labels.ravel(), minlength=n_ref + 1)
    pred_size = np.bincount(pred_labels.ravel(), minlength=n_pred + 1)
    both = (ref_labels > 0) & (pred_labels > 0)
    codes = ref_labels[both].astype(np.int64) * (n_pred + 1) + pred_labels[both]
    uniq, count = np.unique(codes, return_counts=True)
    overlaps = {
        (int(c // (n_pred + 1)), int(c % (n_pred + 1))): int(k)
        for c, k in zip(uniq, count, strict=True)
    }
    groups = _group(overlaps, n_ref, ref_size, pred_size, iou_threshold)
    ref_detected = [False] * n_ref
    pred_matched = [False] * n_pred
    for g in groups:
        if g.detected:
            for i in g.ref_ids:
                ref_detected[i - 1] = True
            for j in g.pred_ids:
                pred_matched[j - 1] = True
    return LesionDetection(
        iou_threshold=iou_threshold,
        ref_diameters_mm=_diameters(r, n_ref, spacing),
        pred_diameters_mm=_diameters(p, n_pred, spacing),
        ref_detected=tuple(ref_detected),
        pred_matched=tuple(pred_matched),
        groups=tuple(groups),
    )


def _group(
    overlaps: dict[tuple[int, int], int],
    n_ref: int,
    ref_size: npt.NDArray[np.int64],
    pred_size: npt.NDArray[np.int64],
    iou_threshold: float,
) -> list[LesionGroup]:
    # 1. Merges: each touched reference lesion picks its best predicted component.
    best: dict[int, tuple[int, int]] = {}  # ref -> (overlap, -pred)
    for (g, q), k in overlaps.items():
        if g not in best or (k, -q) > best[g]:
            best[g] = (k, -q)
    group_of: dict[int, int] = {}  # ref -> group key (lowest ref label of its group)
    members: dict[int, list[int]] = defaultdict(list)
    by_pick: dict[int, int] = {}
    for g in range(1, n_ref + 1):
        pick = -best[g][1] if g in best else None
        key = g if pick is None else by_pick.setdefault(pick, g)
        group_of[g] = key
        members[key].append(g)
    # 2. Splits: each touching predicted component joins the group it overlaps most.
    to_group: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (g, q), k in overlaps.items():
        to_group[q][group_of[g]] += k
    assigned: dict[int, list[int]] = defaultdict(list)
    for q in sorted(to_group):
        key = max(to_group[q].items(), key=lambda item: (item[1], -item[0]))[0]
        assigned[key].append(q)
    # 3. Detection: IoU of the two unions.
    out = []
    for key in sorted(members):
        refs, preds = tuple(members[key]), tuple(assigned.get(key, ()))
        inter = sum(overlaps.get((g, q), 0) for g in refs for q in preds)
        union = int(sum(ref_size[g] for g in refs) + sum(pred_size[q] for q in preds)) - inter
        value = inter / union if union else 0.0
        out.append(LesionGroup(refs, preds, inter, union, value, value > iou_threshold))
    return out
