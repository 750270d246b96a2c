"""DICOM SEG reading and writing: round trip, verified geometry, bad input, real dcmqi SEG."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.pixels import pack_bits

from conftest import require
from smoothseg.errors import GeometryError, InputError, OutputExistsError
from smoothseg.io import DicomSeriesMeta, Volume, read_volume, write_dicom_series
from smoothseg.io.dicom import DicomCtSeries, read_dicom_series
from smoothseg.io.dicom_seg import (
    HCC_TACE_SEG_SEGMENTS,
    SegmentMapping,
    SegmentSpec,
    SegWriteMeta,
    find_referenced_ct,
    read_dicom_seg,
    read_seg_header,
    write_dicom_seg,
)
from smoothseg.io.dicom_seg_write import ANATOMICAL_STRUCTURE

SHAPE = (24, 20, 8)


def _affine() -> np.ndarray:
    affine = np.diag([0.8, 0.9, 2.5, 1.0])
    affine[:3, 3] = [-10.0, 20.0, 30.0]
    return affine


def _label() -> np.ndarray:
    label = np.zeros(SHAPE, np.uint8)
    label[3:15, 4:12, 0:6] = 1  # touches slice 0 (for the absent-instance test)
    label[5:8, 6:9, 2:4] = 2
    label[20, 1, 5] = 1  # asymmetric voxel: any flip shows
    return label


@pytest.fixture()
def ct(tmp_path: Path) -> DicomCtSeries:
    rng = np.random.default_rng(0)
    image = Volume(rng.integers(-100, 200, SHAPE).astype(np.int16), _affine())
    write_dicom_series(image, tmp_path / "ct", DicomSeriesMeta(patient_id="P1", uid_seed="ct"))
    return read_dicom_series(tmp_path / "ct")


def _truth() -> np.ndarray:
    return np.asarray(Volume(_label(), _affine(), kind="label").to_canonical().array)


def _write(ct: DicomCtSeries, path: Path, label: np.ndarray | None = None, **kw: object) -> Path:
    vol = Volume(_label() if label is None else label, _affine(), kind="label")
    return write_dicom_seg(vol, ct, path, **kw)  # type: ignore[arg-type]


def test_round_trip_gives_the_same_label_map(ct: DicomCtSeries, tmp_path: Path) -> None:
    path = _write(ct, tmp_path / "seg.dcm")
    result = read_dicom_seg(path, ct)
    assert np.array_equal(result.label.array, _truth())
    assert result.label.grid.matches(ct.volume.to_canonical().grid)
    assert result.warnings == ()
    assert [s.role for s in result.segments] == ["liver", "tumor"]


def test_written_seg_is_standard(ct: DicomCtSeries, tmp_path: Path) -> None:
    path = _write(ct, tmp_path / "seg.dcm", meta=SegWriteMeta(uid_seed="x"))
    seg = hd.seg.segread(path)
    ds = pydicom.dcmread(path)
    assert ds.Modality == "SEG" and ds.SegmentationType == "BINARY"
    assert ds.FrameOfReferenceUID == ct.frame_of_reference_uid
    ref = ds.ReferencedSeriesSequence[0]
    assert ref.SeriesInstanceUID == ct.volume.source.series.uid  # type: ignore[union-attr]
    assert {i.ReferencedSOPInstanceUID for i in ref.ReferencedInstanceSequence} <= set(
        ct.sop_instance_uids
    )
    liver, tumor = seg.get_segment_description(1), seg.get_segment_description(2)
    assert (liver.segment_label, liver.segmented_property_type.value) == ("Liver", "10200004")
    assert tumor.segmented_property_category.value == "49755003"
    assert "RecommendedDisplayCIELabValue" in ds.SegmentSequence[0]
    again = _write(ct, tmp_path / "again.dcm", meta=SegWriteMeta(uid_seed="x"))
    assert pydicom.dcmread(again).SOPInstanceUID == ds.SOPInstanceUID  # deterministic UIDs


def test_existing_output_needs_overwrite(ct: DicomCtSeries, tmp_path: Path) -> None:
    path = _write(ct, tmp_path / "seg.dcm")
    with pytest.raises(OutputExistsError):
        _write(ct, path)
    _write(ct, path, overwrite=True)


def test_write_refuses_label_on_another_grid(ct: DicomCtSeries, tmp_path: Path) -> None:
    with pytest.raises(GeometryError):
        write_dicom_seg(
            Volume(np.zeros((5, 5, 5), np.uint8), _affine(), kind="label"), ct, tmp_path / "s.dcm"
        )
    with pytest.raises(InputError, match=r"label values \[7\]"):
        bad = _label()
        bad[0, 0, 0] = 7
        _write(ct, tmp_path / "s.dcm", label=bad)


def _rewrite(path: Path, frames: np.ndarray | None = None, **shared: object) -> None:
    ds = pydicom.dcmread(path)
    if frames is not None:
        ds.PixelData = pack_bits(frames.astype(np.uint8))
    for key, value in shared.items():
        setattr(ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0], key, value)
    ds.save_as(path)


@pytest.mark.parametrize("kind", ["mirrored", "transposed"])
def test_seg_with_mirrored_or_transposed_orientation_lands_where_its_pixels_are(
    ct: DicomCtSeries, tmp_path: Path, kind: str
) -> None:
    """TCIA SEGs with negated cosines: pixels and positions flipped together are still right."""
    path = _write(ct, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(path)
    frames = ds.pixel_array.reshape(-1, ds.Rows, ds.Columns)
    iop = np.array(
        [
            float(v)
            for v in ds.SharedFunctionalGroupsSequence[0]
            .PlaneOrientationSequence[0]
            .ImageOrientationPatient
        ]
    )
    dr, dc = (
        float(v) for v in ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing
    )
    row, col = iop[:3], iop[3:]
    if kind == "mirrored":
        new_iop, new_frames = np.concatenate([-row, -col]), frames[:, ::-1, ::-1]
        shift = (ds.Columns - 1) * dc * row + (ds.Rows - 1) * dr * col
    else:
        new_iop, new_frames = np.concatenate([col, row]), frames.transpose(0, 2, 1)
        shift = np.zeros(3)
    for item in ds.PerFrameFunctionalGroupsSequence:
        plane = item.PlanePositionSequence[0]
        plane.ImagePositionPatient = [
            f"{v:.6f}" for v in np.asarray(plane.ImagePositionPatient, float) + shift
        ]
    if kind == "transposed":
        ds.Rows, ds.Columns = ds.Columns, ds.Rows
        measures = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
        measures.PixelSpacing = [dc, dr]
    ds.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient = [
        f"{v:.6f}" for v in new_iop
    ]
    ds.PixelData = pack_bits(np.ascontiguousarray(new_frames).astype(np.uint8))
    ds.save_as(path)
    result = read_dicom_seg(path, ct)
    assert np.array_equal(result.label.array, _truth())


def test_negated_cosines_without_moved_positions_are_refused(
    ct: DicomCtSeries, tmp_path: Path
) -> None:
    """A SEG whose geometry puts its pixels outside the CT is an error, not a silent flip."""
    path = _write(ct, tmp_path / "seg.dcm")
    _rewrite(path, ImageOrientationPatient=["-1", "0", "0", "0", "-1", "0"])
    with pytest.raises(InputError, match="outside the CT slice"):
        read_dicom_seg(path, ct)


def test_seg_on_a_resampled_grid_is_refused(ct: DicomCtSeries, tmp_path: Path) -> None:
    path = _write(ct, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(path)
    ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing = [0.5, 0.5]
    ds.save_as(path)
    with pytest.raises(InputError, match="not the CT slice grid"):
        read_dicom_seg(path, ct)


def test_absent_referenced_instances_are_an_error(ct: DicomCtSeries, tmp_path: Path) -> None:
    path = _write(ct, tmp_path / "seg.dcm")
    ct.files[0].path.unlink()  # slice 0 holds liver: its SEG frame references it
    partial = read_dicom_series(ct.files[1].path.parent)
    with pytest.raises(InputError, match=r"absent from the CT series"):
        read_dicom_seg(path, partial)


def test_other_frame_of_reference_is_an_error(ct: DicomCtSeries, tmp_path: Path) -> None:
    path = _write(ct, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(path)
    ds.FrameOfReferenceUID = "1.2.3.4"
    ds.save_as(path)
    with pytest.raises(InputError, match="frame of reference"):
        read_dicom_seg(path, ct)


def test_reference_and_position_disagreeing_is_an_error(ct: DicomCtSeries, tmp_path: Path) -> None:
    path = _write(ct, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(path)
    source = ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0]
    source.SourceImageSequence[0].ReferencedSOPInstanceUID = ct.sop_instance_uids[-1]
    ds.save_as(path)
    with pytest.raises(InputError, match="geometry mismatch"):
        read_dicom_seg(path, ct)


def test_frames_without_source_reference_are_placed_by_position_with_warning(
    ct: DicomCtSeries, tmp_path: Path
) -> None:
    path = _write(ct, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(path)
    for item in ds.PerFrameFunctionalGroupsSequence:
        del item.DerivationImageSequence
    ds.save_as(path)
    result = read_dicom_seg(path, ct)
    assert np.array_equal(result.label.array, _truth())
    assert any("placed by position" in w for w in result.warnings)


def test_unknown_segment_names_are_listed_with_the_fix(ct: DicomCtSeries, tmp_path: Path) -> None:
    spleen = SegmentSpec(
        2, "Spleen", ANATOMICAL_STRUCTURE, pydicom.sr.codedict.codes.SCT.Spleen, (157, 108, 162)
    )
    segments = (HCC_TACE_SEG_SEGMENTS[0], spleen)
    path = _write(ct, tmp_path / "seg.dcm", segments=segments)
    with pytest.raises(InputError, match=r"'Spleen' \(#2\).*--segment-map 'Spleen=ROLE'"):
        read_dicom_seg(path, ct)
    mapping = SegmentMapping().with_overrides(["Spleen=ignore"])
    result = read_dicom_seg(path, ct, mapping)
    expected = _truth().copy()
    expected[expected == 2] = 0
    assert np.array_equal(result.label.array, expected)
    with pytest.raises(InputError, match="unknown role"):
        SegmentMapping().with_overrides(["Spleen=kidney"])


def test_overlapping_segments_follow_the_paper_priority(ct: DicomCtSeries, tmp_path: Path) -> None:
    """Tumor > portal vein > liver; portal vein folds to liver, aorta to background."""
    n, rows, cols = SHAPE[2], SHAPE[1], SHAPE[0]
    masks = np.zeros((n, rows, cols, 4), bool)  # liver, mass, portal vein, aorta
    masks[1:6, 2:12, 2:16, 0] = True
    masks[2:4, 4:7, 4:7, 1] = True
    masks[2:5, 5:10, 5:9, 2] = True  # overlaps liver and the mass
    masks[1:6, 10:16, 14:20, 3] = True  # overlaps the liver's corner, runs outside it
    datasets = [pydicom.dcmread(f.path) for f in ct.files]
    for ds in datasets:
        ds.PatientBirthDate, ds.PatientSex, ds.StudyDate, ds.StudyTime = "", "", "", ""
        ds.AccessionNumber, ds.ReferringPhysicianName, ds.PatientName = "", "", "Anonymous^"
    descriptions = [
        hd.seg.SegmentDescription(i + 1, s.label, s.category, s.property_type, "MANUAL")
        for i, s in enumerate(HCC_TACE_SEG_SEGMENTS)
    ]
    seg = hd.seg.Segmentation(
        datasets,
        masks,
        "BINARY",
        descriptions,
        hd.UID(),
        300,
        hd.UID(),
        1,
        "test",
        "test",
        "1",
        "0",
    )
    seg.save_as(tmp_path / "overlap.dcm")
    result = read_dicom_seg(tmp_path / "overlap.dcm", ct, canonical=False)
    # native CT grid: array[i=column, j=row, k]
    expected = np.zeros((cols, rows, n), np.uint8)
    per_voxel = masks.transpose(2, 1, 0, 3)
    expected[per_voxel[..., 0]] = 1
    expected[per_voxel[..., 2]] = 1
    expected[per_voxel[..., 1]] = 2
    assert np.array_equal(result.label.array, expected)
    assert {s.role for s in result.segments} == {"liver", "tumor", "portal_vein", "aorta"}


def test_find_referenced_ct_picks_the_referenced_series_not_the_largest(
    ct: DicomCtSeries, tmp_path: Path
) -> None:
    decoy = Volume(np.zeros((24, 20, 12), np.int16), _affine())
    meta = DicomSeriesMeta(series_number=2, uid_seed="decoy")
    write_dicom_series(decoy, tmp_path / "decoy", meta)
    path = _write(ct, tmp_path / "seg.dcm")
    found = find_referenced_ct(read_seg_header(path), tmp_path)
    assert found.volume.source.series.uid == ct.volume.source.series.uid  # type: ignore[union-attr]
    assert found.volume.shape == SHAPE


def test_not_a_seg_is_a_clear_error(ct: DicomCtSeries) -> None:
    with pytest.raises(InputError, match="not a DICOM SEG"):
        read_seg_header(ct.files[0].path)


@pytest.mark.realdata
def test_real_dcmqi_seg_equals_the_dcmqi_nrrd_export(shared_data: Path) -> None:
    folder = require(shared_data / "dcmqi-ct3slice")
    seg_path = require(folder / "liver_SEG.dcm")
    header = read_seg_header(seg_path)
    ct = find_referenced_ct(header, folder)
    assert ct.volume.shape == (512, 512, 3)
    result = read_dicom_seg(seg_path, ct)
    reference = read_volume(require(folder / "liver_seg.nrrd"), kind="label")
    assert result.label.grid.matches(reference.grid)
    assert np.array_equal(result.label.array, reference.array)
    assert int(result.label.array.sum()) == int(reference.array.sum()) > 100_000
    assert [s.label for s in result.segments] == ["Liver"]


def test_fractional_seg_is_thresholded_at_half(ct: DicomCtSeries, tmp_path: Path) -> None:
    n, rows, cols = SHAPE[2], SHAPE[1], SHAPE[0]
    prob = np.zeros((n, rows, cols, 1), np.float32)
    prob[2, 3:6, 4:9, 0] = 0.9
    prob[3, 3:6, 4:9, 0] = 0.4  # below one half: background
    datasets = [pydicom.dcmread(f.path) for f in ct.files]
    for ds in datasets:
        ds.PatientBirthDate, ds.PatientSex, ds.StudyDate, ds.StudyTime = "", "", "", ""
        ds.AccessionNumber, ds.ReferringPhysicianName, ds.PatientName = "", "", "Anonymous^"
    spec = HCC_TACE_SEG_SEGMENTS[0]
    description = hd.seg.SegmentDescription(1, "Liver", spec.category, spec.property_type, "MANUAL")
    seg = hd.seg.Segmentation(
        datasets,
        prob,
        "FRACTIONAL",
        [description],
        hd.UID(),
        300,
        hd.UID(),
        1,
        "test",
        "test",
        "1",
        "0",
        max_fractional_value=255,
    )
    seg.save_as(tmp_path / "frac.dcm")
    result = read_dicom_seg(tmp_path / "frac.dcm", ct, canonical=False)
    expected = np.zeros((cols, rows, n), np.uint8)
    expected[4:9, 3:6, 2] = 1
    assert np.array_equal(result.label.array, expected)


def test_write_accepts_a_ct_folder(ct: DicomCtSeries, tmp_path: Path) -> None:
    folder = ct.files[0].path.parent
    path = write_dicom_seg(Volume(_label(), _affine(), kind="label"), folder, tmp_path / "s.dcm")
    assert np.array_equal(read_dicom_seg(path, ct).label.array, _truth())


def test_labelmap_seg_is_read(ct: DicomCtSeries, tmp_path: Path) -> None:
    datasets = [pydicom.dcmread(f.path) for f in ct.files]
    for ds in datasets:
        ds.PatientBirthDate, ds.PatientSex, ds.StudyDate, ds.StudyTime = "", "", "", ""
        ds.AccessionNumber, ds.ReferringPhysicianName, ds.PatientName = "", "", "Anonymous^"
    descriptions = [
        hd.seg.SegmentDescription(i + 1, s.label, s.category, s.property_type, "MANUAL")
        for i, s in enumerate(HCC_TACE_SEG_SEGMENTS[:2])
    ]
    native = Volume(_label(), _affine(), kind="label").reoriented(ct.volume.axcodes)
    pixels = np.ascontiguousarray(native.array.transpose(2, 1, 0))  # (frames, rows, columns)
    seg = hd.seg.Segmentation(
        datasets,
        pixels,
        "LABELMAP",
        descriptions,
        hd.UID(),
        300,
        hd.UID(),
        1,
        "test",
        "test",
        "1",
        "0",
    )
    seg.save_as(tmp_path / "labelmap.dcm")
    assert np.array_equal(read_dicom_seg(tmp_path / "labelmap.dcm", ct).label.array, _truth())


def test_ct_slices_with_blank_sop_class_take_it_from_the_file_meta(
    ct: DicomCtSeries, tmp_path: Path
) -> None:
    # The real TotalSegmentator example's slices carry an empty SOPClassUID (file meta has it).
    for info in ct.files:
        ds = pydicom.dcmread(info.path)
        ds.SOPClassUID = ""
        ds.save_as(info.path)
    blanked = read_dicom_series(ct.files[0].path.parent)
    path = _write(blanked, tmp_path / "seg.dcm")
    ds = pydicom.dcmread(path)
    ref = ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert ref.ReferencedSOPClassUID == pydicom.uid.CTImageStorage
    assert np.array_equal(read_dicom_seg(path, ct).label.array, _truth())


@pytest.mark.parametrize(
    ("charset", "written"),
    [
        ("", None),
        (["", "ISO 2022 IR 87"], ["ISO 2022 IR 6", "ISO 2022 IR 87"]),
        ("bogus", "ISO_IR 192"),
    ],
)
def test_seg_is_written_whatever_the_ct_character_set(
    tmp_path: Path, charset: object, written: object
) -> None:
    files = write_dicom_series(
        Volume(np.full(SHAPE, -50, np.int16), _affine()), tmp_path / "ct", DicomSeriesMeta()
    )
    for path in files:  # as real exporters write it (the dcmqi CT has an empty value)
        ds = pydicom.dcmread(path)
        ds.SpecificCharacterSet = charset
        ds.save_as(path)
    ct = read_dicom_series(tmp_path / "ct")
    path = _write(ct, tmp_path / "seg.dcm")
    assert pydicom.dcmread(path).get("SpecificCharacterSet") == written
    assert np.array_equal(read_dicom_seg(path, ct).label.array, _truth())


@pytest.mark.realdata
def test_seg_is_written_on_the_dcmqi_ct_with_its_empty_character_set(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = require(shared_data / "dcmqi-ct3slice")
    ct = read_dicom_series(folder)
    assert pydicom.dcmread(ct.files[0].path).SpecificCharacterSet == ""
    label = np.zeros(ct.volume.shape, np.uint8)
    label[100:300, 120:320, :] = 1
    label[180:220, 200:240, 1] = 2
    path = write_dicom_seg(ct.volume.with_array(label, kind="label"), ct, tmp_path / "seg.dcm")
    result = read_dicom_seg(path, ct, canonical=False)
    assert np.array_equal(result.label.array, label)
