"""Segment names → harmonized classes: which DICOM SEG segment is liver, tumor, or neither.

Segment numbers differ between SEG files, so segments are matched by text: the segment label,
then the segment description, then the meaning of the segmented property type code. Text is
compared case-insensitively with punctuation folded to spaces (``"Portal_Vein"`` matches
``"portal vein"``).

Each name maps to a *role*; roles fold into the harmonized label map (0 background, 1 liver,
2 tumor) the way the paper does: portal vein → liver, abdominal aorta → background. Where
segments overlap, the higher-priority role wins: tumor > portal vein > liver > aorta.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from smoothseg.errors import InputError

SegmentRole = Literal["liver", "tumor", "portal_vein", "aorta", "ignore"]
ROLES: tuple[SegmentRole, ...] = ("liver", "tumor", "portal_vein", "aorta", "ignore")

#: Harmonized class of each role.
ROLE_CLASS: dict[SegmentRole, int] = {
    "ignore": 0,
    "aorta": 0,
    "liver": 1,
    "portal_vein": 1,
    "tumor": 2,
}
#: Overlap priority (higher wins); 0 means "never painted".
ROLE_PRIORITY: dict[SegmentRole, int] = {
    "ignore": 0,
    "aorta": 1,
    "liver": 2,
    "portal_vein": 3,
    "tumor": 4,
}

#: Default names, covering HCC-TACE-Seg ("Liver", "Mass", "Portal vein", "Abdominal aorta"),
#: 3D Slicer / dcmqi exports and common synonyms.
DEFAULT_SEGMENT_NAMES: tuple[tuple[str, SegmentRole], ...] = (
    ("liver", "liver"),
    ("liver parenchyma", "liver"),
    ("mass", "tumor"),
    ("liver mass", "tumor"),
    ("tumor", "tumor"),
    ("tumour", "tumor"),
    ("liver tumor", "tumor"),
    ("liver tumour", "tumor"),
    ("tumor mass", "tumor"),
    ("lesion", "tumor"),
    ("liver lesion", "tumor"),
    ("neoplasm", "tumor"),
    ("necrosis", "tumor"),
    ("hcc", "tumor"),
    ("portal vein", "portal_vein"),
    ("portalvein", "portal_vein"),
    ("abdominal aorta", "aorta"),
    ("aorta", "aorta"),
    ("background", "ignore"),  # segment 0 of LABELMAP SEGs
)


def normalize_name(text: str) -> str:
    """Lower case, punctuation and underscores folded to single spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


@dataclass(frozen=True)
class SegmentMapping:
    """Segment name → role table (first matching entry wins).

    Attributes:
        names: ``(name, role)`` pairs; names are compared after :func:`normalize_name`.

    """

    names: tuple[tuple[str, SegmentRole], ...] = DEFAULT_SEGMENT_NAMES

    def role_of(self, texts: Iterable[str]) -> SegmentRole | None:
        """The role of the first of ``texts`` that a name matches, else ``None``."""
        table: dict[str, SegmentRole] = {}
        for name, role in self.names:
            table.setdefault(normalize_name(name), role)
        for text in texts:
            found = table.get(normalize_name(text))
            if text and found is not None:
                return found
        return None

    def with_overrides(self, overrides: Iterable[str]) -> SegmentMapping:
        """A mapping where ``NAME=ROLE`` entries take precedence over this one's."""
        parsed = tuple(parse_override(text) for text in overrides)
        return SegmentMapping(names=parsed + self.names) if parsed else self


def parse_override(text: str) -> tuple[str, SegmentRole]:
    """Parse ``"Spleen=ignore"`` into ``("Spleen", "ignore")``.

    Raises:
        InputError: no ``=``, empty name, or an unknown role.

    """
    name, sep, role = text.rpartition("=")
    key = role.strip().lower().replace(" ", "_").replace("-", "_")
    if not sep or not name.strip():
        raise InputError("--segment-map", f"{text!r} is not NAME=ROLE (roles: {', '.join(ROLES)})")
    if key not in ROLES:
        raise InputError(
            "--segment-map", f"{text!r}: unknown role {key!r}; valid: {', '.join(ROLES)}"
        )
    return name.strip(), key
