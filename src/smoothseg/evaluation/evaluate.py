"""Evaluate a folder of predicted label maps against references (folder or prepared cache).

:func:`evaluate_predictions` pairs cases (:mod:`smoothseg.evaluation.pairing`), reads both
label maps, brings them to canonical RAS, checks they share one grid, scores each case
(:func:`smoothseg.evaluation.case.evaluate_volumes`) and summarizes
(:func:`smoothseg.evaluation.summary.summarize`). A reference without prediction is never
dropped silently: it is listed as missing (or scored as an empty prediction with
``missing_as_empty``). A prediction that cannot be scored (unreadable, other grid, label values
other than 0/1/2) stops the run with an error naming the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from smoothseg.datasets.cache import load_cached_case
from smoothseg.errors import InputError
from smoothseg.evaluation.case import CaseResult, EvaluationConfig, evaluate_volumes
from smoothseg.evaluation.pairing import CasePair, pair_cases
from smoothseg.evaluation.strata import read_clinical_sizes_cm
from smoothseg.evaluation.summary import EvaluationSummary, summarize
from smoothseg.io import Volume, read_volume

MISSING_STATUS = "missing prediction, scored as empty"
#: Called before each case with (case id, index from 0, number of cases).
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EvaluationResult:
    """Per-case results and their summary.

    Attributes:
        cases: Scored cases, sorted by case id.
        summary: Summary overall and by size group.
        config: Options used.
        pred_dir: Prediction folder.
        ref: Reference folder, cache or manifest.

    """

    cases: tuple[CaseResult, ...]
    summary: EvaluationSummary
    config: EvaluationConfig
    pred_dir: str
    ref: str


def load_reference(pair: CasePair) -> Volume:
    """The reference label volume of ``pair`` (from the cache or a label file)."""
    if pair.from_cache:
        return load_cached_case(pair.ref, pair.case_id).label
    return read_volume(pair.ref, kind="label")


def _ref_name(pair: CasePair) -> str:
    return f"{pair.ref}#{pair.case_id}" if pair.from_cache else str(pair.ref)


def evaluate_pair(
    pair: CasePair,
    config: EvaluationConfig,
    clinical_sizes_cm: Mapping[str, float | None] | None = None,
) -> CaseResult | None:
    """Score one pair; ``None`` for a missing prediction unless ``config.missing_as_empty``."""
    if pair.pred is None and not config.missing_as_empty:
        return None
    ref = load_reference(pair)
    if pair.pred is None:
        pred = ref.with_array(np.zeros(ref.shape, dtype=np.uint8))
    else:
        pred = read_volume(pair.pred, kind="label")
    result = evaluate_volumes(
        pred,
        ref,
        case_id=pair.case_id,
        patient_id=pair.patient_id,
        config=config,
        clinical_sizes_cm=clinical_sizes_cm,
        pred_path=pair.pred or "",
        ref_path=_ref_name(pair),
    )
    return result if pair.pred is not None else replace(result, status=MISSING_STATUS)


def evaluate_predictions(
    pred_dir: str | Path,
    ref: str | Path,
    config: EvaluationConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> EvaluationResult:
    """Score every prediction in ``pred_dir`` against ``ref`` and summarize.

    Args:
        pred_dir: Folder of predicted label maps (layouts: :mod:`~.pairing`).
        ref: Folder of reference label maps, a prepared cache folder, or its manifest.
        config: Scoring options.
        progress: Called before each case.

    Raises:
        InputError: missing/ambiguous folders, no reference case, unreadable label, a
            prediction off the reference grid, label values other than 0/1/2, or a clinical
            size rule without a readable clinical table.

    """
    cfg = config or EvaluationConfig()
    sizes = None
    if cfg.size_rule != "mask":
        if cfg.clinical is None:
            raise InputError("--clinical", f"--size-rule {cfg.size_rule} needs --clinical TABLE")
        sizes = read_clinical_sizes_cm(cfg.clinical)
    pairing = pair_cases(pred_dir, ref)
    cases = []
    for index, pair in enumerate(pairing.pairs):
        if progress is not None:
            progress(pair.case_id, index, len(pairing.pairs))
        result = evaluate_pair(pair, cfg, sizes)
        if result is not None:
            cases.append(result)
    summary = summarize(
        cases,
        cfg,
        missing=pairing.missing,
        unmatched_predictions=pairing.unmatched_predictions,
    )
    return EvaluationResult(tuple(cases), summary, cfg, str(pred_dir), str(ref))
