"""``smoothseg train`` end to end on a tiny hand-made cache (in process, one-epoch runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smoothseg.cli import main
from training_data import tiny_cache


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli")
    cache = tiny_cache(folder, n_cases=6)
    splits = folder / "splits.json"
    with pytest.raises(SystemExit) as exit_info:
        main(["split", "--manifest", str(cache), "--replications", "2", "--out", str(splits)])
    assert exit_info.value.code == 0
    return cache, splits


def test_train_liver_then_resume(
    data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache, splits = data
    run = tmp_path / "run"
    base = ["train", "liver", "--data", str(cache), "--split", str(splits), "--out", str(run)]
    opts = ["--preset", "cpu-small", "--model", "unet", "--max-epochs", "1", "--no-progress"]
    code, out, err = cli(capsys, *base, *opts, "--replication", "2", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["epochs"] == 1 and Path(summary["bundle"]).is_dir()
    assert json.loads((run / "run.json").read_text())["split"] == "replication_2"
    for name in ("metrics.csv", "curves.png", "last.pt", "config.json"):
        assert (run / name).is_file()

    code, _, err = cli(capsys, *base, *opts)
    assert code == 2 and "already exists" in err and "--overwrite" in err

    code, out, err = cli(capsys, *base, "--resume", "--max-epochs", "2", "--replication", "2")
    assert code == 0, err
    assert "best_val_dice" in out
    assert len((run / "metrics.csv").read_text().splitlines()) == 3

    # Re-running the first command with --resume (as the interrupt message says) resumes ...
    same = ["--preset", "cpu-small", "--model", "unet", "--no-progress", "--replication", "2"]
    code, out, err = cli(capsys, *base, *same, "--resume", "--max-epochs", "3")
    assert code == 0, err
    assert len((run / "metrics.csv").read_text().splitlines()) == 4
    # ... while an option that would change the run is refused, naming the field.
    code, _, err = cli(capsys, *base, "--resume", "--seed", "3", "--replication", "2")
    assert code == 2 and "seed would change when resuming" in err
    code, _, err = cli(capsys, *base, *same, "--resume", "--model", "segresnet")
    assert code == 2 and "would change when resuming" in err
    code, _, err = cli(capsys, *base, *opts, "--overwrite")
    assert code == 0, err


def test_train_tumor_with_soft_labels_and_config(
    data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache, splits = data
    soft = tmp_path / "soft_labels.csv"
    soft.write_text(
        "case_id,tlvr,tlvr_hat,fold\nTINY_001,0.02,0.03,1\nTINY_002,0.05,0.04,1\nTINY_003,0.05,,1\n"
    )
    config = tmp_path / "tumor.toml"
    config.write_text(
        '[model]\nname = "unet"\n[train]\nmax_epochs = 1\n'
        '[tumor]\ntarget_spacing_mm = "keep"\nroi_size = [16, 16, 16]\n'
    )
    code, out, err = cli(
        capsys,
        "train", "tumor", "--data", str(cache), "--split", str(splits), "--out",
        str(tmp_path / "run"), "--preset", "cpu-small", "--config", str(config),
        "--soft-labels", str(soft), "--no-progress", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["stage"] == "tumor"
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["soft_labels"] == str(soft)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["lung"], "unknown stage"),
        (["liver", "--soft-labels", "x.csv"], "not used by the liver stage"),
        (["liver", "--replication", "9"], "no split 'replication_9'"),
        (["liver", "--preset", "huge"], "unknown preset"),
        (["liver", "--resume"], "config.json"),
        (["tumor"], "alpha = 0.5 needs soft labels"),
        (["tumor"], "or --alpha 0"),
        (["multiclass", "--alpha", "0.3"], "alpha = 0.3 needs soft labels"),
    ],
)
def test_train_errors_are_one_line(
    data: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    cache, splits = data
    args = ["train", *extra, "--data", str(cache), "--split", str(splits)]
    code, _, err = cli(capsys, *args, "--out", str(tmp_path / "r"), "--no-progress")
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
