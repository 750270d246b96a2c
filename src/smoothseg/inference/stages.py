"""The two inference stages on a canonical (RAS) CT, and the multi-class variant.

Liver stage (global view): resample to the bundle's spacing (coarser with ``fast``), HU window,
sliding window with Gaussian blending, softmax; the liver probability is brought back onto the
CT grid (trilinear: it is a probability, not a label) and thresholded at 0.5, then cleaned
(largest component, 3D hole filling; Supplementary C.2). Before that, thin necks that join the
liver to other tissue are cut on the stage's grid (:func:`~smoothseg.preprocess.cut_liver_bridges`,
``neck_mm``; not in the paper).

Tumor stage (local view): crop the CT and liver to the liver's box plus a margin at the tumor
bundle's spacing, blank everything outside the liver, sliding window, softmax; the tumor
probability is pasted back, brought onto the CT grid, thresholded and restricted to the liver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import combinations

import numpy as np
import numpy.typing as npt
import torch

from smoothseg.bundle import Bundle
from smoothseg.errors import SmoothsegError
from smoothseg.io.volume import Volume
from smoothseg.models.sliding import SlidingWindowConfig, sliding_window_logits
from smoothseg.preprocess import (
    LiverStageConfig,
    TumorStageConfig,
    clean_liver_mask,
    cut_liver_bridges,
    global_view,
    local_view,
    paste_back,
    resample_array,
)

F32 = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]


def tta_flips(bundle: Bundle, enabled: bool) -> list[tuple[int, ...]]:
    """Flip sets averaged at test time: none, plus each subset of the trained flip axes."""
    if not enabled:
        return [()]
    axes = tuple(sorted(set(bundle.preprocessing.augment.flip_axes)))
    return [c for n in range(len(axes) + 1) for c in combinations(axes, n)]


def probabilities(
    bundle: Bundle,
    image: F32,
    *,
    overlap: float,
    flips: Sequence[tuple[int, ...]] = ((),),
    sw_batch_size: int = 2,
    device: str = "cpu",
    amp: bool = False,
) -> F32:
    """Softmax probabilities ``[C, i, j, k]`` of a preprocessed image, averaged over flips.

    ``amp``: float16 autocast of the windows (CUDA only).
    """
    window: SlidingWindowConfig = replace(
        bundle.sliding_window, overlap=overlap, sw_batch_size=sw_batch_size, mode="gaussian"
    )
    tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
    total: torch.Tensor | None = None
    for axes in flips:
        dims = [a + 2 for a in axes]
        source = torch.flip(tensor, dims) if dims else tensor
        logits = sliding_window_logits(bundle.model, source, window, device=device, amp=amp)
        probs = torch.softmax(logits, dim=1)
        if dims:
            probs = torch.flip(probs, dims)
        total = probs if total is None else total + probs
    assert total is not None
    out: F32 = (total[0] / len(flips)).numpy().astype(np.float32, copy=False)
    return out


def liver_stage(
    ct: Volume,
    bundle: Bundle,
    *,
    overlap: float,
    tta: bool = False,
    spacing_factor: float = 1.0,
    neck_mm: float = 0.0,
    sw_batch_size: int = 2,
    device: str = "cpu",
    amp: bool = False,
) -> tuple[Mask, F32 | None]:
    """Liver mask of a canonical CT (cleaned), and for multi-class bundles the tumor probability.

    Args:
        ct: Canonical CT in HU.
        bundle: A liver or multi-class bundle.
        overlap: Sliding-window overlap.
        tta: Flip test-time augmentation.
        spacing_factor: Multiply the bundle's spacing by this (``fast`` mode).
        neck_mm: Cut necks of the liver thinner than twice this (0: off), on the stage's grid.
        sw_batch_size: Windows per model call.
        device: Where the model runs.
        amp: float16 autocast of the windows (CUDA only).

    Returns:
        ``(liver mask, tumor probability or None)`` on the CT's grid; the liver includes tumor.

    """
    config = bundle.preprocessing
    if not isinstance(config, LiverStageConfig):
        raise SmoothsegError(
            f"bundle {bundle.path} is not a liver stage (preprocessing: {type(config).__name__})"
        )
    spacing = config.target_spacing_mm or ct.spacing_mm
    if spacing_factor != 1.0:
        coarse = (
            spacing[0] * spacing_factor,
            spacing[1] * spacing_factor,
            spacing[2] * spacing_factor,
        )
        config = replace(config, target_spacing_mm=coarse)
    view = global_view(ct, config)
    probs = probabilities(
        bundle,
        view.image,
        overlap=overlap,
        flips=tta_flips(bundle, tta),
        sw_batch_size=sw_batch_size,
        device=device,
        amp=amp,
    )
    parent = view.resample.parent.shape
    foreground = resample_array(1.0 - probs[0], parent, label=False) >= 0.5
    if neck_mm > 0:  # remove only what the cut drops: the kept surface stays trilinear
        stage_fg = probs[0] < 0.5
        dropped = stage_fg & ~cut_liver_bridges(stage_fg, view.resample.grid.spacing_mm, neck_mm)
        if dropped.any():
            foreground &= view.to_parent(dropped.astype(np.uint8)) == 0
    liver = clean_liver_mask(foreground)
    tumor_prob: F32 | None = None
    if bundle.stage == "multiclass" and probs.shape[0] > 2:
        tumor_prob = np.asarray(resample_array(probs[2], parent, label=False), dtype=np.float32)
    return liver, tumor_prob


def tumor_probability(
    ct: Volume,
    liver: Mask,
    bundle: Bundle,
    *,
    overlap: float,
    tta: bool = False,
    margin_mm: float | None = None,
    sw_batch_size: int = 2,
    device: str = "cpu",
    amp: bool = False,
) -> F32:
    """Tumor-class probability of a canonical CT on its grid (0 outside the liver's box)."""
    config = bundle.preprocessing
    if not isinstance(config, TumorStageConfig):
        raise SmoothsegError(
            f"bundle {bundle.path} is not a tumor stage (preprocessing: {type(config).__name__})"
        )
    if margin_mm is not None:
        config = replace(config, margin_mm=margin_mm)
    view = local_view(ct, liver, config)
    if view is None:
        return np.zeros(ct.shape, dtype=np.float32)
    probs = probabilities(
        bundle,
        view.image,
        overlap=overlap,
        flips=tta_flips(bundle, tta),
        sw_batch_size=sw_batch_size,
        device=device,
        amp=amp,
    )
    index = next((k for k, v in bundle.label_map.items() if v == "tumor"), max(bundle.label_map))
    tumor_box = np.where(view.mask, probs[index], 0.0).astype(np.float32)
    on_resampled = paste_back(tumor_box, view.crop, 0.0)
    on_ct = resample_array(on_resampled, view.resample.parent.shape, label=False)
    return np.asarray(on_ct, dtype=np.float32)
