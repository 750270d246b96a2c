"""Synthetic abdominal CT cohort: realistic phantoms with liver tumors and clinical data.

Typical use::

    from smoothseg.phantom import generate_cohort
    manifest = generate_cohort("cohort", n_cases=10, seed=0, size="small", preview=True)

or one case in memory::

    from smoothseg.phantom import PhantomConfig, generate_case
    case = generate_case("PHANTOM_001", 7, PhantomConfig.preset("small"))
    case.image, case.labels, case.structures, case.tumors, case.tlvr
"""

from smoothseg.phantom.case import (
    CLASSES,
    STRUCTURES,
    CaseSpec,
    sample_case,
)
from smoothseg.phantom.clinical import NOISE_COLUMNS, SIGNAL_COLUMNS, clinical_row, clinical_table
from smoothseg.phantom.cohort import (
    MANIFEST_COLUMNS,
    case_id,
    cohort_case,
    cohort_spec,
    generate_cohort,
    size_group,
)
from smoothseg.phantom.config import SIZES, PhantomConfig, burden_quantile, case_seed
from smoothseg.phantom.generate import PhantomCase, generate_case, harmonize
from smoothseg.phantom.tissues import Tissue
from smoothseg.phantom.tumors import KINDS, Tumor

__all__ = [
    "CLASSES",
    "KINDS",
    "MANIFEST_COLUMNS",
    "NOISE_COLUMNS",
    "SIGNAL_COLUMNS",
    "SIZES",
    "STRUCTURES",
    "CaseSpec",
    "PhantomCase",
    "PhantomConfig",
    "Tissue",
    "Tumor",
    "burden_quantile",
    "case_id",
    "case_seed",
    "clinical_row",
    "clinical_table",
    "cohort_case",
    "cohort_spec",
    "generate_case",
    "generate_cohort",
    "harmonize",
    "sample_case",
    "size_group",
]
