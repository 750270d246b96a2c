"""Feature sets for the TLVR regression: presets, include/exclude, and the leakage guard.

Presets (names of :data:`PRESETS`):

* ``paper``: the 15 features of the paper's Table A1, in its order (reproducibility). It holds
  flagged columns (``T_involvment``, ``CLIP_Score``, ``TNM``, ``TTP``): the report says so.
* ``pre-treatment``: every column known before TACE (no post-treatment column); re-groupings
  of a column already in the set (``agegp``, ``AFP_group``, ``CLIP``) are left out.
* ``strict``: ``pre-treatment`` without the columns that measure tumor extent on the baseline
  CT or are computed from such columns: no flag at all.
* ``all``: every schema column but the id.
* ``none``: empty; build a set with ``--include``.

Leakage flags (:func:`leakage_flags`): ``post-treatment`` (known only after TACE),
``imaging extent`` (restates the tumor extent the TLVR measures) and ``derived from imaging
extent`` (a score computed from such a column, e.g. CLIP, Okuda, TNM, BCLC).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from smoothseg.clinical.schema import COLUMNS, PAPER_TLVR_FEATURES, column
from smoothseg.errors import InputError

#: The paper's Table A1 (top 15 features, descending importance): (paper name, description).
PAPER_TABLE_A1: tuple[tuple[str, str], ...] = (
    (
        "T_involvement",
        "Liver involvement by the tumor, either less than 50% involvement of liver or more.",
    ),
    ("Personal history of cancer", "Whether the patient has cancer before."),
    ("Lymphnodes", "Whether the patient has lymphnodes."),
    ("CLIP_Score", "CLIP score."),
    ("TNM", "TNM staging."),
    (
        "Metastasis",
        "Whether cancer cells spread from the original tumor site to distant parts of the body, "
        "forming new tumors in organs or tissues.",
    ),
    (
        "Evidence_of_cirrh",
        "Whether there is evidence of late stage of scarring (fibrosis) of the liver.",
    ),
    ("Alcohol", "Whether the patient drinks alcohol or not."),
    ("AFP", "Alpha fetoprotein level (ng/ml) obtained from blood test."),
    ("Smoking", "Whether the patient smokes or not."),
    ("Diabetes", "Whether the patient has diabetes."),
    ("fhx_can", "Whether the patient's family has history of cancer."),
    ("age", "The age of patient."),
    ("TTP", "Number of weeks between the procedure and the first evidence of tumor progression."),
    (
        "Interval_BL",
        "Number of Days between HCC diagnosis (either by previous imaging or biopsy) and "
        "pre-procedural (baseline) CT.",
    ),
)
#: The paper's 15 features as table column names, in Table A1 order.
PAPER_COLUMNS: tuple[str, ...] = tuple(PAPER_TLVR_FEATURES[n] for n, _ in PAPER_TABLE_A1)
PRESETS: tuple[str, ...] = ("paper", "pre-treatment", "strict", "all", "none")
#: Columns that only bin another column (left out of ``pre-treatment`` when that one is in).
REGROUPINGS: dict[str, str] = {"agegp": "age", "AFP_group": "AFP", "CLIP": "CLIP_Score"}

POST_TREATMENT = "post-treatment"
IMAGING_EXTENT = "imaging extent"
DERIVED_FROM_EXTENT = "derived from imaging extent"


@cache
def _extent_sources(name: str) -> frozenset[str]:
    """Imaging-extent columns that ``name`` is (transitively) computed from."""
    out: set[str] = set()
    for parent in column(name).derived_from:
        if column(parent).imaging_extent:
            out.add(parent)
        out |= _extent_sources(parent)
    return frozenset(out)


def leakage_flags(name: str) -> tuple[str, ...]:
    """Leakage flags of a schema column (empty for a column the schema does not know)."""
    try:
        spec = column(name)
    except KeyError:
        return ()
    flags = []
    if spec.post_treatment:
        flags.append(POST_TREATMENT)
    if spec.imaging_extent:
        flags.append(IMAGING_EXTENT)
    sources = _extent_sources(name)
    if sources:
        flags.append(f"{DERIVED_FROM_EXTENT} ({', '.join(sorted(sources))})")
    return tuple(flags)


def preset_columns(preset: str) -> tuple[str, ...]:
    """The schema columns of a preset, in the schema's order (``paper``: Table A1 order).

    Raises:
        InputError: unknown preset name.

    """
    values = [c for c in COLUMNS if c.kind != "id"]
    if preset == "paper":
        return PAPER_COLUMNS
    if preset == "all":
        return tuple(c.name for c in values)
    if preset == "none":
        return ()
    if preset not in ("pre-treatment", "strict"):
        raise InputError("--preset", f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    keep = [c for c in values if not c.post_treatment]
    if preset == "strict":
        keep = [c for c in keep if not c.imaging_extent and not _extent_sources(c.name)]
    names = {c.name for c in keep}
    return tuple(c.name for c in keep if REGROUPINGS.get(c.name) not in names)


@dataclass(frozen=True)
class FeatureSet:
    """The candidate columns of a fit.

    Attributes:
        preset: Preset it started from.
        columns: Candidate columns, in order.
        flags: Leakage flags of every flagged candidate.
        notes: What was changed or dropped, and why.

    """

    preset: str
    columns: tuple[str, ...]
    flags: dict[str, tuple[str, ...]]
    notes: tuple[str, ...] = ()


def _check_names(names: Sequence[str], available: Sequence[str], option: str) -> None:
    import difflib

    for name in names:
        if name not in available:
            close = difflib.get_close_matches(name, list(available), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InputError(option, f"no clinical column {name!r} in the table{hint}")


def resolve_features(
    preset: str,
    available: Sequence[str],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> FeatureSet:
    """Candidate columns: a preset's, plus ``include``, minus ``exclude``.

    Args:
        preset: One of :data:`PRESETS`.
        available: Typed columns of the table (schema columns present, then unknown ones).
        include: Columns to add (any table column, also one the schema does not know).
        exclude: Columns to remove.

    Raises:
        InputError: unknown preset or column name, or an empty result.

    """
    _check_names(include, available, "--include")
    _check_names(exclude, available, "--exclude")
    base = preset_columns(preset)
    absent = [c for c in base if c not in available]
    columns = [c for c in base if c in available]
    columns += [c for c in include if c not in columns]
    columns = [c for c in columns if c not in exclude]
    notes = [f"preset column {c!r} is absent from the table" for c in absent]
    notes += [f"excluded {c!r}" for c in exclude]
    notes += [f"included {c!r}" for c in include]
    if not columns:
        raise InputError("--preset", f"no candidate column left (preset {preset!r}); use --include")
    flags = {c: leakage_flags(c) for c in columns if leakage_flags(c)}
    return FeatureSet(preset, tuple(columns), flags, tuple(notes))
