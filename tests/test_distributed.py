"""Distributed data-parallel training: a real 2-process gloo run under torchrun on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smoothseg.cli import main
from smoothseg.cli.torchrun import torchrun_command, without_option
from smoothseg.training.distributed import DistContext, rank_seed
from training_data import tiny_cache

CONFIG = """
[model]
name = "unet"
[train]
max_epochs = 2
batch_size = 1
num_workers = 0
persistent_cache = true
[liver]
target_spacing_mm = "keep"
roi_size = [16, 16, 16]
samples_per_volume = 2
"""


def test_launch_helpers() -> None:
    argv = ["train", "liver", "--nproc", "2", "--out", "r", "--nproc=3"]
    assert without_option(argv, "--nproc") == ["train", "liver", "--out", "r"]
    command = torchrun_command(2, ["train", "liver"])
    assert command[1:3] == ["-m", "torch.distributed.run"]
    assert command[-4:] == ["-m", "smoothseg", "train", "liver"]
    assert not DistContext().enabled and DistContext().is_main
    assert rank_seed(5, 0) == 5 and rank_seed(5, 1) != rank_seed(5, 2)


def test_two_process_gloo_run_keeps_ranks_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tiny_cache(tmp_path, n_cases=6)
    splits = tmp_path / "splits.json"
    with pytest.raises(SystemExit) as done:
        main(["split", "--manifest", str(cache), "--replications", "1", "--out", str(splits)])
    assert done.value.code == 0
    config = tmp_path / "ddp.toml"
    config.write_text(CONFIG)
    run, sums = tmp_path / "run", tmp_path / "checksums"
    command = [
        sys.executable, "-m", "smoothseg", "train", "liver", "--data", str(cache),
        "--split", str(splits), "--out", str(run), "--preset", "cpu-small",
        "--config", str(config), "--device", "cpu", "--no-progress", "--json",
        "--nproc", "2", "--checksum-log", str(sums),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    done_run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done_run.returncode == 0, done_run.stderr[-3000:]
    summary = json.loads(done_run.stdout[done_run.stdout.index("{") :])
    assert summary["epochs"] == 2  # rank 0 alone reports

    # every step of every rank: identical weights (DDP averaged the gradients)
    rank0 = (sums / "rank0.txt").read_text().splitlines()
    rank1 = (sums / "rank1.txt").read_text().splitlines()
    # each rank holds half of the training cases per epoch (DistributedSampler)
    train_cases = len(json.loads((run / "run.json").read_text())["train"])
    assert len(rank0) == 2 * ((train_cases + 1) // 2)
    assert rank0 == rank1
    assert len({line.split()[1] for line in rank0}) == len(rank0)  # the weights do change

    rows = (run / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3  # rank 0 logged both epochs, once
    preprocessed = list((cache / "preprocessed").glob("liver-train-*/*/arrays.json"))
    assert len(preprocessed) == train_cases  # the ranks shared one disk cache

    image = cache.parent / "pairs" / "cases" / "TINY_001" / "image.nii.gz"
    out = tmp_path / "pred"
    with pytest.raises(SystemExit) as done:
        main(["predict", "--input", str(image), "--out", str(out), "--model", str(run / "bundle")])
    assert done.value.code == 0, capsys.readouterr().err
    assert (out / "statistics.json").is_file()


def _agree_worker(rank: int, port: int, out: str) -> None:
    import signal

    import torch
    import torch.distributed as dist

    from smoothseg.training.distributed import agreed_signal

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        ctx = DistContext(rank=rank, world_size=2, backend="gloo")
        mine = int(signal.SIGTERM) if rank == 1 else None  # only rank 1 saw the signal
        first = agreed_signal(mine, ctx, torch.device("cpu"))
        calm = agreed_signal(None, ctx, torch.device("cpu"))
        Path(out, f"rank{rank}.json").write_text(json.dumps([first, calm]))
    finally:
        dist.destroy_process_group()


def test_a_signal_seen_by_one_rank_stops_every_rank(tmp_path: Path) -> None:
    import signal
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mp.spawn(_agree_worker, args=(port, str(tmp_path)), nprocs=2, join=True)
    for rank in (0, 1):
        first, calm = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert first == int(signal.SIGTERM) and calm is None
