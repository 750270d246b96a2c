"""Run logs next to every command's outputs, and the SIGTERM/SIGINT guard of training."""

from __future__ import annotations

import json
import logging
import signal
import warnings
from pathlib import Path

import pytest

from smoothseg.cli import main
from smoothseg.cli.runlog import current_run_log, log_path, run_log
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.training.interrupt import (
    TrainingInterrupted,
    interrupt_guard,
    interrupt_requested,
    raise_if_interrupted,
)


def _entries(folder: Path, command: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in log_path(folder, command).read_text().splitlines()]


def test_run_log_records_versions_arguments_timings_and_warnings(tmp_path: Path) -> None:
    with run_log(tmp_path, "demo", {"out": tmp_path, "n": 3}) as log:
        assert current_run_log() is log
        warnings.warn("a python warning", UserWarning, stacklevel=1)
        logging.getLogger("smoothseg.test").warning("a logged warning")
        log.warn("a warning shown by the command")
        log.note("cases", 3)
        with log.timed("work"):
            pass
    assert current_run_log() is None
    (entry,) = _entries(tmp_path, "demo")
    assert entry["status"] == "ok" and entry["error"] is None
    assert entry["arguments"] == {"out": str(tmp_path), "n": 3}
    versions = entry["versions"]
    assert isinstance(versions, dict) and {"smoothseg", "python", "torch", "numpy"} <= set(versions)
    text = " | ".join(entry["warnings"])  # type: ignore[arg-type]
    for needle in ("a python warning", "a logged warning", "shown by the command"):
        assert needle in text
    assert entry["notes"] == {"cases": 3} and "work" in entry["timings_s"]  # type: ignore[operator]
    assert isinstance(entry["wall_s"], float) and entry["finished_utc"]


def test_failures_are_logged_only_beside_real_outputs(tmp_path: Path) -> None:
    with pytest.raises(InputError), run_log(tmp_path / "absent", "x", {}):
        raise InputError("in.nii", "bad")
    assert not (tmp_path / "absent").exists()  # no folder made just for a log
    (tmp_path / "out").mkdir()
    with pytest.raises(InputError), run_log(tmp_path / "out", "x", {}):
        raise InputError("in.nii", "bad")
    assert not log_path(tmp_path / "out", "x").exists()  # nothing but the log: not written
    (tmp_path / "out" / "result.csv").write_text("partial")
    with pytest.raises(InputError), run_log(tmp_path / "out", "x", {}):
        raise InputError("in.nii", "bad")
    with pytest.raises(OutputExistsError), run_log(tmp_path / "out", "x", {}):
        raise OutputExistsError(tmp_path / "out" / "result.csv")  # refused: no log entry
    with run_log(tmp_path / "out", "x", {}):
        pass
    assert [e["status"] for e in _entries(tmp_path / "out", "x")] == ["error", "ok"]
    assert _entries(tmp_path / "out", "x")[0]["error"] == "in.nii: bad"


def test_commands_write_their_run_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cohort"
    with pytest.raises(SystemExit) as exit_info:
        main(["phantom", "--out", str(out), "--cases", "1"])
    assert exit_info.value.code == 0
    (entry,) = _entries(out, "phantom")
    assert entry["command"] == "phantom" and entry["status"] == "ok"
    assert entry["arguments"]["cases"] == 1  # type: ignore[index]
    with pytest.raises(SystemExit):
        main(["phantom", "--out", str(out), "--cases", "1"])  # exists: refused, not logged
    assert "already exists" in capsys.readouterr().err
    assert len(_entries(out, "phantom")) == 1


def test_every_output_command_is_logged() -> None:
    from smoothseg.cli import clinical, evaluate, phantom, predict, prepare, split, train

    for command in (
        prepare.prepare, split.split, clinical.fit, evaluate.evaluate, phantom.phantom,
        train.train, predict.predict,
    ):  # fmt: skip
        assert hasattr(command, "__wrapped__"), command.__name__


def test_interrupt_guard_turns_sigterm_into_a_clean_stop(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with interrupt_guard():
        raise_if_interrupted(tmp_path, 0)  # nothing received yet
        signal.raise_signal(signal.SIGTERM)
        assert interrupt_requested() == signal.SIGTERM
        with pytest.raises(TrainingInterrupted) as err:
            raise_if_interrupted(tmp_path, 3)
    assert err.value.exit_code == 143 and "3 finished epoch(s)" in str(err.value)
    assert "--resume" in str(err.value) and "\n" not in str(err.value)
    assert signal.getsignal(signal.SIGTERM) == before and interrupt_requested() is None


def test_second_signal_is_not_swallowed(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), interrupt_guard():
        signal.raise_signal(signal.SIGINT)
        assert interrupt_requested() == signal.SIGINT
        signal.raise_signal(signal.SIGINT)  # the previous handler (KeyboardInterrupt) runs
