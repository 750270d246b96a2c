"""``lits``: the LiTS challenge training set (``volume-N.nii`` + ``segmentation-N.nii``).

Files may sit in any sub-folders (e.g. ``Training Batch 1/``), compressed or not. Labels are
0 background, 1 liver, 2 tumor already. Case ids are ``lits_NNN``.
"""

from __future__ import annotations

import re
from pathlib import Path

from smoothseg.datasets.base import (
    DATASET_FORMATS,
    CaseSource,
    DatasetFormat,
    DatasetOptions,
    LoadedCase,
)
from smoothseg.datasets.pairs import load_pair

_NAME = re.compile(r"^(volume|segmentation)-(\d+)\.nii(\.gz)?$")


def discover(root: Path, options: DatasetOptions) -> list[CaseSource]:
    """Pair ``volume-N`` with ``segmentation-N`` anywhere under ``root``."""
    del options
    found: dict[str, dict[int, Path]] = {"volume": {}, "segmentation": {}}
    for path in sorted(root.rglob("*.nii*")):
        match = _NAME.match(path.name)
        if match and path.is_file():
            found[match[1]].setdefault(int(match[2]), path)
    return [
        CaseSource(
            case_id=f"lits_{n:03d}",
            format="lits",
            image=image,
            label=found["segmentation"].get(n),
            problem=None if n in found["segmentation"] else f"segmentation-{n}.nii is missing",
        )
        for n, image in sorted(found["volume"].items())
    ]


def load(case: CaseSource, options: DatasetOptions) -> LoadedCase:
    """Read a volume/segmentation pair (values must be 0/1/2)."""
    return load_pair(case, options)


FORMAT = DATASET_FORMATS.register(
    DatasetFormat(
        name="lits",
        description="LiTS: volume-N.nii + segmentation-N.nii (0/1/2)",
        layout="ROOT/**/volume-N.nii[.gz] and ROOT/**/segmentation-N.nii[.gz]",
        discover=discover,
        load=load,
    )
)
