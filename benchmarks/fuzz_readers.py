"""Long fuzz run of the volume readers (NIfTI, NIfTI.gz, NRRD, MHA, DICOM) with hypothesis.

Inputs come from ``tests/fuzz_inputs.py``: random bytes and header mutations of small files
written by smoothseg's writers (plus small ``../shared/data`` files when present). Each reader
runs in a worker process for ``--seconds``; the parent watches it:

* a reader raising anything but a ``SmoothsegError`` is a **bug** (hypothesis shrinks it and the
  worker prints the falsifying example, then continues with a fresh seed);
* a worker silent for ``--hang-seconds`` is a **hang** (killed; its current example is kept);
* a worker dying from a signal (segfault, abort) is a **crash** (its current example is kept).

Kept examples go to ``benchmarks/results/fuzz-failures/``. The counts go to
``benchmarks/results/fuzz_readers.json`` and one line of ``benchmarks/RESULTS.md``.

Usage: ``.venv/bin/python benchmarks/fuzz_readers.py [--seconds 180] [--readers nifti dicom]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
FAILURES = HERE / "results" / "fuzz-failures"
BATCH = 300  # examples per hypothesis run (each run gets its own seed)


def worker(reader: str, seconds: float, seed: int, work: Path) -> None:
    """Fuzz ``reader`` until time is up; one line per example on stdout (the heartbeat)."""
    import faulthandler
    import warnings

    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    from fuzz_inputs import Example, examples, read_example

    warnings.simplefilter("ignore")  # pydicom/nibabel warn loudly about every broken header
    outcomes: Counter[str] = Counter()
    end = time.monotonic() + seconds
    batch = 0

    faulthandler.enable()  # a segfault prints the Python stack to the worker's stderr file

    def one(example: Example) -> None:
        current = work / "current"
        shutil.rmtree(current, ignore_errors=True)
        print("start", flush=True)  # a hang after "start" is inside a reader
        faulthandler.dump_traceback_later(30.0)  # a slow read prints where it is stuck
        outcome = read_example(example, current)  # deletes `current` unless it dies inside
        faulthandler.cancel_dump_traceback_later()
        outcomes[outcome] += 1
        print(f"ex {outcome}", flush=True)

    while time.monotonic() < end:
        run = settings(
            max_examples=BATCH,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(given(example=examples(reader))(one))
        try:
            hypothesis_seed(seed * 100_003 + batch)(run)()
        except Exception as exc:  # a bug: hypothesis already printed the falsifying example
            print(f"bug {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", flush=True)
            outcomes["BUG"] += 1
        batch += 1
    print("done " + json.dumps(dict(outcomes)), flush=True)


def supervise(reader: str, seconds: float, hang_s: float, work: Path) -> dict[str, Any]:
    """Run workers for ``reader`` for ``seconds`` in all; count examples, bugs, hangs, crashes."""
    tally: Counter[str] = Counter()
    bugs: list[str] = []
    events: list[str] = []
    end = time.monotonic() + seconds
    seed = 0
    while time.monotonic() < end - 1:
        left = end - time.monotonic()
        cmd = [sys.executable, __file__, "--worker", reader, "--seconds", f"{left:.1f}"]
        cmd += ["--seed", str(seed), "--work", str(work)]
        err_path = work / f"worker-{seed}.stderr"  # a file: ITK writes much to stderr, and
        with err_path.open("w") as err_file:  # a full stderr pipe would stall the worker
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file)
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        last = time.monotonic()
        reading = False
        report: list[str] = []
        pending = b""
        while True:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                last = time.monotonic()
                *lines, pending = (pending + chunk).split(b"\n")
                for raw in lines:
                    line = raw.decode(errors="replace")
                    reading = line.startswith("start")
                    if line.startswith("ex "):
                        tally[line.split()[1]] += 1
                    elif line.startswith("bug "):
                        bugs.append(line[4:].strip())
                    elif not line.startswith(("start", "done")):
                        report.append(line + "\n")  # hypothesis's falsifying-example report
            elif time.monotonic() - last > hang_s:
                proc.kill()
                where = "in a reader" if reading else "outside the readers (hypothesis)"
                events.append(f"hang {where} (no progress for {hang_s:.0f} s)")
                _keep(work, reader, "hang")
                break
        proc.wait()
        stderr = err_path.read_text(errors="replace")[-20000:]
        if proc.returncode not in (0, -9):
            events.append(f"worker died with code {proc.returncode}: {stderr.strip()[-300:]}")
            _keep(work, reader, "crash")
        if report:  # hypothesis's report of a bug: keep it
            FAILURES.mkdir(parents=True, exist_ok=True)
            (FAILURES / f"{reader}-bugs-seed{seed}.txt").write_text("".join(report) + stderr)
        seed += 1
    return {
        "examples": sum(tally.values()),
        "outcomes": dict(tally),
        "bugs": bugs,
        "hangs_or_crashes": events,
    }


def _keep(work: Path, reader: str, what: str) -> None:
    if (work / "current").exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = FAILURES / f"{reader}-{what}-{stamp}"
        shutil.copytree(work / "current", target, dirs_exist_ok=True)


def main() -> None:
    from fuzz_inputs import READERS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="Per reader.")
    parser.add_argument("--hang-seconds", type=float, default=60.0)
    parser.add_argument("--readers", nargs="*", default=list(READERS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.seconds, args.seed, args.work)
        return
    import tempfile

    from machine_info import cpu_name, load_average, record

    results: dict[str, Any] = {}
    for reader in args.readers:
        work = Path(tempfile.mkdtemp(prefix=f"smoothseg-fuzz-{reader}-"))
        start = time.monotonic()
        results[reader] = supervise(reader, args.seconds, args.hang_seconds, work)
        results[reader]["seconds"] = round(time.monotonic() - start, 1)
        shutil.rmtree(work, ignore_errors=True)
        r = results[reader]
        print(
            f"{reader:9s} {r['examples']:6d} examples in {r['seconds']:.0f} s  "
            f"outcomes {r['outcomes']}  bugs {len(r['bugs'])}  "
            f"hangs/crashes {len(r['hangs_or_crashes'])}",
            flush=True,
        )
    clean = all(not r["bugs"] and not r["hangs_or_crashes"] for r in results.values())
    counts = ", ".join(f"{k} {v['examples']}" for k, v in results.items())
    machine = {"cpu": cpu_name(), "cores": os.cpu_count(), "load_average": load_average()}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    line = (
        f"- {stamp} · fuzz_readers · {machine['cpu']}, {machine['cores']} cores, load "
        f"{machine['load_average']:.1f} at the end · {'no failure' if clean else 'FAILURES'} "
        f"(bugs, hangs, crashes) in {args.seconds:.0f} s per reader; examples tried: {counts}"
    )
    record("fuzz_readers", {"machine": machine, "readers": results}, line)
    if not clean:
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
