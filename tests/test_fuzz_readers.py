"""Fuzz the volume readers (short and deterministic here; ``benchmarks/fuzz_readers.py`` runs
for minutes): random bytes and mutated headers of real files only ever raise smoothseg's own
errors, never hang (pytest-timeout) and never take the interpreter down.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz_inputs import READERS, Example, examples, read_example

EXAMPLES_PER_READER = 100  # the long run: benchmarks/fuzz_readers.py (docs/reliability.md)
_counter = itertools.count()


@pytest.mark.timeout(120)
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("reader", READERS)
def test_reader_survives_fuzzing(reader: str, tmp_path: Path) -> None:
    outcomes: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_READER,
        derandomize=True,
        database=None,
        deadline=None,  # hangs are pytest-timeout's job; slow CI must not flake
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(example=examples(reader))
    def check(example: Example) -> None:
        outcomes.append(read_example(example, tmp_path / f"ex{next(_counter)}"))

    check()
    assert len(outcomes) >= EXAMPLES_PER_READER // 2
    assert any(o != "ok" for o in outcomes)  # the fuzzer does reach the error paths
