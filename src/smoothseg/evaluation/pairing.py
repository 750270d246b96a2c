"""Find label files and pair each prediction with its reference.

A **label folder** (predictions, or references) holds one label map per case, as any of:

* ``<id>.nii.gz`` (or ``.nii``, ``.nrrd``, ``.nhdr``, ``.mha``, ``.mhd``);
* ``<id>_label.nii.gz`` — when the folder has any ``*_label.*`` file, *only* those are read, so
  images lying beside them (``<id>_image.nii.gz``, ``<id>_0000.nii.gz``) are ignored;
* ``<id>/label.nii.gz``, or ``<id>/<anything with "label" in its name>.nii.gz`` when exactly one
  such file is in the sub-folder (the ``smoothseg predict`` layout).

Hidden files (``.name``, e.g. unfinished atomic writes) are skipped. One id found twice is an
error. A folder with no label map of its own but a ``cases/`` sub-folder (a phantom cohort) is
read through ``cases/``. A **reference** is a label folder, or a prepared cache (a folder with a
``smoothseg prepare`` ``manifest.json`` / ``manifest.csv``, or that manifest file): then the
cases are the manifest's, labels come from the cache and patient ids from the manifest. A
prediction matches a reference by case id, or by the cache's file-system-safe spelling of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smoothseg.datasets.cache import case_dir_name
from smoothseg.datasets.manifest import read_manifest
from smoothseg.errors import InputError

VOLUME_SUFFIXES: tuple[str, ...] = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")
LABEL_TAG = "_label"
MANIFEST_NAMES = ("manifest.json", "manifest.csv")


@dataclass(frozen=True)
class CasePair:
    """One reference case and its prediction.

    Attributes:
        case_id: Case id (the reference's).
        patient_id: Clinical key (manifest ``patient_id``, else the case id).
        pred: Prediction file; ``None`` when missing.
        ref: Reference label file, or the cache folder when ``from_cache``.
        from_cache: The reference is case ``case_id`` of the prepared cache ``ref``.

    """

    case_id: str
    patient_id: str
    pred: Path | None
    ref: Path
    from_cache: bool = False


@dataclass(frozen=True)
class Pairing:
    """Every reference case (with or without prediction) and the predictions left over.

    Attributes:
        pairs: One per reference case, sorted by case id.
        unmatched_predictions: Prediction ids with no reference case.

    """

    pairs: tuple[CasePair, ...]
    unmatched_predictions: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """Reference cases without a prediction."""
        return tuple(p.case_id for p in self.pairs if p.pred is None)


def _volume_stem(name: str) -> str | None:
    low = name.lower()
    for suffix in VOLUME_SUFFIXES:
        if low.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _subfolder_label(folder: Path) -> Path | None:
    files = [f for f in sorted(folder.iterdir()) if f.is_file() and not f.name.startswith(".")]
    volumes = [f for f in files if _volume_stem(f.name) is not None]
    exact = [f for f in volumes if _volume_stem(f.name) == "label"]
    if exact:
        return exact[0] if len(exact) == 1 else _ambiguous(folder, exact)
    tagged = [f for f in volumes if "label" in f.name.lower()]
    if len(tagged) > 1:
        return _ambiguous(folder, tagged)
    return tagged[0] if tagged else None


def _ambiguous(folder: Path, files: list[Path]) -> Path:
    names = ", ".join(f.name for f in files)
    raise InputError(folder, f"several label files, cannot tell which to use: {names}")


def find_label_files(folder: str | Path) -> dict[str, Path]:
    """Case id → label file for a label folder (layouts in the module docs).

    Raises:
        InputError: not a folder, or a case id found twice / ambiguous.

    """
    base = Path(folder).expanduser()
    if not base.is_dir():
        raise InputError(base, "no such folder")
    entries = [e for e in sorted(base.iterdir()) if not e.name.startswith(".")]
    files = [(e, _volume_stem(e.name)) for e in entries if e.is_file()]
    stems = [(f, s) for f, s in files if s is not None]
    tagged = [(f, s[: -len(LABEL_TAG)]) for f, s in stems if s.lower().endswith(LABEL_TAG)]
    found: dict[str, Path] = {}

    def add(case_id: str, path: Path) -> None:
        if case_id in found:
            raise InputError(base, f"case {case_id!r} found twice: {found[case_id]} and {path}")
        found[case_id] = path

    for path, case_id in tagged if tagged else stems:
        add(case_id, path)
    for sub in (e for e in entries if e.is_dir()):
        label = _subfolder_label(sub)
        if label is not None:
            add(sub.name, label)
    return found


def is_cache_reference(ref: str | Path) -> bool:
    """Whether ``ref`` is a prepared cache folder or a manifest file."""
    p = Path(ref).expanduser()
    if p.is_file():
        return p.name.lower().startswith("manifest") and p.suffix.lower() in (".json", ".csv")
    return any((p / name).is_file() for name in MANIFEST_NAMES)


def label_folder_files(folder: str | Path) -> dict[str, Path]:
    """:func:`find_label_files` of ``folder``, or of ``folder/cases`` when ``folder`` has none.

    The fallback reads a phantom cohort (``cases/<id>/label.nii.gz``) given by its root.
    """
    base = Path(folder).expanduser()
    found = find_label_files(base)
    if not found and (base / "cases").is_dir():
        found = find_label_files(base / "cases")
    return found


def _reference_cases(ref: Path) -> tuple[list[tuple[str, str, Path]], bool]:
    manifest_error: InputError | None = None
    if is_cache_reference(ref):
        try:
            rows = read_manifest(ref)
        except InputError as exc:  # e.g. a phantom cohort's own manifest: try its label files
            manifest_error = exc
        else:
            cache = ref.parent if ref.is_file() else ref
            return [(r.case_id, r.patient_id or r.case_id, cache) for r in rows], True
    files = label_folder_files(ref) if ref.is_dir() else {}
    if files:
        return [(case_id, case_id, path) for case_id, path in files.items()], False
    if manifest_error is not None:
        raise manifest_error
    if not ref.exists():
        raise InputError(ref, "no such folder or manifest")
    raise InputError(ref, "no reference label found (see `smoothseg evaluate --help`)")


def pair_cases(pred_dir: str | Path, ref: str | Path) -> Pairing:
    """Pair the predictions in ``pred_dir`` with the reference cases of ``ref``.

    Raises:
        InputError: a folder is missing or ambiguous, the manifest is unreadable, ``ref``
            holds no reference case, or no prediction matches any reference case.

    """
    predictions = label_folder_files(pred_dir)
    refs, from_cache = _reference_cases(Path(ref).expanduser())
    used: set[str] = set()
    pairs = []
    for case_id, patient_id, source in sorted(refs):
        key = next((k for k in (case_id, case_dir_name(case_id)) if k in predictions), None)
        if key is not None:
            used.add(key)
        pred = predictions[key] if key is not None else None
        pairs.append(CasePair(case_id, patient_id, pred, source, from_cache))
    unmatched = tuple(sorted(k for k in predictions if k not in used))
    if pairs and not used:
        found = ", ".join(unmatched[:5]) or "none"
        wanted = ", ".join(p.case_id for p in pairs[:5])
        raise InputError(
            Path(pred_dir),
            f"no prediction matches a reference case (predictions: {found}; references: "
            f"{wanted}{', ...' if len(pairs) > 5 else ''}): wrong folder, or other case ids?",
        )
    return Pairing(tuple(pairs), unmatched)
