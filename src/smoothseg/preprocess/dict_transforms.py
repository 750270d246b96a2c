"""smoothseg's own MONAI dictionary transforms (cache loading, resampling, the two views).

Items are dicts. Arrays are numpy ``[1, i, j, k]`` (channel first) until the MONAI crop and
augmentation transforms turn them into tensors. Keys:

* ``case_id``, ``cache`` — input of :class:`LoadCachedCased`;
* ``image`` (float32, HU then [0, 1]), ``label`` (uint8 classes), ``affine`` (4x4 voxel → RAS),
  ``spacing_mm``;
* ``mask`` — tumor stage: the liver mask the crop and masking used;
* ``liver_sdist`` — tumor training: signed distance to the ground-truth liver, mm;
* ``fg_indices`` / ``bg_indices`` — tumor training: sampling candidates of the ROI crop;
* ``soft_tlvr`` — the patient's soft label (NaN when missing), carried through untouched;
* ``whole_tlvr_voxels`` — tumor and multi-class training: ``[tumor, liver incl. tumor]`` voxel
  counts of the whole case's reference at the training grid, so the TLVR term can compare a
  patch's prediction with the patient's whole liver (:mod:`smoothseg.training.tlvr`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from monai.transforms.transform import Randomizable, Transform

from smoothseg.datasets.cache import load_cached_case
from smoothseg.errors import GeometryError, InputError
from smoothseg.io.volume import CANONICAL_AXCODES
from smoothseg.preprocess.config import LiverStageConfig, TumorStageConfig
from smoothseg.preprocess.crop import crop_to_mask
from smoothseg.preprocess.masks import signed_distance_mm
from smoothseg.preprocess.pipeline import global_intensities, masked_crop
from smoothseg.preprocess.resample import resample_to_spacing
from smoothseg.preprocess.windowing import windowed_value

Item = dict[Hashable, Any]


def _spatial(array: Any) -> npt.NDArray[Any]:
    """The ``[i, j, k]`` numpy array of a ``[1, i, j, k]`` array or tensor."""
    out = array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
    return out[0] if out.ndim == 4 else out


def _spacing(affine: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    s = np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)
    return (float(s[0]), float(s[1]), float(s[2]))


class LoadCachedCased(Transform):
    """Load ``image`` (float32 HU) and ``label`` of ``case_id`` from the prepared ``cache``.

    The cache stores canonical RAS arrays; a volume that is not RAS is reoriented (flips and
    permutations only) so every later transform sees the canonical orientation.
    """

    def __call__(self, data: Mapping[Hashable, Any]) -> Item:
        """Add ``image``, ``label``, ``affine`` and ``spacing_mm`` to a copy of ``data``."""
        item = dict(data)
        case = load_cached_case(str(item["cache"]), str(item["case_id"]))
        image, label = case.image, case.label
        if image.axcodes != CANONICAL_AXCODES:
            image, label = image.to_canonical(), label.to_canonical()
        item["image"] = np.array(image.array, dtype=np.float32)[None]
        item["label"] = np.array(label.array, dtype=np.uint8)[None]
        item["affine"] = np.asarray(image.affine, dtype=np.float64)
        item["spacing_mm"] = image.spacing_mm
        return item


class Resampled(Transform):
    """Resample ``image`` (trilinear) and ``label`` (nearest) to a target spacing (or keep)."""

    def __init__(self, target_spacing_mm: tuple[float, float, float] | None) -> None:
        self.target_spacing_mm = target_spacing_mm

    def __call__(self, data: Mapping[Hashable, Any]) -> Item:
        """Resample; ``affine`` and ``spacing_mm`` follow the new grid."""
        item = dict(data)
        if self.target_spacing_mm is None:
            return item
        image, record = resample_to_spacing(
            _spatial(item["image"]), item["affine"], self.target_spacing_mm, label=False
        )
        label, _ = resample_to_spacing(
            _spatial(item["label"]), item["affine"], self.target_spacing_mm, label=True
        )
        item["image"], item["label"] = image[None], label[None]
        item["affine"] = record.grid.affine
        item["spacing_mm"] = record.grid.spacing_mm
        return item


class WholeTlvrCountsd(Transform):
    """Add ``whole_tlvr_voxels``: ``[tumor, liver incl. tumor]`` voxels of the whole reference.

    Placed after :class:`Resampled`, before any crop, so the counts are the patient's whole
    liver at the grid the network trains on.
    """

    def __init__(self, liver_label: int = 1, tumor_label: int = 2) -> None:
        self.liver_label = liver_label
        self.tumor_label = tumor_label

    def __call__(self, data: Mapping[Hashable, Any]) -> Item:
        """Count the reference's tumor and liver (incl. tumor) voxels."""
        item = dict(data)
        label = _spatial(item["label"])
        tumor = int(np.count_nonzero(label == self.tumor_label))
        liver = int(np.count_nonzero(label == self.liver_label)) + tumor
        item["whole_tlvr_voxels"] = np.array([tumor, liver], dtype=np.float64)
        return item


class GlobalViewd(Transform):
    """Liver stage / multi-class intensities; liver-stage labels become 0/1 (liver incl. tumor).

    Args:
        config: Window and normalisation.
        binary_liver: Map labels to ``label > 0`` (liver stage) instead of keeping 0/1/2.

    """

    def __init__(self, config: LiverStageConfig, *, binary_liver: bool) -> None:
        self.config = config
        self.binary_liver = binary_liver

    def __call__(self, data: Mapping[Hashable, Any]) -> Item:
        """Window (and normalise) ``image``; map ``label``."""
        item = dict(data)
        item["image"] = global_intensities(_spatial(item["image"]), self.config)[None]
        if self.binary_liver:
            item["label"] = (_spatial(item["label"]) > 0).astype(np.uint8)[None]
        return item


class LocalViewd(Transform):
    """Tumor stage, deterministic: crop to the ground-truth liver box + margin and mask.

    This is exactly :func:`smoothseg.preprocess.pipeline.local_view` with the ground-truth
    liver; labels outside the liver are set to background. Adds ``mask``.
    """

    def __init__(self, config: TumorStageConfig) -> None:
        self.config = config

    def __call__(self, data: Mapping[Hashable, Any]) -> Item:
        """Crop, window and mask."""
        item = dict(data)
        label = _spatial(item["label"])
        cropped = masked_crop(_spatial(item["image"]), label > 0, item["spacing_mm"], self.config)
        if cropped is None:
            raise InputError(str(item.get("case_id", "?")), "the label has no liver voxel")
        image, mask, record = cropped
        item["image"] = image[None]
        item["label"] = np.where(mask, record.crop(label), 0).astype(np.uint8)[None]
        item["mask"] = mask[None]
        item["affine"] = record.crop_affine(item["affine"])
        return item


class LiverRegiond(Transform):
    """Tumor training, deterministic (cached) part: a generous crop around the true liver.

    Crops ``image`` (still HU) and ``label`` to the liver box plus the largest extent the
    random part may need (``config.max_extent_mm``) and adds ``liver_sdist``, the signed
    distance to the liver surface, so :class:`RandLiverMaskd` jitters the mask cheaply.
    """

    def __init__(self, config: TumorStageConfig) -> None:
        self.config = config

    def __call__(self, data: Mapping[Hashable, Any]) -> Item:
        """Crop and add the signed distance."""
        item = dict(data)
        label = _spatial(item["label"])
        record = crop_to_mask(label > 0, item["spacing_mm"], self.config.max_extent_mm)
        if record is None:
            raise InputError(str(item.get("case_id", "?")), "the label has no liver voxel")
        label = np.ascontiguousarray(record.crop(label))
        item["image"] = np.ascontiguousarray(record.crop(_spatial(item["image"])))[None]
        item["label"] = label[None]
        item["liver_sdist"] = signed_distance_mm(label > 0, item["spacing_mm"])
        item["affine"] = record.crop_affine(item["affine"])
        return item


class RandLiverMaskd(Randomizable, Transform):
    """Tumor training, random part: a jittered liver mask, the masked crop and padding.

    The liver surface moves by ``u ~ U(config.liver_offset_mm)`` mm (mask =
    ``liver_sdist <= u``) and each face of the box by up to ``config.box_jitter_mm``; the
    crop is then made exactly as at inference (:func:`masked_crop`), labels outside the mask
    become background, and image/label are padded symmetrically to at least the ROI.
    ``fg_indices`` (tumor voxels, or liver when there is none) and ``bg_indices`` (non-tumor
    liver) feed MONAI's ``RandCropByPosNegLabeld``.
    """

    def __init__(self, config: TumorStageConfig) -> None:
        self.config = config
        self._offset = 0.0
        self._faces = np.zeros(6)

    def randomize(self, data: Any = None) -> None:
        """Draw the surface offset and the 6 face jitters."""
        low, high = self.config.liver_offset_mm
        self._offset = float(self.R.uniform(low, high)) if high > low else 0.0
        j = self.config.box_jitter_mm
        self._faces = self.R.uniform(-j, j, size=6) if j > 0 else np.zeros(6)

    def __call__(self, data: Mapping[Hashable, Any]) -> Item:
        """Mask, crop, pad and list the sampling candidates."""
        self.randomize()
        item = dict(data)
        sdist = item.pop("liver_sdist")
        mask = sdist <= self._offset
        if not mask.any():  # eroded away (tiny liver): use the ground truth
            mask = sdist <= 0
        label = _spatial(item["label"])
        margin = [self.config.margin_mm + f for f in self._faces]
        cropped = masked_crop(
            _spatial(item["image"]), mask, item["spacing_mm"], self.config, margin
        )
        if cropped is None:
            raise GeometryError(f"case {item.get('case_id')}: empty liver mask")
        image, inside, record = cropped
        label = np.where(inside, record.crop(label), 0).astype(np.uint8)
        background = windowed_value(self.config.background, self.config.hu_window)
        before = [
            max(r - n, 0) // 2 for r, n in zip(self.config.roi_size, image.shape, strict=True)
        ]
        image, label, inside = _pad_to(image, label, inside, self.config.roi_size, background)
        item["image"], item["label"] = image[None], label[None]
        shift = np.eye(4)
        shift[:3, 3] = [-b for b in before]
        item["affine"] = record.crop_affine(item["affine"]) @ shift
        tumor = np.flatnonzero(label == 2)
        liver = np.flatnonzero(label == 1)
        fallback = np.flatnonzero(inside)
        item["fg_indices"] = tumor if tumor.size else (liver if liver.size else fallback)
        item["bg_indices"] = liver if liver.size else fallback
        return item


def _pad_to(
    image: npt.NDArray[np.float32],
    label: npt.NDArray[np.uint8],
    mask: npt.NDArray[np.bool_],
    roi: tuple[int, int, int],
    background: float,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """Pad symmetrically (like MONAI's ``SpatialPad``) to at least ``roi``."""
    pads = []
    for size, want in zip(image.shape, roi, strict=True):
        extra = max(int(want) - int(size), 0)
        pads.append((extra // 2, extra - extra // 2))
    if not any(a or b for a, b in pads):
        return image, label, mask
    return (
        np.pad(image, pads, constant_values=background),
        np.pad(label, pads, constant_values=0),
        np.pad(mask, pads, constant_values=False),
    )


class Finalized(Transform):
    """Plain tensors out: ``image`` float32, ``label`` int64 (rounded), ``mask`` bool.

    Keeps only ``keep`` besides those (e.g. ``case_id``, ``soft_tlvr``), so batches collate
    without MONAI metadata.
    """

    def __init__(
        self, keep: tuple[str, ...] = ("case_id", "soft_tlvr", "whole_tlvr_voxels")
    ) -> None:
        self.keep = keep

    def __call__(self, data: Mapping[Hashable, Any]) -> Item:
        """Convert and drop the rest."""
        out: Item = {k: data[k] for k in self.keep if k in data}
        out["image"] = _tensor(data["image"]).float().contiguous()
        out["label"] = torch.round(_tensor(data["label"]).float()).long().contiguous()
        if "mask" in data:
            out["mask"] = _tensor(data["mask"]).bool().contiguous()
        return out


def _tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        plain = value.as_tensor() if hasattr(value, "as_tensor") else value
        return plain.detach()
    return torch.from_numpy(np.ascontiguousarray(value))
