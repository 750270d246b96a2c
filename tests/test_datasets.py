"""Dataset formats: discovery, loading, harmonization, bad input; label measurements."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from conftest import require
from smoothseg.datasets import (
    DATASET_FORMATS,
    DatasetOptions,
    discover_cases,
    label_stats,
    load_case,
)
from smoothseg.datasets.tcia_metadata import read_tcia_metadata
from smoothseg.errors import InputError, UnsupportedFormatError
from smoothseg.io import DicomSeriesMeta, Volume, write_dicom_series, write_volume
from smoothseg.measure import lesion_diameters_mm

SHAPE = (12, 10, 6)


def _affine(spacing: tuple[float, float, float] = (1.5, 1.5, 3.0)) -> np.ndarray:
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = [-5.0, 7.0, 11.0]
    return affine


def _label(extra: int | None = None) -> np.ndarray:
    label = np.zeros(SHAPE, np.uint8)
    label[2:9, 2:8, 1:5] = 1
    label[4:6, 4:6, 2:4] = 2
    if extra is not None:
        label[0, 0, 0] = extra
    return label


def _pair(
    image: Path, label: Path, values: np.ndarray, label_affine: np.ndarray | None = None
) -> None:
    rng = np.random.default_rng(0)
    write_volume(Volume(rng.integers(-100, 100, values.shape).astype(np.int16), _affine()), image)
    write_volume(
        Volume(values, _affine() if label_affine is None else label_affine, kind="label"), label
    )


def _canonical(values: np.ndarray) -> np.ndarray:
    return np.asarray(Volume(values, _affine(), kind="label").to_canonical().array)


# --- registry ---------------------------------------------------------------------------------
def test_unknown_format_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match="hcc-tace-seg, ircadb, lits, msd, pairs"):
        discover_cases("kits", tmp_path)


def test_empty_root_says_what_layout_was_expected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no lits cases found; expected layout: .*volume-N"):
        discover_cases("lits", tmp_path)
    with pytest.raises(InputError, match="no such folder"):
        discover_cases("lits", tmp_path / "missing")


# --- lits ---------------------------------------------------------------------------------------
def test_lits_pairs_volumes_with_segmentations(tmp_path: Path) -> None:
    batch = tmp_path / "Training Batch 1"
    _pair(batch / "volume-0.nii", batch / "segmentation-0.nii", _label())
    write_volume(Volume(np.zeros(SHAPE, np.int16), _affine()), tmp_path / "volume-7.nii.gz")
    cases = discover_cases("lits", tmp_path)
    assert [c.case_id for c in cases] == ["lits_000", "lits_007"]
    assert cases[1].problem == "segmentation-7.nii is missing"
    loaded = load_case(cases[0])
    assert loaded.label.array.dtype == np.uint8
    assert np.array_equal(loaded.label.array, _canonical(_label()))
    assert loaded.label.grid.matches(loaded.image.grid)


def test_lits_unexpected_label_value_names_the_fix(tmp_path: Path) -> None:
    _pair(tmp_path / "volume-1.nii", tmp_path / "segmentation-1.nii", _label(extra=3))
    case = discover_cases("lits", tmp_path)[0]
    with pytest.raises(InputError, match=r"unexpected label value\(s\) \[3\].*--label-values 3=1"):
        load_case(case)
    loaded = load_case(case, DatasetOptions(label_values=((3, 0),)))
    assert set(np.unique(loaded.label.array)) == {0, 1, 2}


# --- msd ----------------------------------------------------------------------------------------
def _msd(root: Path, labels: dict[str, object], values: np.ndarray) -> None:
    _pair(root / "imagesTr" / "liver_0.nii.gz", root / "labelsTr" / "liver_0.nii.gz", values)
    (root / "imagesTr" / "._liver_0.nii.gz").write_bytes(b"\x00\x05\x16\x07 mac junk")
    doc = {
        "labels": labels,
        "training": [{"image": "./imagesTr/liver_0.nii.gz", "label": "./labelsTr/liver_0.nii.gz"}],
    }
    (root / "dataset.json").write_text(json.dumps(doc))


def test_msd_reads_dataset_json_and_its_label_names(tmp_path: Path) -> None:
    task = tmp_path / "Task03_Liver"
    _msd(task, {"0": "background", "1": "liver", "2": "cancer"}, _label())
    cases = discover_cases("msd", tmp_path)
    assert [c.case_id for c in cases] == ["liver_0"]
    assert np.array_equal(load_case(cases[0]).label.array, _canonical(_label()))


def test_msd_nnunet_v2_labels_with_other_numbering(tmp_path: Path) -> None:
    swapped = _label()
    swapped[swapped == 1], swapped[_label() == 2] = 2, 1  # tumor stored as 1, liver as 2
    _msd(tmp_path, {"background": 0, "tumor": 1, "liver": 2}, swapped)
    loaded = load_case(discover_cases("msd", tmp_path)[0])
    assert np.array_equal(loaded.label.array, _canonical(_label()))


def test_msd_unknown_label_name_is_an_error(tmp_path: Path) -> None:
    _msd(tmp_path, {"0": "background", "1": "liver", "2": "spleen"}, _label())
    with pytest.raises(InputError, match="'spleen'"):
        load_case(discover_cases("msd", tmp_path)[0])


def test_msd_without_dataset_json_pairs_by_name(tmp_path: Path) -> None:
    _msd(tmp_path, {}, _label())
    (tmp_path / "dataset.json").unlink()
    cases = discover_cases("msd", tmp_path)
    assert [c.case_id for c in cases] == ["liver_0"]  # the ._ file is ignored


# --- pairs --------------------------------------------------------------------------------------
def test_pairs_finds_the_usual_layouts_and_explicit_patterns(tmp_path: Path) -> None:
    _pair(tmp_path / "images" / "a.nii.gz", tmp_path / "labels" / "a.nii.gz", _label())
    _pair(tmp_path / "images" / "b.nii.gz", tmp_path / "labels" / "b.nii.gz", _label())
    write_volume(Volume(np.zeros(SHAPE, np.int16), _affine()), tmp_path / "images" / "c.nii.gz")
    cases = discover_cases("pairs", tmp_path)
    assert [(c.case_id, c.problem is None) for c in cases] == [
        ("a", True),
        ("b", True),
        ("c", False),
    ]
    assert np.array_equal(load_case(cases[0]).label.array, _canonical(_label()))
    options = DatasetOptions(image_pattern="images/{id}.nii.gz", label_pattern="labels/{id}.nii.gz")
    assert [c.case_id for c in discover_cases("pairs", tmp_path, options)] == ["a", "b", "c"]
    with pytest.raises(InputError, match="both --image-pattern and --label-pattern"):
        discover_cases("pairs", tmp_path, DatasetOptions(image_pattern="images/{id}.nii.gz"))


def test_pairs_reads_the_phantom_cohort_layout_and_remaps_values(tmp_path: Path) -> None:
    other = _label()
    other[other == 1] = 5  # e.g. TotalSegmentator's liver
    case = tmp_path / "cases" / "PHANTOM_001"
    _pair(case / "image.nii.gz", case / "label.nii.gz", other)
    found = discover_cases("pairs", tmp_path)
    assert [c.case_id for c in found] == ["PHANTOM_001"]
    loaded = load_case(found[0], DatasetOptions(label_values=((5, 1),)))
    assert np.array_equal(loaded.label.array, _canonical(_label()))


def test_label_on_another_grid_than_its_image_is_refused(tmp_path: Path) -> None:
    shifted = _affine()
    shifted[0, 3] += 1.5
    _pair(tmp_path / "x_image.nii.gz", tmp_path / "x_label.nii.gz", _label(), shifted)
    case = discover_cases("pairs", tmp_path)[0]
    with pytest.raises(InputError, match=r"not on its image's grid.*origin"):
        load_case(case)


# --- ircadb -------------------------------------------------------------------------------------
def _mask_series(folder: Path, mask: np.ndarray, seed: str, modality: str = "CT") -> None:
    write_dicom_series(
        Volume((mask * 255).astype(np.int16), _affine()), folder, DicomSeriesMeta(uid_seed=seed)
    )
    if modality != "CT":
        for path in folder.iterdir():
            ds = pydicom.dcmread(path)
            ds.Modality = modality
            ds.save_as(path)


def test_ircadb_folds_structure_masks(tmp_path: Path) -> None:
    patient = tmp_path / "3Dircadb1.2"
    rng = np.random.default_rng(1)
    write_dicom_series(
        Volume(rng.integers(-100, 100, SHAPE).astype(np.int16), _affine()),
        patient / "PATIENT_DICOM",
        DicomSeriesMeta(uid_seed="p"),
    )
    liver = np.zeros(SHAPE, np.uint8)
    liver[2:9, 2:8, 1:5] = 1
    tumor1, tumor2, vein = (np.zeros(SHAPE, np.uint8) for _ in range(3))
    tumor1[4:6, 4:6, 2:4] = 1
    tumor2[8:10, 7:9, 4] = 1  # partly outside the liver: still tumor
    vein[0:3, 0:3, :] = 1
    masks = patient / "MASKS_DICOM"
    _mask_series(masks / "liver", liver, "l")
    _mask_series(masks / "livertumor01", tumor1, "t1")
    _mask_series(masks / "livertumor02", tumor2, "t2", modality="OT")
    _mask_series(masks / "portalvein", vein, "v")
    (tmp_path / "3Dircadb1.10").mkdir()
    (tmp_path / "3Dircadb1.10" / "PATIENT_DICOM.zip").write_bytes(b"PK")
    cases = discover_cases("ircadb", tmp_path)
    assert [c.case_id for c in cases] == ["3Dircadb1.2", "3Dircadb1.10"]
    assert "unzip" in (cases[1].problem or "")
    assert [name for name, _ in cases[0].parts] == ["liver", "livertumor01", "livertumor02"]
    expected = liver.copy()
    expected[(tumor1 > 0) | (tumor2 > 0)] = 2
    loaded = load_case(cases[0])
    assert np.array_equal(loaded.label.array, _canonical(expected))


# --- hcc-tace-seg metadata ----------------------------------------------------------------------
@pytest.mark.realdata
def test_real_tcia_metadata_with_decimal_comma_file_size(shared_data: Path) -> None:
    root = require(shared_data / "hcc-tace-seg")
    rows = read_tcia_metadata(require(root / "metadata.csv"))
    assert [(r.modality, r.n_images) for r in rows] == [("SEG", 1), ("CT", 20), ("CT", 69)]
    assert rows[0].folder_name == "300.000000-Segmentation-91221"
    assert not rows[0].folder(root).exists()
    assert rows[2].folder(root).is_dir()


@pytest.mark.realdata
def test_real_hcc_009_is_found_with_its_ct_series_and_missing_seg(shared_data: Path) -> None:
    root = require(shared_data / "hcc-tace-seg")
    cases = discover_cases("hcc-tace-seg", root)
    assert [c.case_id for c in cases] == ["HCC_009"]
    case = cases[0]
    assert case.image.name == "103.000000-LIVER 3 PHASE CAP-83135"
    assert case.label is None
    assert "listed in metadata.csv but absent on disk" in (case.problem or "")
    # the collection folder itself works as a root too
    assert discover_cases("hcc-tace-seg", root / "HCC-TACE-Seg")[0].case_id == "HCC_009"


# --- measurements -------------------------------------------------------------------------------
def test_label_stats_volumes_tlvr_lesions_and_diameter() -> None:
    label = np.zeros((30, 30, 10), np.uint8)
    label[2:22, 2:22, 1:9] = 1
    label[5:10, 5:8, 2:4] = 2  # lesion A: 5 x 3 x 2 voxels
    label[15, 15, 5] = 2  # lesion B: one voxel
    affine = np.diag([0.5, 0.5, 2.0, 1.0])
    stats = label_stats(Volume(label, affine, kind="label"))
    voxel_ml = 0.5 * 0.5 * 2.0 / 1000
    assert stats.liver_ml == pytest.approx(20 * 20 * 8 * voxel_ml)
    assert stats.tumor_ml == pytest.approx(31 * voxel_ml)
    assert stats.tlvr == pytest.approx(31 / (20 * 20 * 8))
    assert stats.lesion_count == 2
    assert stats.largest_lesion_diameter_mm == pytest.approx(np.sqrt(2.0**2 + 1.0**2 + 2.0**2))
    empty = label_stats(Volume(np.zeros((4, 4, 4), np.uint8), affine, kind="label"))
    assert (empty.tlvr, empty.lesion_count, empty.largest_lesion_diameter_mm) == (None, 0, 0.0)


def test_lesion_diameter_uses_the_hull_for_large_and_flat_lesions() -> None:
    mask = np.zeros((40, 40, 5), bool)
    mask[3:33, 5:25, 2] = True  # flat (coplanar) 30 x 20 voxels
    mask[0, 0, 0] = True  # separate lesion (corner diagonal to nothing)
    spacing = np.diag([0.7, 0.8, 2.5, 1.0])
    sizes = lesion_diameters_mm(mask, spacing)
    assert sorted(sizes) == pytest.approx([0.0, np.hypot(29 * 0.7, 19 * 0.8)])


@pytest.mark.parametrize("name", DATASET_FORMATS.names())
def test_every_registered_format_explains_an_empty_root(name: str, tmp_path: Path) -> None:
    fmt = DATASET_FORMATS.get(name)
    assert fmt.name == name and fmt.description and fmt.layout
    with pytest.raises(InputError, match=f"no {name} cases found; expected layout"):
        discover_cases(name, tmp_path)
