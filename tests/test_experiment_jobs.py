"""The experiment's training runs as jobs: over two worker processes they finish the same steps
as in one process, a failing job stops the run with its error, and the longest go first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smoothseg.datasets.splits import Split
from smoothseg.errors import InputError
from smoothseg.experiment import experiment_config_from_dict, run_experiment
from smoothseg.experiment.jobs import TrainJob, run_train_jobs
from smoothseg.experiment.runner import train_steps

SMALL = {"target_spacing_mm": [16.0, 16.0, 16.0], "roi_size": [16, 16, 16]}
ONE = {
    "name": "jobs",
    "replications": 1,
    "test_fraction": 0.25,
    "val_fraction": 0.2,
    "baselines": ["unet"],
    "ablation_model": "unet",
    "train_preset": "cpu-small",
    "training": {
        "train": {"max_epochs": 1},
        "model": {"name": "unet"},
        "liver": {**SMALL, "samples_per_volume": 1},
        "tumor": {**SMALL, "samples_per_volume": 1},
        "multiclass": {**SMALL, "samples_per_volume": 1},
    },
    "clinical": {"select": False, "folds": 2, "compare": False},
    "predict": {"overlap": 0.0, "chan_vese_iterations": 1},
    "figure_cases": 0,
}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from smoothseg.phantom import PhantomConfig, generate_cohort

    folder = tmp_path_factory.mktemp("jobs") / "cohort"
    phantom = PhantomConfig.preset("small", shape=(48, 48, 30), spacing_mm=(8.0, 8.0, 8.0))
    generate_cohort(folder, 6, seed=5, config=phantom)
    return folder


def test_two_workers_finish_every_step_and_the_report(cohort: Path, tmp_path: Path) -> None:
    config = experiment_config_from_dict(ONE)
    names = [s.name for s in train_steps(config)]
    run = tmp_path / "out" / "runs" / "replication_1"
    lines: list[str] = []
    finished_at_line: list[int] = []

    def say(line: str) -> None:
        lines.append(line)
        if "trained (" in line:
            finished_at_line.append(sum((run / n / "done.json").is_file() for n in names))

    result = run_experiment(
        config, data=cohort, out=tmp_path / "out", progress=False, say=say, workers=2
    )
    # each job is reported as it ends, not all at the end
    assert finished_at_line and finished_at_line[0] < len(names)
    for name in names:
        done = json.loads((run / name / "done.json").read_text(encoding="utf-8"))
        assert done["config"]["train"]["model"]["name"] == "unet", name
        assert (run / name / "bundle").is_dir(), name
    assert sorted(n for n in result.log.ran if "/clinical" not in n and "/evaluation" not in n) == [
        f"replication_1/{n}" for n in sorted(names)
    ]
    assert any("2 worker processes" in line for line in lines)
    assert sum("trained (" in line for line in lines) == len(names)
    assert result.report.is_file()
    # resuming with one worker finds every training step finished
    again = run_experiment(config, data=cohort, out=tmp_path / "out", progress=False, workers=1)
    assert not [n for n in again.log.ran if "/clinical" not in n and "/evaluation" not in n]


def _job(name: str, model: str, epochs: int, cache: Path) -> TrainJob:
    data = {**ONE, "baselines": [model], "ablation_model": model}
    data["training"] = {**ONE["training"], "train": {"max_epochs": epochs}}  # type: ignore[dict-item]
    config = experiment_config_from_dict(data)
    step = next(s for s in train_steps(config) if s.name == f"multiclass_{model}")
    split = Split(name="r", train=("A", "B"), val=(), test=())
    return TrainJob(name, step, {"name": name}, cache / name, cache, split, {})


def test_longest_jobs_go_first(tmp_path: Path) -> None:
    cheap = _job("cheap", "unet", 1, tmp_path)
    dear = _job("dear", "segresnetvae", 1, tmp_path)
    longer = _job("longer", "unet", 10, tmp_path)
    assert dear.cost > cheap.cost
    assert longer.cost == pytest.approx(10 * cheap.cost)


def test_a_failing_job_stops_the_run_with_its_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-cache"
    jobs = [_job(f"j{i}", "unet", 1, missing) for i in range(3)]
    with pytest.raises(InputError, match="no such manifest"):  # the job's own error
        run_train_jobs(jobs, workers=2, threads=1, progress=False)
    assert not any((missing / j.name / "done.json").exists() for j in jobs)
