"""Evaluation: segmentation metrics, lesion detection, tumor-size strata and summaries.

Metrics are pure numpy/scipy functions of label arrays and ``spacing_mm``; the paper's SD.2
metrics are in :mod:`~smoothseg.evaluation.overlap`, surface distances in
:mod:`~smoothseg.evaluation.surface`, LiTS-style lesion detection in
:mod:`~smoothseg.evaluation.lesions`, Table 4 size groups in :mod:`~smoothseg.evaluation.strata`.
:func:`evaluate_labels` scores one case, :func:`evaluate_predictions` a folder, and
:func:`write_evaluation` writes the CSV/JSON/Markdown outputs. See ``docs/evaluation.md``.
"""

from smoothseg.evaluation.case import (
    CLASSES,
    METRICS,
    CaseResult,
    ClassMetrics,
    EvaluationConfig,
    class_metrics,
    evaluate_labels,
    evaluate_volumes,
)
from smoothseg.evaluation.evaluate import EvaluationResult, evaluate_predictions
from smoothseg.evaluation.lesions import (
    DEFAULT_LESION_BINS_MM,
    LITS_IOU_THRESHOLD,
    DetectionCounts,
    LesionDetection,
    LesionGroup,
    match_lesions,
    size_bin_names,
)
from smoothseg.evaluation.overlap import (
    ConfusionCounts,
    accuracy,
    confusion_counts,
    dice,
    iou,
    pooled_dice,
    relative_volume_error,
    sensitivity,
    specificity,
)
from smoothseg.evaluation.pairing import CasePair, Pairing, find_label_files, pair_cases
from smoothseg.evaluation.strata import (
    SIZE_RULES,
    SizeRule,
    SizeStratum,
    assign_stratum,
    read_clinical_sizes_cm,
)
from smoothseg.evaluation.summary import (
    EvaluationSummary,
    GroupSummary,
    MetricStats,
    summarize,
)
from smoothseg.evaluation.surface import SurfaceMetrics, assd_mm, hd95_mm, surface_metrics
from smoothseg.evaluation.tables import summary_markdown, write_evaluation

__all__ = [
    "CLASSES",
    "DEFAULT_LESION_BINS_MM",
    "LITS_IOU_THRESHOLD",
    "METRICS",
    "SIZE_RULES",
    "CasePair",
    "CaseResult",
    "ClassMetrics",
    "ConfusionCounts",
    "DetectionCounts",
    "EvaluationConfig",
    "EvaluationResult",
    "EvaluationSummary",
    "GroupSummary",
    "LesionDetection",
    "LesionGroup",
    "MetricStats",
    "Pairing",
    "SizeRule",
    "SizeStratum",
    "SurfaceMetrics",
    "accuracy",
    "assd_mm",
    "assign_stratum",
    "class_metrics",
    "confusion_counts",
    "dice",
    "evaluate_labels",
    "evaluate_predictions",
    "evaluate_volumes",
    "find_label_files",
    "hd95_mm",
    "iou",
    "match_lesions",
    "pair_cases",
    "pooled_dice",
    "read_clinical_sizes_cm",
    "relative_volume_error",
    "sensitivity",
    "size_bin_names",
    "specificity",
    "summarize",
    "summary_markdown",
    "surface_metrics",
    "write_evaluation",
]
