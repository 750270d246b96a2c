"""Real-scan benchmark (``make bench-real``): the shipped model on every real scan we hold.

Labelled cases (see ``docs/real-ct-benchmark.md``): the TotalSegmentator example (liver = label 5
of a *model-made* reference), LiTS-117 (liver + tumor; no voxel size stored, read at an assumed
1.4 mm isotropic spacing and also "as stored" at 1 mm), the dcmqi 3-slice liver (DICOM SEG).
Unlabelled: HCC_009 (two series of one study), HCC_048, the PET/CT's CT: predicted volumes only.
``--tta`` also runs every model with flip test-time augmentation (``PredictConfig.tta``: the
probabilities averaged over the flips each stage was trained with), side by side with the same
model without it, in the same run.

All prediction goes through :func:`segment`; all scoring through :func:`score` (built on
:mod:`smoothseg.evaluation`). Writes ``benchmarks/results/real_ct.{md,json}``, one PNG per case
and one line in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
LITS_ASSUMED_MM = 1.4
TS_LIVER_LABEL = 5


@dataclass(frozen=True)
class CaseScore:
    """Scores of one labelled case (NaN where undefined)."""

    case: str
    liver_dice: float
    tumor_dice: float
    fp_tumor_ml: float
    lesions_found: int
    lesions_true: int
    liver_hd95_mm: float
    seconds: float


def segment(model_dir: Path | None, image: Any, tta: bool = False) -> tuple[Any, Any, float]:
    """Predict liver and tumor masks of ``image`` as ``smoothseg predict`` does (``tta``: flips).

    The one place where this benchmark predicts (re-pointed at ``smoothseg.segment`` later).

    Returns:
        (liver mask, tumor mask, seconds), masks on ``image``'s canonical grid.

    """
    from smoothseg.predict import PredictConfig, Predictor

    predictor = Predictor.from_model_dir(model_dir, PredictConfig(device="cpu", tta=tta))
    start = time.perf_counter()
    pred = predictor.predict(image)
    return pred.liver, pred.tumor, time.perf_counter() - start


def score(
    name: str,
    liver: npt.ArrayLike,
    tumor: npt.ArrayLike,
    ref: npt.ArrayLike,
    spacing_mm: tuple[float, float, float],
    seconds: float,
) -> CaseScore:
    """Score predicted masks against a 0/1/2 reference label map (same grid).

    False-positive tumor mL counts predicted tumor voxels outside the reference tumor.
    """
    from smoothseg.evaluation import confusion_counts, dice, match_lesions
    from smoothseg.evaluation.surface import hd95_mm

    r = np.asarray(ref)
    lv, tu = np.asarray(liver, dtype=bool), np.asarray(tumor, dtype=bool)
    ref_liver, ref_tumor = r > 0, r == 2
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    has_tumor = bool(ref_tumor.any())
    detection = match_lesions(tu, ref_tumor, spacing_mm)
    return CaseScore(
        case=name,
        liver_dice=dice(confusion_counts(lv, ref_liver)),
        tumor_dice=dice(confusion_counts(tu, ref_tumor)) if has_tumor else float("nan"),
        fp_tumor_ml=float((tu & ~ref_tumor).sum()) * voxel_ml,
        lesions_found=int(sum(detection.ref_detected)),
        lesions_true=len(detection.ref_detected),
        liver_hd95_mm=hd95_mm(lv, ref_liver, spacing_mm) if lv.any() else float("nan"),
        seconds=seconds,
    )


def _labelled_cases() -> list[tuple[str, Any, Any]]:
    from smoothseg.io import read_volume
    from smoothseg.io.dicom import read_dicom_series
    from smoothseg.io.dicom_seg_read import read_dicom_seg

    cases: list[tuple[str, Any, Any]] = []
    ts = DATA / "totalsegmentator-example"
    if ts.is_dir():
        img = read_volume(ts / "example_ct_sm.nii.gz", kind="image")
        seg = read_volume(ts / "example_seg.nii.gz", kind="label")
        ref = (np.asarray(seg.array) == TS_LIVER_LABEL).astype(np.uint8)
        cases.append(("TotalSegmentator example (model-made ref)", img, ref))
    lits = DATA / "lits-117"
    if lits.is_dir():
        img = read_volume(lits / "img_117.nii.gz", kind="image")
        lab = np.asarray(read_volume(lits / "lab_117.nii.gz", kind="label").array)
        # Stored axes run left/posterior (spine at low j, liver at high i when read as RAS):
        # the crop comes from an LPS DICOM, so the assumed affine flips i and j.
        assumed = np.diag([-LITS_ASSUMED_MM, -LITS_ASSUMED_MM, LITS_ASSUMED_MM, 1.0])
        flipped = replace(img, affine=assumed).to_canonical()
        ref = replace(img, affine=assumed).with_array(lab, kind="label").to_canonical()
        cases.append((f"LiTS-117 ({LITS_ASSUMED_MM} mm LPS assumed)", flipped, ref.array))
        cases.append(("LiTS-117 (as stored, 1 mm)", img, lab))
    dq = DATA / "dcmqi-ct3slice"
    if dq.is_dir():
        ct = read_dicom_series(dq)
        seg_label = read_dicom_seg(dq / "liver_SEG.dcm", ct)
        img = read_volume(dq, kind="image")
        cases.append(("dcmqi 3-slice liver (DICOM SEG)", img, np.asarray(seg_label.label.array)))
    return cases


def _unlabelled_cases() -> list[tuple[str, Path]]:
    hcc = DATA / "hcc-tace-seg" / "HCC-TACE-Seg" / "HCC_009"
    out = [
        (f"HCC_009 series {p.name.split('.')[0]}", p) for p in sorted(hcc.glob("*/*")) if p.is_dir()
    ]
    out = [(n, p) for n, p in out if "SEG" not in p.name.upper()]
    for name, rel in (
        ("HCC_048", "real-ct/HCC_048-portal-venous"),
        ("PET/CT CT", "real-ct/ACRIN-NSCLC-FDG-PET-042_ct.nii.gz"),
    ):
        if (DATA / rel).exists():
            out.append((name, DATA / rel))
    return out


def _panel(path: Path, image: Any, ref: npt.ArrayLike, liver: Any, tumor: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = np.asarray(ref)
    pred = np.asarray(liver).astype(np.uint8) + np.asarray(tumor).astype(np.uint8)
    k = int(np.argmax((r > 0).sum(axis=(0, 1)))) if (r > 0).any() else r.shape[2] // 2
    ct = np.clip(np.asarray(image.array)[:, :, k].T, -200, 250)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    for ax, title, lab in (
        (axes[0], "CT", None),
        (axes[1], "reference", r),
        (axes[2], "prediction", pred),
    ):
        ax.imshow(ct, cmap="gray", origin="lower")
        if lab is not None:
            ax.imshow(
                np.ma.masked_equal(lab[:, :, k].T, 0),
                cmap="autumn",
                alpha=0.45,
                origin="lower",
                vmin=1,
                vmax=2,
            )
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run(model_dir: Path | None, out_dir: Path, label: str, tta: bool = False) -> dict[str, Any]:
    """Benchmark one model; returns JSON-ready results (scores and unlabelled volumes)."""
    from smoothseg.io import read_volume

    scores, volumes = [], []
    for name, image, ref in _labelled_cases():
        liver, tumor, secs = segment(model_dir, image, tta)
        s = score(name, liver, tumor, ref, tuple(image.spacing_mm), secs)
        scores.append(asdict(s))
        slug = "".join(c if c.isalnum() else "_" for c in name)[:40]
        _panel(out_dir / f"real_ct_{label.replace('+', '_')}_{slug}.png", image, ref, liver, tumor)
    for name, path in _unlabelled_cases():
        image = read_volume(path, kind="image")
        liver, tumor, secs = segment(model_dir, image, tta)
        ml = float(np.prod(image.spacing_mm)) / 1000.0
        volumes.append(
            {
                "case": name,
                "liver_ml": float(np.sum(liver)) * ml,
                "tumor_ml": float(np.sum(tumor)) * ml,
                "seconds": secs,
            }
        )
    hcc = [v["tumor_ml"] for v in volumes if v["case"].startswith("HCC_009")]
    agreement = min(hcc) / max(hcc) if len(hcc) == 2 and max(hcc) > 0 else float("nan")
    return {
        "model": str(model_dir or "shipped") + (" +TTA" if tta else ""),
        "tta": tta,
        "scores": scores,
        "volumes": volumes,
        "hcc009_tumor_agreement": agreement,
    }


def table(results: list[tuple[str, dict[str, Any]]]) -> str:
    """Markdown tables of one or two models' results."""
    lines = [
        "| model | case | liver Dice | tumor Dice | FP tumor mL | lesions | HD95 mm | s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, res in results:
        for s in res["scores"]:
            lines.append(
                f"| {label} | {s['case']} | {s['liver_dice']:.3f} | {s['tumor_dice']:.3f} | "
                f"{s['fp_tumor_ml']:.1f} | {s['lesions_found']}/{s['lesions_true']} | "
                f"{s['liver_hd95_mm']:.1f} | {s['seconds']:.1f} |"
            )
    lines += ["", "| model | unlabelled scan | liver mL | tumor mL | s |", "|---|---|---|---|---|"]
    for label, res in results:
        for v in res["volumes"]:
            lines.append(
                f"| {label} | {v['case']} | {v['liver_ml']:.0f} | {v['tumor_ml']:.0f} | "
                f"{v['seconds']:.1f} |"
            )
        lines.append(
            f"| {label} | HCC_009 series tumor agreement (min/max) | | "
            f"{res['hcc009_tumor_agreement']:.2f} | |"
        )
    return "\n".join(lines)


def _summary(res: dict[str, Any]) -> str:
    """One RESULTS.md fragment: liver Dice per case, LiTS tumor, TS false tumor, HCC_009."""
    bits = []
    for s in res["scores"]:
        short = s["case"].replace("TotalSegmentator example (model-made ref)", "TS")
        short = short.replace("dcmqi 3-slice liver (DICOM SEG)", "dcmqi")
        bits.append(f"{short} liver {s['liver_dice']:.3f}")
        if s["lesions_true"]:
            bits.append(
                f"{short} tumor {s['tumor_dice']:.3f} "
                f"({s['lesions_found']}/{s['lesions_true']} lesions)"
            )
        elif short == "TS":
            bits.append(f"TS false tumor {s['fp_tumor_ml']:.1f} mL")
    hcc = [f"{v['tumor_ml']:.0f}" for v in res["volumes"] if v["case"].startswith("HCC_009")]
    bits.append(f"HCC_009 tumor mL {'/'.join(hcc)}")
    bits.append(f"predict {total_seconds(res):.1f} s over all scans")
    return ", ".join(bits)


def total_seconds(res: dict[str, Any]) -> float:
    """Seconds of prediction summed over every scan of one model's results."""
    return float(
        sum(s["seconds"] for s in res["scores"]) + sum(v["seconds"] for v in res["volumes"])
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument("--vs", type=Path, default=None, help="second model folder, same run")
    parser.add_argument(
        "--tta", action="store_true", help="also run each model with flip TTA (same run)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not DATA.is_dir():
        print(f"no real data at {DATA}; nothing to benchmark", file=sys.stderr)
        return 1
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    runs = [("model", args.model)] + ([("vs", args.vs)] if args.vs else [])
    variants = [(label, m, False) for label, m in runs]
    if args.tta:
        variants += [(f"{label}+tta", m, True) for label, m in runs]
    results = [(label, run(m, out_dir, label, tta)) for label, m, tta in variants]
    md = table(results)
    print(md)
    (out_dir / "real_ct.md").write_text(md + "\n")
    (out_dir / "real_ct.json").write_text(json.dumps(dict(results), indent=1, default=str))
    parts = [f"{label} ({res['model']}): {_summary(res)}" for label, res in results]
    if args.tta:  # the cost of TTA: ratio against the same model without it, this run
        plain = dict(results)
        parts += [
            f"{label} time x{total_seconds(res) / total_seconds(plain[label[:-4]]):.2f}"
            for label, res in results
            if label.endswith("+tta")
        ]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with (HERE / "RESULTS.md").open("a") as fh:
        fh.write(f"- {stamp} · real_ct · " + "; ".join(parts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
