"""Crash safety with real processes: SIGTERM mid-training then --resume, and a predict killed
while writing (no partial file looks finished).

The killed run is a real ``smoothseg train`` subprocess; the uninterrupted reference (run
meanwhile) and the resume run in this process. All use one thread (``OMP_NUM_THREADS=1`` /
``torch.set_num_threads(1)``): CPU results are bit-identical only for the same thread count.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from smoothseg.io import read_volume
from smoothseg.io.claim import LOCK_NAME
from smoothseg.predict import PredictConfig, Predictor
from smoothseg.predict.scan import predict_scan
from training_data import default_splits, tiny_cache

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "SMOOTHSEG_DEBUG": ""}
EPOCHS = 4
TINY = '[model]\nname = "unet"\n[train]\nval_every = 1\n[liver]\nroi_size = [16, 16, 16]\n'


def _smoothseg(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "smoothseg", *(str(a) for a in args)]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("crash")
    cache = tiny_cache(folder, n_cases=6)
    splits = default_splits(cache, folder / "splits.json")
    config = folder / "tiny.toml"
    config.write_text(TINY)
    return cache, splits, config


def _rows(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open(newline="") as fh:
        return [
            {k: v for k, v in row.items() if not k.endswith("_seconds")}
            for row in csv.DictReader(fh)
        ]


def _model(path: Path) -> dict[str, torch.Tensor]:
    data = torch.load(path, map_location="cpu", weights_only=True)
    return data.get("model", data)  # bundle/model.pt is a bare state dict


def _kill_after_first_epoch(victim: subprocess.Popen[str], run: Path) -> None:
    deadline = time.monotonic() + 240
    while not (run / "metrics.csv").is_file() and victim.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    victim.send_signal(signal.SIGTERM)


def _train_in_process(args: list[str]) -> None:
    """``smoothseg train`` in this process, with one thread like the killed subprocess."""
    from smoothseg.cli import main

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 0
    finally:
        torch.set_num_threads(threads)


def test_sigterm_mid_training_then_resume_equals_an_uninterrupted_run(
    data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    cache, splits, config = data
    args = ["train", "liver", "--data", str(cache), "--split", str(splits), "--no-progress"]
    fresh = [*args, "--preset", "cpu-small", "--config", str(config), "--max-epochs", str(EPOCHS)]
    ref, run = tmp_path / "ref", tmp_path / "run"
    victim = subprocess.Popen(
        _smoothseg(*fresh, "--out", run), env=ENV, stderr=subprocess.PIPE, text=True
    )
    watcher = threading.Thread(target=_kill_after_first_epoch, args=(victim, run))
    watcher.start()
    _train_in_process([*fresh, "--out", str(ref)])  # meanwhile, the uninterrupted reference
    watcher.join()
    _, err = victim.communicate(timeout=120)
    assert victim.returncode == 128 + signal.SIGTERM, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "stopped by SIGTERM" in lines[0] and "--resume" in lines[0], err
    assert "Traceback" not in err
    done = torch.load(run / "last.pt", weights_only=True)["epoch"]
    assert 1 <= done < EPOCHS and not (run / "bundle").exists()
    assert len(_rows(run)) == done

    _train_in_process([*args, "--out", str(run), "--resume"])

    assert _rows(run) == _rows(ref) and len(_rows(ref)) == EPOCHS
    for name in ("last.pt", "best.pt", "bundle/model.pt"):
        mine, theirs = _model(run / name), _model(ref / name)
        assert mine.keys() == theirs.keys()
        assert all(torch.equal(mine[k], theirs[k]) for k in mine), name
    logs = [json.loads(ln) for ln in (run / "smoothseg-train.log.jsonl").read_text().splitlines()]
    assert [entry["status"] for entry in logs] == ["interrupted", "ok"]
    assert "SIGTERM" in logs[0]["error"] and logs[1]["arguments"]["resume"] is True


KILL_DURING_WRITE = """
import os, signal, sys
import nibabel

real_save = nibabel.save

def save_half_then_die(img, filename):
    real_save(img, filename)
    with open(filename, "r+b") as fh:  # the file is half written when the power goes
        fh.truncate(os.path.getsize(filename) // 2)
    os.kill(os.getpid(), signal.SIGKILL)

nibabel.save = save_half_then_die
from smoothseg.cli import main
main(sys.argv[1:])
"""


def test_predict_killed_while_writing_leaves_no_partial_file(tmp_path: Path) -> None:
    from smoothseg.phantom import PhantomConfig, generate_cohort

    config = PhantomConfig.preset("small", shape=(48, 48, 30), spacing_mm=(8.0, 8.0, 8.0))
    generate_cohort(tmp_path / "cohort", 1, seed=1234, config=config)
    image = tmp_path / "cohort" / "cases" / "PHANTOM_001" / "image.nii.gz"
    out = tmp_path / "out"
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILL_DURING_WRITE,
            "predict",
            "-i",
            str(image),
            "-o",
            str(out),
            "--no-refine",
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == [], visible  # no labels.nii.gz, no statistics.json: not "finished"
    leftovers = [p.name for p in out.iterdir()]
    # only the hidden temporary file, and the dead run's claim on the folder
    assert all(".tmp" in name or name == LOCK_NAME for name in leftovers), leftovers
    # The rerun needs no --overwrite and writes complete, readable files.
    predictor = Predictor.from_model_dir(None, PredictConfig(refine=False))
    result = predict_scan(predictor, image, out)
    labels = read_volume(result.outputs["labels"], kind="label")
    assert labels.shape == (48, 48, 30) and np.count_nonzero(labels.array) > 0
    assert json.loads((out / "statistics.json").read_text())["status"] == "ok"
    assert not (out / LOCK_NAME).exists()  # the stale claim was taken over, then released
