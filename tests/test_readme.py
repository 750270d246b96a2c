"""The README's Python API example runs as written and does what it says."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

import smoothseg

README = Path(__file__).resolve().parents[1] / "README.md"


def _api_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_public_api_names() -> None:
    for name in smoothseg.__all__:
        assert getattr(smoothseg, name) is not None, name
    with pytest.raises(AttributeError):
        _ = smoothseg.not_a_public_name  # type: ignore[attr-defined]
    assert callable(smoothseg.segment) and callable(smoothseg.fit_clinical)


def test_readme_python_example_runs(tmp_path: Path) -> None:
    blocks = _api_blocks()
    assert blocks, "README has no Python API example"
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for block in blocks:
            exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    finally:
        os.chdir(cwd)
    first = smoothseg.read_volume(tmp_path / "labels.nii.gz", kind="label")
    second = smoothseg.read_volume(tmp_path / "labels2.nii.gz", kind="label")
    ct = smoothseg.read_volume(tmp_path / "ct.nii.gz")
    assert first.shape == ct.shape and np.allclose(first.affine, ct.affine)
    assert np.count_nonzero(np.asarray(first.array) == 1) > 1000  # a liver was found
    assert np.array_equal(np.asarray(first.array), np.asarray(second.array))
