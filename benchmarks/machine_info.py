"""Shared by the benchmark scripts: the machine they ran on, and recording their results."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> float:
    """The 1-minute load average (NaN where the OS has none): other work skews timings."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def record(name: str, result: dict[str, Any], line: str) -> None:
    """Write ``results/<name>.json`` and append ``line`` to ``RESULTS.md`` (created if absent)."""
    out = HERE / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    results_md = HERE / "RESULTS.md"
    if not results_md.exists():
        results_md.write_text("# Benchmark results\n\nOne line per run, newest last.\n\n")
    with results_md.open("a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")
    print(f"wrote {out} and appended to {results_md}:\n{line.rstrip()}")
