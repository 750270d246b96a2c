"""Run every ``benchmarks/bench_*.py`` script in turn (``make bench``).

Each script measures its subject next to a named baseline in the same run, writes
``benchmarks/results/<name>.json`` and appends one line to ``benchmarks/RESULTS.md``.
Pass script names (e.g. ``phantom metrics``) to run only those. ``real_ct.py`` (the real-scan
benchmark, also ``make bench-real``) runs last.

``gpu_check.py`` and ``gpu_check_e2e.py`` are not ``bench_*`` scripts: they are run by hand on a
GPU machine (they write into ``$OUT``; their lines in ``RESULTS.md`` name the device).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = [*sorted(HERE.glob("bench_*.py")), HERE / "real_ct.py"]
    if argv:
        wanted = {
            "real_ct.py" if n == "real_ct" else f"bench_{n.removeprefix('bench_')}.py"
            for n in (name.removesuffix(".py") for name in argv)
        }
        unknown = wanted - {s.name for s in scripts}
        if unknown:
            names = ", ".join(s.stem.removeprefix("bench_") for s in scripts)
            print(f"unknown benchmark(s) {sorted(unknown)}; available: {names}", file=sys.stderr)
            return 2
        scripts = [s for s in scripts if s.name in wanted]
    failed = []
    for script in scripts:
        print(f"== {script.stem} ==", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"   ({time.perf_counter() - start:.0f} s, exit {code})", flush=True)
        if code != 0:
            failed.append(script.stem)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
