"""The experiment's data: cache, clinical table, splits and per-replication soft labels.

``--data`` is a prepared cache or a phantom cohort (prepared into ``OUT/cache`` on the fly).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoothseg.clinical.api import ClinicalConfig, ClinicalFit, fit_clinical
from smoothseg.clinical.cohort import Case
from smoothseg.clinical.table import read_clinical_table
from smoothseg.datasets import PrepareConfig, prepare_dataset, read_manifest
from smoothseg.datasets.manifest import ManifestRow
from smoothseg.datasets.splits import Split, SplitConfig, make_splits, read_splits, write_splits
from smoothseg.errors import InputError

CLINICAL_NAMES = ("clinical.csv", "clinical.xlsx")


@dataclass(frozen=True)
class ExperimentData:
    """Where the cases are.

    Attributes:
        cache: Prepared cache folder (``manifest.json`` + ``cases/``).
        rows: Its manifest rows.
        clinical_table: The clinical table the soft labels are fitted on.
        source: What ``--data`` was (``cache`` or ``phantom cohort``).
        cohort: The phantom cohort folder, when ``--data`` was one.

    """

    cache: Path
    rows: tuple[ManifestRow, ...]
    clinical_table: Path
    source: str
    cohort: Path | None = None

    def cohort_settings(self) -> dict[str, Any]:
        """The generator settings of the phantom cohort (``phantom_config.json``), or ``{}``."""
        path = self.cohort / "phantom_config.json" if self.cohort else None
        if path is None or not path.is_file():
            return {}
        return dict(json.loads(path.read_text(encoding="utf-8")))


def is_cache(folder: Path) -> bool:
    """A smoothseg prepared cache (``prepare.json`` and ``manifest.json``)."""
    return (folder / "prepare.json").is_file() and (folder / "manifest.json").is_file()


def is_cohort(folder: Path) -> bool:
    """A phantom cohort (``cases/<id>/image.nii.gz`` with labels, or ``phantom_config.json``)."""
    return (folder / "phantom_config.json").is_file() or any(folder.glob("cases/*/label.nii.gz"))


def _find_clinical(*folders: Path) -> Path | None:
    for folder in folders:
        for name in CLINICAL_NAMES:
            if (folder / name).is_file():
                return folder / name
        tables = sorted(folder.glob("*clinical*.xlsx")) if folder.is_dir() else []
        if tables:
            return tables[0]
    return None


def check_data(data: str | Path) -> None:
    """Fail fast, before anything is written, when ``data`` is neither a cache nor a cohort."""
    folder = Path(data).expanduser()
    if not (is_cache(folder) or (folder.is_dir() and is_cohort(folder))):
        raise InputError(
            folder,
            "not a prepared cache (smoothseg prepare) nor a phantom cohort (smoothseg phantom)",
        )


def resolve_data(
    data: str | Path, out: Path, *, clinical_table: str | Path | None = None
) -> ExperimentData:
    """Use ``data`` as a cache, or prepare a phantom cohort into ``out/cache``.

    Raises:
        InputError: ``data`` is neither, or no clinical table is found.

    """
    folder = Path(data).expanduser()
    if is_cache(folder):
        cache, source = folder, "cache"
        prepared = json.loads((folder / "prepare.json").read_text(encoding="utf-8"))
        root = Path(str(prepared.get("root", folder)))
        search = [root, root.parent, folder]
    elif folder.is_dir() and is_cohort(folder):
        cache, source = out / "cache", "phantom cohort"
        search = [folder]
    else:
        raise InputError(
            folder,
            "not a prepared cache (smoothseg prepare) nor a phantom cohort (smoothseg phantom)",
        )
    table = Path(clinical_table).expanduser() if clinical_table else _find_clinical(*search)
    if table is None or not table.is_file():
        raise InputError(
            table or folder,
            "no clinical table: set clinical_table in the experiment config or pass --clinical",
        )
    if source == "phantom cohort" and not (cache / "manifest.json").is_file():
        prepare_dataset(PrepareConfig(format="pairs", root=folder, out=cache, clinical=table))
    rows = tuple(read_manifest(cache / "manifest.json"))
    if not rows:
        raise InputError(cache, "the cache holds no case")
    return ExperimentData(cache, rows, table, source, folder if source != "cache" else None)


def experiment_splits(
    rows: tuple[ManifestRow, ...],
    *,
    replications: int,
    test_fraction: float,
    val_fraction: float,
    seed: int,
    out: Path,
) -> list[Split]:
    """Patient-level replications, reproducible from (seed, sorted patient ids).

    They are written to ``out`` in the format of ``smoothseg split``.
    """
    config = SplitConfig(
        scheme="replications",
        replications=replications,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        seed=seed,
    )
    splits = make_splits({r.case_id: r.patient_id or r.case_id for r in rows}, config)
    if out.is_file():  # a resumed experiment: same config, so the same data gives equal splits
        if read_splits(out) != splits:
            raise InputError(
                out, "the data differ from the earlier run's (other splits); use another --out"
            )
        return splits
    write_splits(splits, config, out)
    return splits


def fit_soft_labels(
    data: ExperimentData, split: Split, config: ClinicalConfig
) -> tuple[ClinicalFit, dict[str, float]]:
    """Fit the clinical TLVR model on the split's training patients only.

    Returns:
        The fit, and case id → soft label of the training and validation cases (test cases
        never get one: they are not trained on).

    """
    train_ids = {*split.train, *split.val}
    cases = [Case(r.case_id, r.tlvr, r.patient_id) for r in data.rows]
    table = read_clinical_table(data.clinical_table)
    fit = fit_clinical(
        table, cases, config, train_ids=train_ids, test_ids=set(split.test), part=split.name
    )
    labels = {
        lab.case_id: float(lab.tlvr_hat)
        for lab in fit.cross.labels
        if lab.case_id in train_ids and lab.tlvr_hat is not None
    }
    return fit, labels
