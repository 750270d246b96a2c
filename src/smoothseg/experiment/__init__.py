"""The paper's experiments: replications, baselines, ablation, Tables 2-5 and figures.

Quick use::

    from smoothseg.experiment import load_experiment_config, run_experiment

    config = load_experiment_config("cpu-small")        # or "paper", "paper-device", a YAML path
    result = run_experiment(config, data="COHORT_OR_CACHE", out="OUT")
    print(result.report)                                 # OUT/report.md

See ``docs/experiments.md``.
"""

from smoothseg.experiment.config import (
    SHIPPED,
    ExperimentConfig,
    ExperimentConfigError,
    PhantomSettings,
    StagePlan,
    experiment_config_from_dict,
    load_experiment_config,
)
from smoothseg.experiment.demo import run_demo
from smoothseg.experiment.runner import ExperimentResult, run_experiment

__all__ = [
    "SHIPPED",
    "ExperimentConfig",
    "ExperimentConfigError",
    "ExperimentResult",
    "PhantomSettings",
    "StagePlan",
    "experiment_config_from_dict",
    "load_experiment_config",
    "run_demo",
    "run_experiment",
]
