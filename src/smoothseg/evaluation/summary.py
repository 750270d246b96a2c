"""Summaries across cases: per metric and class, overall and by tumor-size group.

For each group (``all`` cases, then each size group that has cases) and each class:

* every metric of :data:`smoothseg.evaluation.case.METRICS`: ``n`` cases with a defined value,
  ``n_undefined`` cases with NaN (left out, never counted as 0), mean, sample SD (ddof 1; NaN
  for fewer than 2 values) and median. SD is across cases (the paper's tables give the SD
  across three test replications instead);
* the pooled Dice, 2 ΣTP / Σ(2 TP + FP + FN) over the group's cases.

Lesion detection is pooled too (counts summed over the group's cases), overall and per lesion
diameter bin. Cases whose prediction is missing are listed and counted; they enter the metrics
only when ``missing_as_empty`` scored them as an empty prediction.

Tumor-free references count in the ``all`` group (tumor Dice 1 if nothing was predicted, else
0); the size groups keep them apart (``no tumor``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smoothseg.evaluation.case import CLASSES, METRICS, CaseResult, EvaluationConfig
from smoothseg.evaluation.lesions import DetectionCounts, size_bin_names
from smoothseg.evaluation.overlap import pooled_dice
from smoothseg.evaluation.strata import all_group_names, describe_size_rule

ALL = "all"
NAN = float("nan")


@dataclass(frozen=True)
class MetricStats:
    """Distribution of one metric of one class over a group of cases.

    Attributes:
        group: ``all`` or a size group.
        label_class: ``liver`` or ``tumor``.
        metric: Metric name.
        n: Cases with a defined value.
        n_undefined: Cases where the metric is undefined (NaN), left out.
        mean: Mean of the defined values (NaN if none).
        sd: Sample standard deviation (NaN for fewer than two values).
        median: Median (NaN if none).

    """

    group: str
    label_class: str
    metric: str
    n: int
    n_undefined: int
    mean: float
    sd: float
    median: float


@dataclass(frozen=True)
class GroupSummary:
    """Summary of one group of cases.

    Attributes:
        group: ``all`` or a size group.
        case_ids: Its cases.
        stats: One entry per class and metric.
        pooled_dice: Class → pooled Dice.
        detection: Pooled lesion counts.
        detection_by_size: Lesion-diameter bin → pooled lesion counts.

    """

    group: str
    case_ids: tuple[str, ...]
    stats: tuple[MetricStats, ...]
    pooled_dice: Mapping[str, float]
    detection: DetectionCounts
    detection_by_size: Mapping[str, DetectionCounts]

    def stat(self, label_class: str, metric: str) -> MetricStats:
        """The entry of ``label_class`` / ``metric``.

        Raises:
            KeyError: no such entry.

        """
        for s in self.stats:
            if s.label_class == label_class and s.metric == metric:
                return s
        raise KeyError(f"no {label_class}/{metric} in group {self.group}")


@dataclass(frozen=True)
class EvaluationSummary:
    """Summary of an evaluation run.

    Attributes:
        groups: ``all`` first, then the size groups that have cases.
        n_reference: Reference cases.
        n_scored: Cases scored (including missing ones scored as empty).
        missing: Reference cases without prediction (scored as empty predictions, and so among
            the cases, only when ``missing_as_empty``).
        missing_as_empty: Whether missing cases were scored as empty predictions.
        unmatched_predictions: Predictions without reference case.
        size_rule: How size groups were assigned (one line).
        lesion_iou_threshold: Lesion detection threshold (IoU strictly above).
        lesion_bins_mm: Lesion-diameter bin edges.
        percentile: Percentile of the robust Hausdorff distance.

    """

    groups: tuple[GroupSummary, ...]
    n_reference: int
    n_scored: int
    missing: tuple[str, ...]
    missing_as_empty: bool
    unmatched_predictions: tuple[str, ...]
    size_rule: str
    lesion_iou_threshold: float
    lesion_bins_mm: tuple[float, ...]
    percentile: float

    def group(self, name: str) -> GroupSummary:
        """The group called ``name``.

        Raises:
            KeyError: no case is in that group.

        """
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(f"no group {name!r}; groups: {[g.group for g in self.groups]}")


def describe_values(values: Sequence[float]) -> tuple[int, int, float, float, float]:
    """``(n, n_undefined, mean, sd, median)`` of ``values`` with NaN left out."""
    arr = np.asarray(values, dtype=np.float64)
    finite = arr[~np.isnan(arr)]
    n = int(finite.size)
    if n == 0:
        return 0, int(arr.size), NAN, NAN, NAN
    sd = float(np.std(finite, ddof=1)) if n > 1 else NAN
    return n, int(arr.size) - n, float(finite.mean()), sd, float(np.median(finite))


def summarize_group(
    group: str, cases: Sequence[CaseResult], bins_mm: Sequence[float]
) -> GroupSummary:
    """Summary of ``cases`` under the name ``group``."""
    stats = []
    pooled: dict[str, float] = {}
    for cls in CLASSES:
        for metric in METRICS:
            n, n_nan, mean, sd, median = describe_values(
                [c.classes[cls].metric(metric) for c in cases]
            )
            stats.append(MetricStats(group, cls, metric, n, n_nan, mean, sd, median))
        pooled[cls] = pooled_dice(c.classes[cls].counts for c in cases)
    detection = sum((c.lesions.counts for c in cases), DetectionCounts())
    by_size = {name: DetectionCounts() for name in size_bin_names(bins_mm)}
    for c in cases:
        for name, counts in c.lesions.counts_by_size(bins_mm).items():
            by_size[name] = by_size[name] + counts
    return GroupSummary(
        group=group,
        case_ids=tuple(c.case_id for c in cases),
        stats=tuple(stats),
        pooled_dice=pooled,
        detection=detection,
        detection_by_size=by_size,
    )


def summarize(
    cases: Sequence[CaseResult],
    config: EvaluationConfig | None = None,
    *,
    missing: Sequence[str] = (),
    unmatched_predictions: Sequence[str] = (),
) -> EvaluationSummary:
    """Summarize scored cases overall and by size group.

    Args:
        cases: Scored cases.
        config: The options they were scored with.
        missing: Reference cases without prediction.
        unmatched_predictions: Predictions without reference.

    """
    cfg = config or EvaluationConfig()
    groups = [summarize_group(ALL, cases, cfg.lesion_bins_mm)]
    for name in all_group_names(cfg.size_threshold_cm):
        members = [c for c in cases if c.stratum.group == name]
        if members:
            groups.append(summarize_group(name, members, cfg.lesion_bins_mm))
    return EvaluationSummary(
        groups=tuple(groups),
        n_reference=len({c.case_id for c in cases} | set(missing)),
        n_scored=len(cases),
        missing=tuple(missing),
        missing_as_empty=cfg.missing_as_empty,
        unmatched_predictions=tuple(unmatched_predictions),
        size_rule=describe_size_rule(cfg.size_rule, cfg.size_threshold_cm, cfg.clinical),
        lesion_iou_threshold=cfg.lesion_iou_threshold,
        lesion_bins_mm=tuple(cfg.lesion_bins_mm),
        percentile=cfg.percentile,
    )
