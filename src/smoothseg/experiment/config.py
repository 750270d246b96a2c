"""The frozen experiment configuration (:class:`ExperimentConfig`) and its YAML loader.

An experiment file (YAML; shipped: ``paper``, ``paper-device`` and ``cpu-small`` in
``smoothseg/configs/experiments/``) holds, every key optional except where noted::

    name: cpu-small
    replications: 3             # the paper's three 80/20 replications
    test_fraction: 0.2
    val_fraction: 0.1           # carved from each replication's training patients
    split_seed: 0               # splits are reproducible from (seed, sorted patient ids)
    alpha: 0.5                  # α of the smoothed tumor model (the other one has α = 0)
    baselines: [unet, segresnet]   # multi-class baselines (registered model names)
    ablation_model: segresnetvae   # ablation I: this multi-class model, plain (Table 5)
    train_preset: cpu-small     # training preset the `training` tables are laid over
    training: {train: {...}, liver: {...}, tumor: {...}, multiclass: {...}, model: {...}}
    stage_training: {tumor: {train: {max_epochs: 24}}}   # laid over `training` for one stage
    clinical: {...}             # ClinicalConfig fields (the soft-label regression)
    clinical_table: null        # path; default: found next to the data (see experiment.data)
    predict: {...}              # PredictConfig fields (``refine`` is switched per variant;
                                # min_lesion_mm3 defaults to 0 here: the paper has no filter)
    evaluation: {...}           # size_rule, size_threshold_cm, percentile, lesion_iou_threshold
    figure_cases: 3             # test cases shown in the sample-segmentation figure
    phantom: {cases, seed, size, shape, spacing_mm, tumor_diameter_range_mm, noise_sigma_hu}
    notes: "..."                # copied into report.md

Unknown keys anywhere are an error that lists the valid ones. The ``training`` tables are
resolved at load into one :class:`~smoothseg.training.TrainConfig` per stage and model, so a
bad training value fails before anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from smoothseg.clinical.api import ClinicalConfig
from smoothseg.config_file import read_config_file
from smoothseg.errors import InputError, SmoothsegError
from smoothseg.models.registry import MODELS
from smoothseg.predict.config import PredictConfig
from smoothseg.training.config import PRESETS, TrainConfig, build_train_config, merge, preset_data

SHIPPED: tuple[str, ...] = ("paper", "cpu-small", "paper-device")
EVALUATION_KEYS = ("size_rule", "size_threshold_cm", "percentile", "lesion_iou_threshold")
TRAINING_TABLES = ("scale", "train", "model", "loss", "liver", "tumor", "multiclass")
STAGES = ("liver", "tumor", "multiclass")
#: Predict options that differ from smoothseg predict's: the paper filters no lesion by size and
#: does not cut the liver at necks (a [predict] table overrides them).
PAPER_PREDICT: dict[str, Any] = {"min_lesion_mm3": 0.0, "liver_neck_mm": 0.0}


class ExperimentConfigError(SmoothsegError, ValueError):
    """An experiment configuration is invalid (unknown key, bad value, unknown model...)."""


def check_keys(data: Mapping[str, Any], valid: tuple[str, ...] | set[str], what: str) -> None:
    """Raise :class:`ExperimentConfigError` naming unknown keys and listing the valid ones."""
    unknown = sorted(str(k) for k in data if k not in valid)
    if unknown:
        raise ExperimentConfigError(
            f"unknown {what} key(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
        )


@dataclass(frozen=True)
class PhantomSettings:
    """The synthetic cohort ``smoothseg demo`` generates (see :mod:`smoothseg.phantom`).

    ``tumor_diameter_range_mm`` truncates tumor diameters (generator default 5-150 mm);
    ``noise_sigma_hu`` is the per-voxel noise sd on the cohort's grid (default 10-25 HU, a scan's
    noise at sub-millimetre voxels: coarser cohorts should lower it, see docs/phantom.md).
    """

    cases: int = 10
    seed: int = 1000
    size: str = "small"
    shape: tuple[int, int, int] = (96, 96, 60)
    spacing_mm: tuple[float, float, float] = (4.0, 4.0, 4.0)
    tumor_diameter_range_mm: tuple[float, float] = (5.0, 150.0)
    noise_sigma_hu: tuple[float, float] = (10.0, 25.0)

    def __post_init__(self) -> None:
        if self.cases < 5:
            raise ExperimentConfigError("phantom.cases must be >= 5 (train, val and test parts)")
        lo, hi = self.tumor_diameter_range_mm
        if not 0 < lo < hi:
            raise ExperimentConfigError(
                f"phantom.tumor_diameter_range_mm must be increasing and positive, got {lo}, {hi}"
            )
        lo, hi = self.noise_sigma_hu
        if not 0 <= lo <= hi:
            raise ExperimentConfigError(
                f"phantom.noise_sigma_hu must be a range 0 <= low <= high, got {lo}, {hi}"
            )


@dataclass(frozen=True)
class StagePlan:
    """Resolved training configs: the liver stage, the tumor stage and each multi-class model.

    ``tumor`` carries the experiment's α; :meth:`ExperimentConfig.tumor_config` gives the
    α = 0 twin. ``multiclass`` maps model name → config (baselines and the ablation model).
    """

    liver: TrainConfig
    tumor: TrainConfig
    multiclass: Mapping[str, TrainConfig]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every resolved config."""
        return {
            "liver": self.liver.to_dict(),
            "tumor": self.tumor.to_dict(),
            "multiclass": {k: v.to_dict() for k, v in self.multiclass.items()},
        }


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: splits, models, training, clinical fit, prediction and evaluation.

    Attributes:
        name: Label used in the report.
        replications: Random 80/20 patient-level splits (paper: 3).
        test_fraction: Share of patients held out for testing in each replication.
        val_fraction: Share of each replication's training patients used for validation.
        split_seed: Seed of the splits.
        alpha: α of the smoothed tumor model.
        baselines: Multi-class baseline models (registered names).
        ablation_model: Multi-class model of ablation I: the plain multi-class model (no
            two-step, no contour adjustment, no smoothing), as row I of the paper's Table 5;
            trained once and shared when it is also a baseline.
        train_preset: Training preset (``paper`` or ``cpu-small``) the tables are laid over.
        training: The training tables as given (kept for the record).
        stage_training: Per-stage tables (``liver``, ``tumor``, ``multiclass``) laid over
            ``training`` for that stage only, e.g. more epochs for the tumor stage.
        stages: The resolved training configs.
        clinical: Settings of the clinical soft-label regression.
        clinical_table: Clinical table path (``None``: found next to the data).
        predict: Inference and post-processing options (``refine`` switched per variant). The
            minimum-lesion filter ``min_lesion_mm3`` is off (0) unless the file sets it: the
            paper has none.
        size_rule: Size-group rule of Table 4 (``mask``: largest lesion of the reference).
        size_threshold_cm: Table 4 threshold (10 cm).
        percentile: HD percentile (95).
        lesion_iou_threshold: Lesion matching rule.
        figure_cases: Test cases shown in the sample-segmentation figure.
        phantom: Cohort generated by ``smoothseg demo``.
        notes: Free text copied into the report (e.g. why baselines were left out).

    """

    name: str
    stages: StagePlan
    replications: int = 3
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    split_seed: int = 0
    alpha: float = 0.5
    baselines: tuple[str, ...] = (
        "unet",
        "unet_large",
        "unetpp",
        "segresnet",
        "segresnetvae",
        "manet",
    )
    ablation_model: str = "segresnetvae"
    train_preset: str = "paper"
    training: Mapping[str, Any] = field(default_factory=dict)
    stage_training: Mapping[str, Any] = field(default_factory=dict)
    clinical: ClinicalConfig = field(default_factory=ClinicalConfig)
    clinical_table: str | None = None
    predict: PredictConfig = field(default_factory=lambda: PredictConfig(**PAPER_PREDICT))
    size_rule: str = "mask"
    size_threshold_cm: float = 10.0
    percentile: float = 95.0
    lesion_iou_threshold: float = 0.5
    figure_cases: int = 3
    phantom: PhantomSettings = field(default_factory=PhantomSettings)
    notes: str = ""

    def __post_init__(self) -> None:
        problems = []
        if self.replications < 1:
            problems.append("replications must be >= 1")
        if not 0.0 < self.test_fraction < 1.0:
            problems.append("test_fraction must be in (0, 1)")
        if not 0.0 <= self.val_fraction < 1.0:
            problems.append("val_fraction must be in [0, 1)")
        if self.alpha <= 0:
            problems.append("alpha must be > 0 (the unsmoothed twin is trained with alpha 0)")
        if len(set(self.baselines)) != len(self.baselines):
            problems.append("baselines lists a model twice")
        if self.figure_cases < 0:
            problems.append("figure_cases must be >= 0")
        if problems:
            raise ExperimentConfigError("invalid experiment config: " + "; ".join(problems))

    @property
    def multiclass_models(self) -> tuple[str, ...]:
        """Baselines, then the ablation model when it is not a baseline."""
        extra = () if self.ablation_model in self.baselines else (self.ablation_model,)
        return (*self.baselines, *extra)

    def tumor_config(self, *, smoothing: bool) -> TrainConfig:
        """The tumor stage with α = :attr:`alpha` (smoothing) or α = 0."""
        tumor = self.stages.tumor
        return replace(tumor, loss=replace(tumor.loss, alpha=self.alpha if smoothing else 0.0))

    def ablation_config(self) -> TrainConfig:
        """Ablation I's plain multi-class model (α = 0, as every multi-class model here)."""
        return self.stages.multiclass[self.ablation_model]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the settings as given plus every resolved training config."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "stages":
                out["resolved_training"] = value.to_dict()
            elif f.name in ("clinical", "predict", "phantom"):
                out[f.name] = json.loads(json.dumps(asdict(value)))
            elif f.name in ("training", "stage_training"):
                out[f.name] = json.loads(json.dumps(dict(value)))
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out


def _section(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise ExperimentConfigError(f"{key} must be a mapping, got {type(value).__name__}")
    return dict(value)


def _tuples(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


def _models(names: Any, what: str) -> tuple[str, ...]:
    if isinstance(names, str):
        names = [names]
    out = tuple(str(n) for n in names)
    for name in out:
        if name not in MODELS.names():
            raise ExperimentConfigError(
                f"unknown {what} model {name!r}; valid: {', '.join(MODELS.names())}"
            )
    return out


def _stages(
    preset: str,
    training: Mapping[str, Any],
    models: tuple[str, ...],
    alpha: float,
    stage_training: Mapping[str, Any] | None = None,
) -> StagePlan:
    if preset not in PRESETS:
        raise ExperimentConfigError(f"unknown train_preset {preset!r}; valid: {', '.join(PRESETS)}")
    check_keys(training, TRAINING_TABLES, "training")
    per_stage = dict(stage_training or {})
    check_keys(per_stage, STAGES, "stage_training")
    for stage, tables in per_stage.items():
        if not isinstance(tables, Mapping):
            raise ExperimentConfigError(f"stage_training.{stage} must be a table")
        check_keys(tables, TRAINING_TABLES, f"stage_training.{stage}")
    data = merge(preset_data(preset), training)
    name = f"{preset}+experiment" if training or per_stage else preset

    def of(stage: str) -> Mapping[str, Any]:
        return merge(data, per_stage.get(stage, {}))

    liver = _alpha(build_train_config("liver", of("liver"), preset=name), 0.0)
    tumor = _alpha(build_train_config("tumor", of("tumor"), preset=name), alpha)
    multiclass = {
        m: _alpha(
            build_train_config(
                "multiclass", merge(of("multiclass"), {"model": {"name": m}}), preset=name
            ),
            0.0,
        )
        for m in models
    }
    for resolved in (liver, tumor, *multiclass.values()):
        _check_vae_roi(resolved)
    return StagePlan(liver, tumor, multiclass)


def _check_vae_roi(config: TrainConfig) -> None:
    """Fail at load, not hours later: SegResNetVAE's VAE branch needs ROI multiples of 2^levels."""
    zoom = 2 ** len(config.model.blocks_down)
    if config.model.name == "segresnetvae" and any(s % zoom for s in config.model.roi_size):
        raise ExperimentConfigError(
            f"{config.stage} stage: segresnetvae needs roi_size multiples of {zoom}, got "
            f"{list(config.model.roi_size)}"
        )


def _alpha(config: TrainConfig, alpha: float) -> TrainConfig:
    """``config`` with the TLVR weight set (0 where no smoothing is trained)."""
    return replace(config, loss=replace(config.loss, alpha=alpha))


def experiment_config_from_dict(
    data: Mapping[str, Any], *, name: str = "custom"
) -> ExperimentConfig:
    """Build and validate an :class:`ExperimentConfig` from a parsed YAML/JSON mapping.

    Raises:
        ExperimentConfigError: Unknown keys (the message lists the valid ones) or bad values.

    """
    valid = tuple(f.name for f in fields(ExperimentConfig) if f.name not in ("stages",))
    check_keys(data, (*valid, "evaluation"), "experiment")
    values: dict[str, Any] = {k: v for k, v in data.items() if k in valid}
    values.setdefault("name", name)
    try:
        if "baselines" in values:
            values["baselines"] = _models(values["baselines"], "baseline")
        if "ablation_model" in values:
            values["ablation_model"] = _models(values["ablation_model"], "ablation")[0]
        clinical = _section(data, "clinical")
        check_keys(clinical, {f.name for f in fields(ClinicalConfig)}, "clinical")
        values["clinical"] = ClinicalConfig(**_tuples(clinical))
        predict = _section(data, "predict")
        check_keys(predict, {f.name for f in fields(PredictConfig)}, "predict")
        values["predict"] = PredictConfig(**{**PAPER_PREDICT, **_tuples(predict)})
        phantom = _section(data, "phantom")
        check_keys(phantom, {f.name for f in fields(PhantomSettings)}, "phantom")
        values["phantom"] = PhantomSettings(**_tuples(phantom))
        evaluation = _section(data, "evaluation")
        check_keys(evaluation, EVALUATION_KEYS, "evaluation")
        values.update(evaluation)
        values["training"] = _section(data, "training")
        values["stage_training"] = _section(data, "stage_training")
        values["stages"] = _stages(
            str(values.get("train_preset", _DEFAULTS["train_preset"])),
            values["training"],
            _multiclass_models(values),
            float(values.get("alpha", _DEFAULTS["alpha"])),
            values["stage_training"],
        )
        return ExperimentConfig(**values)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ExperimentConfigError):
            raise
        raise ExperimentConfigError(f"invalid experiment config: {exc}") from exc


_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in fields(ExperimentConfig) if f.default is not MISSING
}


def _multiclass_models(values: Mapping[str, Any]) -> tuple[str, ...]:
    baselines = tuple(values.get("baselines", _DEFAULTS["baselines"]))
    ablation = str(values.get("ablation_model", _DEFAULTS["ablation_model"]))
    return baselines if ablation in baselines else (*baselines, ablation)


def shipped_path(name: str) -> Path:
    """Path of a shipped experiment config (``paper``, ``paper-device``, ``cpu-small``)."""
    files = resources.files("smoothseg.configs").joinpath("experiments", f"{name}.yaml")
    return Path(str(files))


def load_experiment_config(config: str | Path) -> ExperimentConfig:
    """Load a shipped experiment config (``paper``, ``paper-device``, ``cpu-small``) or a path.

    Raises:
        InputError: A path that does not exist or does not parse.
        ExperimentConfigError: Unknown keys or invalid values.

    """
    text = str(config)
    if text in SHIPPED:
        path = shipped_path(text)
    else:
        path = Path(text).expanduser()
        if not path.is_file():
            raise InputError(
                path, f"experiment config not found (shipped configs: {', '.join(SHIPPED)})"
            )
    data = read_mapping(path)
    return experiment_config_from_dict(data, name=path.stem)


def read_mapping(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON experiment config (:func:`smoothseg.config_file.read_config_file`)."""
    return read_config_file(path, what="experiment config")
