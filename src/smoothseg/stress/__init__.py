"""Model stress tests with synthetic lesions in real scans (``smoothseg stress-test``).

Sits above inference and evaluation: it implants lesions (:mod:`smoothseg.synthesis`), runs a
model (:mod:`smoothseg.stress.segmenter`, the one place that predicts) and scores detection.
"""

from smoothseg.stress.segmenter import Segmentation, load_segmenter

__all__ = ["Segmentation", "load_segmenter"]
