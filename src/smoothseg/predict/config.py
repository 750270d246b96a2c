"""The options of ``smoothseg predict``: one flat, frozen :class:`PredictConfig`.

Every CLI flag is one field. The config splits into the parts each layer reads:
:attr:`PredictConfig.inference` (the model stages, :class:`InferenceConfig`),
:attr:`PredictConfig.postprocess` (refinement and lesion filter, :class:`PostprocessConfig`)
and :attr:`PredictConfig.outputs` (which files are written). ``statistics.json`` records the
three parts separately.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from smoothseg.inference.config import InferenceConfig, PredictConfigError
from smoothseg.postprocess.config import PostprocessConfig

_OUTPUT_FIELDS = ("masks", "nrrd", "dicom_seg", "preview")


@dataclass(frozen=True)
class PredictConfig:
    """Options of one prediction run (model fields: :class:`InferenceConfig`; post-processing).

    Attributes:
        overlap: Sliding-window overlap of both stages.
        tta: Flip test-time augmentation.
        refine: Refine tumor boundaries with morphological Chan-Vese.
        chan_vese_iterations: Chan-Vese iterations (the paper: 2).
        chan_vese_smoothing: Smoothing steps per Chan-Vese iteration.
        refine_margin_mm: Margin of the local box around each lesion refined.
        min_lesion_mm3: Tumor components smaller than this are removed (0 keeps all).
        min_liver_ml: A cleaned liver smaller than this counts as "no liver found".
        liver_hu_range: Plausible median HU of a found liver.
        liver_margin_mm: Margin around the liver box for the tumor stage (``None``: bundle's).
        liver_neck_mm: Cut thin necks joining the liver to other tissue (0: off).
        fast: Run the liver stage at a coarser spacing (``fast_factor`` times the bundle's).
        fast_factor: Spacing multiplier of ``fast``.
        device: ``cpu`` or ``cuda`` (or ``cuda:N``).
        sw_batch_size: Windows run through a model at once.
        auto_sw_batch: On CUDA, windows per pass from the free GPU memory.
        amp: float16 autocast of the model windows (CUDA only).
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
    liver_neck_mm: float = 12.0
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
        for part in (InferenceConfig, PostprocessConfig):
            try:
                part(**{f.name: getattr(self, f.name) for f in fields(part)})
            except ValueError as exc:
                problems.append(str(exc).partition(": ")[2])
        if problems:
            raise PredictConfigError("invalid predict options: " + "; ".join(problems))

    @classmethod
    def from_parts(
        cls,
        inference: InferenceConfig | None = None,
        postprocess: PostprocessConfig | None = None,
        **outputs: Any,
    ) -> PredictConfig:
        """Compose a config from its parts (output options as keywords)."""
        unknown = set(outputs) - set(_OUTPUT_FIELDS)
        if unknown:
            raise PredictConfigError(f"unknown output option(s): {', '.join(sorted(unknown))}")
        return cls(
            **(inference or InferenceConfig()).to_dict(),
            **(postprocess or PostprocessConfig()).to_dict(),
            **outputs,
        )

    @property
    def inference(self) -> InferenceConfig:
        """The model-stage options."""
        values = asdict(self)
        return InferenceConfig(**{f.name: values[f.name] for f in fields(InferenceConfig)})

    @property
    def postprocess(self) -> PostprocessConfig:
        """The post-processing options."""
        values = asdict(self)
        return PostprocessConfig(**{f.name: values[f.name] for f in fields(PostprocessConfig)})

    @property
    def outputs(self) -> dict[str, Any]:
        """Which output files are asked for."""
        return {name: getattr(self, name) for name in _OUTPUT_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready flat dict (``PredictConfig(**d)`` rebuilds it)."""
        return asdict(self)
