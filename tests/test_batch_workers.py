"""Batch prediction over worker processes, and resuming an interrupted batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from smoothseg.io import Volume, write_volume
from smoothseg.predict import PredictConfig
from smoothseg.predict.batch import find_inputs
from smoothseg.predict.scan import STATISTICS
from smoothseg.predict.workers import predict_batch_parallel, worker_devices
from training_data import TINY_SPACING, tiny_case


def _scans(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(1)
    affine = np.diag([*TINY_SPACING, 1.0])
    for index in range(n):
        image, _ = tiny_case(index, rng)
        write_volume(Volume(image, affine), folder / f"scan_{index}.nii.gz")
    return folder


def test_worker_devices() -> None:
    assert worker_devices("cpu", 3) == ["cpu", "cpu", "cpu"]
    assert worker_devices("cpu") == ["cpu"]
    assert worker_devices("cuda:1", 2) == ["cuda:1", "cuda:1"]


def test_two_workers_then_resume(tmp_path: Path) -> None:
    inputs = find_inputs(_scans(tmp_path / "scans", 3))
    assert inputs is not None and len(inputs) == 3
    out = tmp_path / "out"
    config = PredictConfig(preview=False)
    seen: list[str] = []
    outcomes = predict_batch_parallel(
        None, config, inputs, out, workers=2, on_case=lambda o: seen.append(o.case_id)
    )
    assert [o.state for o in outcomes] == ["done"] * 3, [o.error for o in outcomes]
    assert sorted(seen) == [i.case_id for i in inputs]
    assert {o.worker for o in outcomes} <= {0, 1}
    for outcome in outcomes:
        saved = json.loads((out / outcome.case_id / STATISTICS).read_text())
        assert json.loads(json.dumps(outcome.statistics)) == saved

    # an interrupted run: case 1 lost its completion marker (written last), the others kept it
    (out / "scan_1" / STATISTICS).unlink()
    kept = {c: (out / c / STATISTICS).stat().st_mtime_ns for c in ("scan_0", "scan_2")}
    again = predict_batch_parallel(None, config, inputs, out, workers=2)
    assert [o.state for o in again] == ["skipped", "done", "skipped"]
    assert again[1].worker == -1  # one case left: run in this process
    assert {c: (out / c / STATISTICS).stat().st_mtime_ns for c in kept} == kept
    assert (out / "scan_1" / STATISTICS).is_file()
