"""Lesion matching across time points after registration.

Two lesions are linked when they overlap on the baseline grid (follow-up components resampled
with the registration) or when their centroids are closer than :data:`MAX_CENTROID_MM` (for
lesions that shrank away from their old outline). Connected groups of links give the kinds:
``matched`` (1-1), ``merged`` (n-1), ``split`` (1-n), ``complex`` (n-m), ``disappeared`` and
``new``. The confidence of a group is the larger of its Dice overlap and a distance score
``1 - d / MAX_CENTROID_MM``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Largest centroid distance (mm) that still links two lesions without overlap.
MAX_CENTROID_MM = 15.0


@dataclass(frozen=True)
class Match:
    """A group of linked lesions (1-based indices into each time point's lesion list)."""

    number: int
    kind: str
    baseline: tuple[int, ...]
    followup: tuple[int, ...]
    confidence: float


def _kind(n_base: int, n_follow: int) -> str:
    if n_follow == 0:
        return "disappeared"
    if n_base == 0:
        return "new"
    if n_base == 1 and n_follow == 1:
        return "matched"
    if n_follow == 1:
        return "merged"
    return "split" if n_base == 1 else "complex"


def match_lesions(
    base_comp: npt.NDArray[np.int32],
    follow_comp_on_base: npt.NDArray[np.int32],
    base_centroids: list[tuple[float, float, float]],
    follow_centroids: list[tuple[float, float, float]],
) -> list[Match]:
    """Group baseline and follow-up lesions (components 1..n on the baseline grid)."""
    nb, nf = len(base_centroids), len(follow_centroids)
    joint = np.zeros((nb + 1, nf + 1), dtype=np.int64)
    np.add.at(joint, (base_comp.ravel(), follow_comp_on_base.ravel()), 1)
    size_b, size_f = joint.sum(axis=1), joint.sum(axis=0)
    dist = np.full((nb, nf), np.inf)
    for i, cb in enumerate(base_centroids):
        for j, cf in enumerate(follow_centroids):
            dist[i, j] = float(np.linalg.norm(np.subtract(cb, cf)))
    linked = (joint[1:, 1:] > 0) | (dist < MAX_CENTROID_MM)
    parent = list(range(nb + nf))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in zip(*np.nonzero(linked), strict=True):
        parent[find(int(i))] = find(nb + int(j))
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for node in range(nb + nf):
        side = groups.setdefault(find(node), ([], []))
        (side[0] if node < nb else side[1]).append(node + 1 if node < nb else node - nb + 1)
    out = []
    ordered = sorted(
        groups.values(), key=lambda g: (min(g[0], default=10**9), min(g[1], default=0))
    )
    for number, (bs, fs) in enumerate(ordered, start=1):
        confidence = 1.0
        if bs and fs:
            inter = int(joint[np.ix_(bs, fs)].sum())
            dice = 2 * inter / (int(size_b[bs].sum()) + int(size_f[fs].sum()))
            near = float(dist[np.ix_([b - 1 for b in bs], [f - 1 for f in fs])].min())
            confidence = max(dice, 1.0 - near / MAX_CENTROID_MM, 0.0)
        out.append(
            Match(number, _kind(len(bs), len(fs)), tuple(bs), tuple(fs), round(confidence, 3))
        )
    return out
