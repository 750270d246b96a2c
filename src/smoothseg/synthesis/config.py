"""What to implant (:class:`LesionRequest`) and what was implanted (:class:`Lesion`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from smoothseg.errors import SmoothsegError

MIN_DIAMETER_MM = 3.0
MAX_DIAMETER_MM = 120.0
MAX_CONTRAST_HU = 300.0

#: Body contrast (HU against the local parenchyma) of each density class when no range is given.
DENSITY_CONTRAST_HU: dict[str, tuple[float, float]] = {
    "hypodense": (-70.0, -15.0),
    "isodense": (-8.0, 8.0),
    "hyperdense": (15.0, 50.0),
}


class SynthesisConfigError(SmoothsegError):
    """A lesion request that cannot be honoured (sizes, contrasts, probabilities)."""


def _prob(name: str, value: float, problems: list[str]) -> None:
    if not 0.0 <= value <= 1.0:
        problems.append(f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class LesionRequest:
    """What to implant. Diameters are volume-equivalent (mm), contrasts in HU vs parenchyma.

    Attributes:
        count: Primary lesions (satellites of a multifocal lesion come on top).
        size_mm: Diameter range, within 3-120 mm.
        contrast_hu: Body contrast range; ``None`` draws a density class from
            ``density_weights`` (hypo-, iso-, hyperdense, see :data:`DENSITY_CONTRAST_HU`).
        density_weights: Relative weights of hypo-, iso- and hyperdense lesions.
        hcc_prob: Chance of an HCC-like pattern: enhancing (arterial) rim, washed-out body.
        necrosis_prob: Chance of a necrotic core (lesions of 15 mm and more).
        capsule_prob: Chance of an enhancing capsule (lesions of 10 mm and more).
        multifocal_prob: Chance that a lesion gets 1-3 smaller satellites nearby.
        mass_effect: Range of the outward push of the surroundings, as a fraction of the radius.
        irregularity: Amplitude of the smooth elastic distortion of the ellipsoid (0: none).
        texture_scale: Range of the texture sd as a fraction of the parenchyma's own noise sd.
        edge_blur_mm: Range of the extra edge blur on top of the voxels' partial volume.
        vessel_margin_hu: Voxels this much brighter than the parenchyma count as vessels.
        vessel_clearance_mm: Minimum distance of a lesion centre from a vessel.
        capsule_margin_mm: Minimum depth of a lesion centre below the liver surface.

    """

    count: int = 1
    size_mm: tuple[float, float] = (10.0, 30.0)
    contrast_hu: tuple[float, float] | None = None
    density_weights: tuple[float, float, float] = (0.7, 0.15, 0.15)
    hcc_prob: float = 0.2
    necrosis_prob: float = 0.15
    capsule_prob: float = 0.15
    multifocal_prob: float = 0.15
    mass_effect: tuple[float, float] = (0.0, 0.12)
    irregularity: float = 0.12
    texture_scale: tuple[float, float] = (0.2, 0.6)
    edge_blur_mm: tuple[float, float] = (0.3, 1.5)
    vessel_margin_hu: float = 40.0
    vessel_clearance_mm: float = 3.0
    capsule_margin_mm: float = 5.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.count < 1:
            problems.append(f"count must be >= 1, got {self.count}")
        low, high = self.size_mm
        if not MIN_DIAMETER_MM <= low <= high <= MAX_DIAMETER_MM:
            problems.append(
                f"size_mm must satisfy {MIN_DIAMETER_MM:g} <= min <= max <= "
                f"{MAX_DIAMETER_MM:g} mm, got {low:g} {high:g}"
            )
        if self.contrast_hu is not None:
            c_low, c_high = self.contrast_hu
            if not -MAX_CONTRAST_HU <= c_low <= c_high <= MAX_CONTRAST_HU:
                problems.append(
                    f"contrast_hu must satisfy -{MAX_CONTRAST_HU:g} <= min <= max <= "
                    f"{MAX_CONTRAST_HU:g}, got {c_low:g} {c_high:g}"
                )
        if min(self.density_weights) < 0 or sum(self.density_weights) <= 0:
            problems.append(f"density_weights must be >= 0, not all 0: {self.density_weights}")
        for name in ("hcc_prob", "necrosis_prob", "capsule_prob", "multifocal_prob"):
            _prob(name, getattr(self, name), problems)
        for name in ("mass_effect", "texture_scale", "edge_blur_mm"):
            a, b = getattr(self, name)
            if not 0.0 <= a <= b:
                problems.append(f"{name} must satisfy 0 <= min <= max, got {a:g} {b:g}")
        if self.mass_effect[1] > 0.3:
            problems.append(f"mass_effect above 0.3 is not gentle: {self.mass_effect[1]:g}")
        if not 0.0 <= self.irregularity <= 0.5:
            problems.append(f"irregularity must be in [0, 0.5], got {self.irregularity}")
        if self.vessel_clearance_mm < 0 or self.capsule_margin_mm < 0:
            problems.append("vessel_clearance_mm and capsule_margin_mm must be >= 0")
        if problems:
            raise SynthesisConfigError("invalid lesion request: " + "; ".join(problems))

    def plain(self) -> LesionRequest:
        """The same sizes and contrasts as uniform solitary lesions (no rim, core, capsule).

        Used by the stress test, where each cell must hold exactly the asked size and contrast.
        """
        return replace(
            self,
            hcc_prob=0.0,
            necrosis_prob=0.0,
            capsule_prob=0.0,
            multifocal_prob=0.0,
            mass_effect=(0.0, 0.0),
        )


@dataclass(frozen=True)
class Lesion:
    """One implanted lesion.

    Attributes:
        center_ijk: Centre voxel on the CT's grid.
        diameter_mm: Asked volume-equivalent diameter.
        contrast_hu: Body contrast against the local parenchyma.
        pattern: ``plain`` or ``hcc`` (enhancing rim, washed-out body).
        necrosis: Whether it has a necrotic core.
        capsule: Whether it has an enhancing capsule.
        parent: Index of the primary lesion for a satellite, else ``None``.
        voxels: Tumor voxels labelled (inside the liver).
        volume_ml: Their volume.

    """

    center_ijk: tuple[int, int, int]
    diameter_mm: float
    contrast_hu: float
    pattern: str
    necrosis: bool
    capsule: bool
    parent: int | None
    voxels: int
    volume_ml: float
