"""The frozen configuration of ``smoothseg predict`` (inference and post-processing options)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from smoothseg.errors import SmoothsegError


class PredictConfigError(SmoothsegError, ValueError):
    """A prediction option is invalid."""


@dataclass(frozen=True)
class PredictConfig:
    """Options of one prediction run.

    Attributes:
        overlap: Sliding-window overlap of both stages.
        tta: Test-time augmentation: average the probabilities over flips along the axes the
            stage's model was trained to be flip-invariant to (its augmentation's
            ``flip_axes``; the liver stage has none by default, the tumor stage all three).
        refine: Refine tumor boundaries with morphological Chan-Vese.
        chan_vese_iterations: Chan-Vese iterations (the paper: 2).
        chan_vese_smoothing: Smoothing steps per Chan-Vese iteration.
        refine_margin_mm: Margin of the local box around each lesion refined.
        min_lesion_mm3: Tumor components smaller than this are removed (0 keeps all).
        min_liver_ml: A cleaned liver smaller than this counts as "no liver found".
        liver_hu_range: A liver whose median intensity lies outside this HU range (air, bone,
            metal) counts as "no liver found": a plausibility check on what the model found.
        liver_margin_mm: Margin around the liver box for the tumor stage (``None``: the tumor
            bundle's own ``margin_mm``).
        fast: Run the liver stage at a coarser spacing (``fast_factor`` times the bundle's).
        fast_factor: Spacing multiplier of ``fast``.
        device: ``cpu`` or ``cuda`` (or ``cuda:N``).
        sw_batch_size: Windows run through a model at once.
        auto_sw_batch: On CUDA, choose the windows per pass from the free GPU memory instead
            (measured once per model; ignored on CPU).
        amp: float16 autocast of the model windows (CUDA only; ignored on CPU, where it is
            slow).
        masks: Also write separate liver and tumor masks.
        nrrd: Also write the label map as NRRD.
        dicom_seg: Write a DICOM SEG (``None``: when the input is DICOM).
        preview: Write ``preview.png``.

    """

    overlap: float = 0.5
    tta: bool = False
    refine: bool = True
    chan_vese_iterations: int = 2
    chan_vese_smoothing: int = 1
    refine_margin_mm: float = 10.0
    min_lesion_mm3: float = 25.0
    min_liver_ml: float = 10.0
    liver_hu_range: tuple[float, float] = (-100.0, 300.0)
    liver_margin_mm: float | None = None
    fast: bool = False
    fast_factor: float = 2.0
    device: str = "cpu"
    sw_batch_size: int = 2
    auto_sw_batch: bool = False
    amp: bool = False
    masks: bool = False
    nrrd: bool = False
    dicom_seg: bool | None = None
    preview: bool = True

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 0.0 <= self.overlap < 1.0:
            problems.append(f"overlap must be in [0, 1), got {self.overlap}")
        if self.chan_vese_iterations < 0 or self.chan_vese_smoothing < 0:
            problems.append("chan_vese_iterations and chan_vese_smoothing must be >= 0")
        if self.min_lesion_mm3 < 0 or self.min_liver_ml < 0 or self.refine_margin_mm < 0:
            problems.append("min_lesion_mm3, min_liver_ml and refine_margin_mm must be >= 0")
        if self.liver_margin_mm is not None and self.liver_margin_mm < 0:
            problems.append(f"liver_margin_mm must be >= 0, got {self.liver_margin_mm}")
        if self.fast_factor < 1.0:
            problems.append(f"fast_factor must be >= 1, got {self.fast_factor}")
        if self.sw_batch_size < 1:
            problems.append("sw_batch_size must be >= 1")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            problems.append(f"device must be 'cpu' or 'cuda[:N]', got {self.device!r}")
        if problems:
            raise PredictConfigError("invalid predict options: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def check_device_available(device: str) -> None:
    """Raise a clear error when ``device`` (``cpu``, ``cuda``, ``cuda:N``) cannot be used here.

    Raises:
        PredictConfigError: CUDA asked for on a machine without a usable GPU, or a GPU index
            beyond the ones present.

    """
    if not device.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise PredictConfigError(
            f"--device {device}: CUDA is not available on this machine (no GPU or no CUDA "
            "build of torch); use --device cpu"
        )
    _, _, index = device.partition(":")
    if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
        raise PredictConfigError(
            f"--device {device}: this machine has {torch.cuda.device_count()} GPU(s) (cuda:0 ...)"
        )
