"""Every metric of one case: a predicted label map against a reference label map.

Classes (harmonized labels 0 background, 1 liver, 2 tumor):

* ``liver`` = labels 1 ∪ 2, the **whole liver including tumor**. SD.2 says only that metrics are
  "class-wise for liver and tumor"; we read "liver" as the organ, tumor included, because the
  paper's global model segments the organ whose box and mask the tumor model then works in, and
  because TLVR (eq. 1) and the LiTS liver score use the whole liver too.
* ``tumor`` = label 2.

Per class: the SD.2 overlap metrics (accuracy, Dice, IoU, sensitivity, specificity, all over
every voxel of the volume), relative volume error, volumes in ml, and HD95 / HD / ASSD in mm
(:mod:`smoothseg.evaluation.surface`). For the tumor: lesion-wise detection
(:mod:`smoothseg.evaluation.lesions`) and the case's size group
(:mod:`smoothseg.evaluation.strata`). Empty-mask rules are those of the metric modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from smoothseg.errors import GeometryError, InputError
from smoothseg.evaluation.lesions import (
    DEFAULT_LESION_BINS_MM,
    LITS_IOU_THRESHOLD,
    LesionDetection,
    check_bins_mm,
    match_lesions,
)
from smoothseg.evaluation.overlap import (
    OVERLAP_METRICS,
    ConfusionCounts,
    confusion_counts,
)
from smoothseg.evaluation.strata import (
    DEFAULT_SIZE_THRESHOLD_CM,
    SizeRule,
    SizeStratum,
    assign_stratum,
    check_size_rule,
)
from smoothseg.evaluation.surface import DEFAULT_PERCENTILE, check_spacing_mm, surface_metrics
from smoothseg.io.volume import Volume, check_same_grid

#: Evaluated classes and the harmonized labels each one is made of.
CLASSES: Mapping[str, tuple[int, ...]] = MappingProxyType({"liver": (1, 2), "tumor": (2,)})
MAX_LABEL = 2
#: Per-class metrics summarized across cases, in reporting order.
METRICS: tuple[str, ...] = (
    "accuracy",
    "dice",
    "iou",
    "sensitivity",
    "specificity",
    "hd95_mm",
    "assd_mm",
    "rve",
)


@dataclass(frozen=True)
class EvaluationConfig:
    """How cases are scored and grouped (defaults: the paper's Table 4 and LiTS).

    Attributes:
        lesion_iou_threshold: A lesion correspondence is detected when IoU > this.
        lesion_bins_mm: Upper edges of the lesion-diameter bins.
        percentile: Percentile of the robust Hausdorff distance (95 → HD95).
        size_rule: ``mask``, ``clinical`` or ``clinical-then-mask`` (see ``strata``).
        size_threshold_cm: Large/small tumor threshold.
        clinical: Clinical table with ``TCIA_ID`` and ``Tr_Size`` (clinical size rules).
        missing_as_empty: Score a reference without prediction as an all-background prediction
            (otherwise it is listed and counted as missing, not scored).

    """

    lesion_iou_threshold: float = LITS_IOU_THRESHOLD
    lesion_bins_mm: tuple[float, ...] = DEFAULT_LESION_BINS_MM
    percentile: float = DEFAULT_PERCENTILE
    size_rule: SizeRule = "mask"
    size_threshold_cm: float = DEFAULT_SIZE_THRESHOLD_CM
    clinical: Path | None = None
    missing_as_empty: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "lesion_bins_mm", check_bins_mm(self.lesion_bins_mm))
        if not 0.0 <= self.lesion_iou_threshold < 1.0:
            raise ValueError(
                f"lesion IoU threshold must be in [0, 1), got {self.lesion_iou_threshold}"
            )
        if not self.size_threshold_cm > 0:
            raise ValueError(f"size threshold must be > 0 cm, got {self.size_threshold_cm}")
        if not 0.0 <= self.percentile <= 100.0:
            raise ValueError(f"percentile must be in [0, 100], got {self.percentile}")
        check_size_rule(self.size_rule)


@dataclass(frozen=True)
class ClassMetrics:
    """Metrics of one class in one case (NaN: undefined, see the empty-mask rules).

    Attributes:
        counts: Voxel confusion counts.
        accuracy: SD.2 accuracy.
        dice: SD.2 Dice.
        iou: SD.2 IoU.
        sensitivity: SD.2 sensitivity.
        specificity: SD.2 specificity.
        rve: Relative volume error (pred - ref) / ref.
        hd95_mm: Robust Hausdorff distance (percentile of the config).
        hd_mm: Hausdorff distance.
        assd_mm: Average symmetric surface distance.
        ref_ml: Reference volume.
        pred_ml: Predicted volume.

    """

    counts: ConfusionCounts
    accuracy: float
    dice: float
    iou: float
    sensitivity: float
    specificity: float
    rve: float
    hd95_mm: float
    hd_mm: float
    assd_mm: float
    ref_ml: float
    pred_ml: float

    def metric(self, name: str) -> float:
        """The value of metric ``name`` (one of :data:`METRICS`, ``hd_mm``, ``*_ml``)."""
        value: float = getattr(self, name)
        return value


@dataclass(frozen=True)
class CaseResult:
    """Every metric of one case.

    Attributes:
        case_id: Case id.
        patient_id: Patient id (clinical key).
        shape: Voxels along i, j, k.
        spacing_mm: Voxel size along i, j, k.
        classes: ``liver`` and ``tumor`` metrics.
        lesions: Tumor lesion detection.
        stratum: Tumor-size group.
        pred_path: Prediction file ("" when scored as missing).
        ref_path: Reference file or cache case.
        status: ``ok``, or ``missing prediction, scored as empty``.

    """

    case_id: str
    patient_id: str
    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    classes: Mapping[str, ClassMetrics]
    lesions: LesionDetection
    stratum: SizeStratum
    pred_path: str = ""
    ref_path: str = ""
    status: str = "ok"


def class_metrics(
    pred: npt.NDArray[np.bool_],
    ref: npt.NDArray[np.bool_],
    spacing_mm: Sequence[float],
    *,
    percentile: float = DEFAULT_PERCENTILE,
) -> ClassMetrics:
    """Overlap, volume and surface metrics of one binary class."""
    spacing = check_spacing_mm(spacing_mm, np.ndim(pred))
    counts = confusion_counts(pred, ref)
    overlap = {name: fn(counts) for name, fn in OVERLAP_METRICS.items()}
    surface = surface_metrics(pred, ref, spacing_mm, percentile=percentile)
    voxel_ml = float(np.prod(spacing)) / 1000.0
    return ClassMetrics(
        counts=counts,
        hd95_mm=surface.hd95_mm,
        hd_mm=surface.hd_mm,
        assd_mm=surface.assd_mm,
        ref_ml=counts.ref_voxels * voxel_ml,
        pred_ml=counts.pred_voxels * voxel_ml,
        **overlap,
    )


def _check_labels(array: npt.NDArray[np.generic], what: str) -> None:
    if not np.issubdtype(array.dtype, np.integer) and array.dtype != np.bool_:
        raise ValueError(f"{what} is not an integer label map (dtype {array.dtype})")
    if array.size == 0:
        return
    lo, hi = int(array.min()), int(array.max())
    if lo < 0 or hi > MAX_LABEL:
        values = [int(v) for v in np.unique(array) if not 0 <= v <= MAX_LABEL][:8]
        raise ValueError(
            f"{what} has label value(s) {values}; expected harmonized labels 0 background, "
            "1 liver, 2 tumor"
        )


def evaluate_labels(
    pred_labels: npt.ArrayLike,
    ref_labels: npt.ArrayLike,
    spacing_mm: Sequence[float],
    *,
    case_id: str = "",
    patient_id: str | None = None,
    config: EvaluationConfig | None = None,
    clinical_sizes_cm: Mapping[str, float | None] | None = None,
) -> CaseResult:
    """Score a predicted harmonized label map against the reference (pure numpy).

    Args:
        pred_labels: Predicted labels (0/1/2), 3D.
        ref_labels: Reference labels (0/1/2), same shape.
        spacing_mm: Voxel size along each axis.
        case_id: Case id recorded in the result.
        patient_id: Clinical key (defaults to ``case_id``).
        config: Scoring options (defaults: :class:`EvaluationConfig`).
        clinical_sizes_cm: ``TCIA_ID`` → ``Tr_Size`` for clinical size rules.

    Raises:
        ValueError: shapes differ, not 3D, values outside 0..2, or bad ``spacing_mm``.
        InputError: a clinical size rule without ``clinical_sizes_cm``.

    """
    cfg = config or EvaluationConfig()
    pred = np.asarray(pred_labels)
    ref = np.asarray(ref_labels)
    if pred.shape != ref.shape or pred.ndim != 3:
        raise ValueError(f"need two 3D label maps of one shape, got {pred.shape} and {ref.shape}")
    spacing = tuple(float(s) for s in check_spacing_mm(spacing_mm, 3))
    _check_labels(pred, "prediction")
    _check_labels(ref, "reference")
    if pred.dtype == np.bool_:  # lut[bool array] would be boolean indexing
        pred = pred.view(np.uint8)
    if ref.dtype == np.bool_:
        ref = ref.view(np.uint8)
    classes: dict[str, ClassMetrics] = {}
    masks: dict[str, tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]] = {}
    for name, labels in CLASSES.items():
        lut = np.zeros(MAX_LABEL + 1, dtype=bool)
        lut[list(labels)] = True
        p, r = lut[pred], lut[ref]
        masks[name] = (p, r)
        classes[name] = class_metrics(p, r, spacing, percentile=cfg.percentile)
    tumor_pred, tumor_ref = masks["tumor"]
    lesions = match_lesions(tumor_pred, tumor_ref, spacing, iou_threshold=cfg.lesion_iou_threshold)
    pid = patient_id or case_id
    stratum = assign_stratum(
        patient_id=pid,
        largest_diameter_mm=lesions.largest_ref_diameter_mm,
        has_tumor=classes["tumor"].counts.ref_voxels > 0,
        rule=cfg.size_rule,
        clinical_sizes_cm=clinical_sizes_cm,
        threshold_cm=cfg.size_threshold_cm,
    )
    return CaseResult(
        case_id=case_id,
        patient_id=pid,
        shape=(int(pred.shape[0]), int(pred.shape[1]), int(pred.shape[2])),
        spacing_mm=(spacing[0], spacing[1], spacing[2]),
        classes=classes,
        lesions=lesions,
        stratum=stratum,
    )


def evaluate_volumes(
    pred: Volume,
    ref: Volume,
    *,
    case_id: str,
    patient_id: str | None = None,
    config: EvaluationConfig | None = None,
    clinical_sizes_cm: Mapping[str, float | None] | None = None,
    pred_path: str | Path = "",
    ref_path: str | Path = "",
) -> CaseResult:
    """Score two label volumes after bringing both to canonical RAS and checking their grids.

    Raises:
        InputError: the grids differ or a label map holds values other than 0/1/2 (the message
            names ``pred_path`` or ``ref_path``).

    """
    p, r = pred.to_canonical(), ref.to_canonical()
    try:
        check_same_grid(p, r, names=("prediction", "reference"))
    except GeometryError as exc:
        raise InputError(pred_path or case_id, f"not on the reference's grid: {exc}") from exc
    try:
        result = evaluate_labels(
            np.asarray(p.array),
            np.asarray(r.array),
            r.spacing_mm,
            case_id=case_id,
            patient_id=patient_id,
            config=config,
            clinical_sizes_cm=clinical_sizes_cm,
        )
    except ValueError as exc:
        where = ref_path if str(exc).startswith("reference") else pred_path
        raise InputError(where or case_id, str(exc)) from exc
    return replace(result, pred_path=str(pred_path), ref_path=str(ref_path))
