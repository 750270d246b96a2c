"""``smoothseg demo``, the README's main job: a phantom cohort and the CPU-scale experiment."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from smoothseg.errors import InputError
from smoothseg.experiment.config import ExperimentConfig, PhantomSettings
from smoothseg.experiment.runner import ExperimentResult, Log, run_experiment
from smoothseg.phantom import PhantomConfig, generate_cohort


def run_demo(
    config: ExperimentConfig,
    *,
    out: str | Path,
    overwrite: bool = False,
    progress: bool = True,
    say: Log | None = None,
    workers: int = 1,
) -> ExperimentResult:
    """Generate (or reuse) the config's phantom cohort in ``out/phantom``, run the experiment.

    Args:
        config: The experiment (its ``phantom`` settings describe the cohort).
        out: Output folder: ``phantom/`` and ``experiment/`` (with ``report.md``) go there.
        overwrite: Start over; otherwise an earlier demo in ``out`` is resumed.
        progress: Show the trainers' progress bars.
        say: Receives one line per step.
        workers: Training processes at once (see :func:`run_experiment`).

    Raises:
        InputError: ``out/phantom`` holds another cohort and ``overwrite`` is not set.

    """
    tell = say or (lambda line: None)
    p = config.phantom
    cohort = Path(out) / "phantom"
    same = _same_cohort(cohort, p)
    if cohort.exists() and not same and not overwrite:
        raise InputError(cohort, "holds another cohort than this config's; pass --overwrite")
    if overwrite or not same:
        tell(
            f"phantom cohort: {p.cases} cases, seed {p.seed}, {p.shape} voxels of {p.spacing_mm} mm"
        )
        generate_cohort(cohort, p.cases, seed=p.seed, config=cohort_config(p), overwrite=True)
    else:
        tell(f"phantom cohort in {cohort} exists, reused")
    return run_experiment(
        config,
        data=cohort,
        out=Path(out) / "experiment",
        overwrite=overwrite,
        resume=True,
        progress=progress,
        say=say,
        workers=workers,
    )


def cohort_config(p: PhantomSettings) -> PhantomConfig:
    """The generator config of the cohort ``p`` describes (its seed included)."""
    phantom = PhantomConfig.preset(
        p.size,
        shape=p.shape,
        spacing_mm=p.spacing_mm,
        diameter_range_mm=p.tumor_diameter_range_mm,
        noise_sigma_hu=p.noise_sigma_hu,
    )
    return replace(phantom, seed=p.seed)


def _same_cohort(cohort: Path, p: PhantomSettings) -> bool:
    """Whether ``cohort`` is the phantom cohort these settings generate (then it is reused).

    Every generator setting saved in ``phantom_config.json`` must equal the one ``p`` resolves
    to, so a setting added to :class:`PhantomSettings` is compared without touching this.
    """
    try:
        saved = json.loads((cohort / "phantom_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = cohort_config(p).to_dict()
    return saved.get("n_cases") == p.cases and all(saved.get(k) == v for k, v in expected.items())
