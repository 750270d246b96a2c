"""Real dataset ingestion: formats, the prepared cache, its manifest and patient-level splits.

Importing this package registers every built-in dataset format (``DATASET_FORMATS``).
"""

from smoothseg.datasets import hcc_tace_seg, ircadb, lits, msd, pairs  # noqa: F401  (registration)
from smoothseg.datasets.base import (
    DATASET_FORMATS,
    CaseSource,
    DatasetFormat,
    DatasetOptions,
    LoadedCase,
    discover_cases,
    load_case,
)
from smoothseg.datasets.cache import CachedCase, load_cached_case
from smoothseg.datasets.labels import LabelStats, label_stats
from smoothseg.datasets.manifest import ManifestRow, read_manifest, write_manifest
from smoothseg.datasets.prepare import (
    CaseOutcome,
    PrepareConfig,
    PrepareResult,
    prepare_dataset,
)
from smoothseg.datasets.splits import Split, SplitConfig, make_splits, read_splits, write_splits
from smoothseg.datasets.tcia_export import TciaExport, export_cohort_tcia

__all__ = [
    "DATASET_FORMATS",
    "CachedCase",
    "CaseOutcome",
    "CaseSource",
    "DatasetFormat",
    "DatasetOptions",
    "LabelStats",
    "LoadedCase",
    "ManifestRow",
    "PrepareConfig",
    "PrepareResult",
    "Split",
    "SplitConfig",
    "TciaExport",
    "discover_cases",
    "export_cohort_tcia",
    "label_stats",
    "load_cached_case",
    "load_case",
    "make_splits",
    "prepare_dataset",
    "read_manifest",
    "read_splits",
    "write_manifest",
    "write_splits",
]
