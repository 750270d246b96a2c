"""The frozen configuration of the model stages (:class:`InferenceConfig`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from smoothseg.errors import SmoothsegError


class PredictConfigError(SmoothsegError, ValueError):
    """A prediction option is invalid."""


@dataclass(frozen=True)
class InferenceConfig:
    """How the models run on one scan.

    Attributes:
        overlap: Sliding-window overlap of both stages.
        tta: Test-time augmentation: average the probabilities over flips along the axes the
            stage's model was trained to be flip-invariant to (its augmentation's
            ``flip_axes``; the liver stage has none by default, the tumor stage all three).
        min_liver_ml: A cleaned liver smaller than this counts as "no liver found".
        liver_hu_range: A liver whose median intensity lies outside this HU range (air, bone,
            metal) counts as "no liver found": a plausibility check on what the model found.
        liver_margin_mm: Margin around the liver box for the tumor stage (``None``: the tumor
            bundle's own ``margin_mm``).
        liver_neck_mm: Cut necks thinner than twice this that join the liver stage's
            foreground to other tissue, keeping the body that holds most of it (0: off; not in
            the paper; :func:`~smoothseg.preprocess.cut_liver_bridges`).
        fast: Run the liver stage at a coarser spacing (``fast_factor`` times the bundle's).
        fast_factor: Spacing multiplier of ``fast``.
        device: ``cpu`` or ``cuda`` (or ``cuda:N``).
        sw_batch_size: Windows run through a model at once.
        auto_sw_batch: On CUDA, choose the windows per pass from the free GPU memory instead
            (measured once per model; ignored on CPU).
        amp: float16 autocast of the model windows (CUDA only; ignored on CPU, where it is
            slow).

    """

    overlap: float = 0.5
    tta: bool = False
    min_liver_ml: float = 10.0
    liver_hu_range: tuple[float, float] = (-100.0, 300.0)
    liver_margin_mm: float | None = None
    liver_neck_mm: float = 12.0
    fast: bool = False
    fast_factor: float = 2.0
    device: str = "cpu"
    sw_batch_size: int = 2
    auto_sw_batch: bool = False
    amp: bool = False

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise PredictConfigError("invalid predict options: " + "; ".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with these options (empty when valid)."""
        problems: list[str] = []
        if not 0.0 <= self.overlap < 1.0:
            problems.append(f"overlap must be in [0, 1), got {self.overlap}")
        if self.min_liver_ml < 0:
            problems.append("min_liver_ml must be >= 0")
        if self.liver_margin_mm is not None and self.liver_margin_mm < 0:
            problems.append(f"liver_margin_mm must be >= 0, got {self.liver_margin_mm}")
        if self.liver_neck_mm < 0:
            problems.append(f"liver_neck_mm must be >= 0, got {self.liver_neck_mm}")
        if self.fast_factor < 1.0:
            problems.append(f"fast_factor must be >= 1, got {self.fast_factor}")
        if self.sw_batch_size < 1:
            problems.append("sw_batch_size must be >= 1")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            problems.append(f"device must be 'cpu' or 'cuda[:N]', got {self.device!r}")
        return problems

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
