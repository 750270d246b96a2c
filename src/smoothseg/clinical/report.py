"""Outputs of a clinical fit: soft labels, the model as JSON, report.md and its two figures.

Files written by :func:`write_outputs` (atomically; nothing existing is replaced unless
``overwrite``):

* ``soft_labels.csv``: ``case_id,tlvr,tlvr_hat,fold``, one row per case with a clinical row
  (``fold``: cross-fitting fold ``1``..``K`` of a training case, ``test`` for a test case);
* ``soft_labels_missing.csv``: ``case_id,reason`` of the cases without a soft label;
* ``model.json``: the final model (features, encoding, scaler, coefficients), the selection,
  the scores and the config; :func:`load_model` reads it back for predictions;
* ``config.json``: the resolved config;
* ``report.md`` with ``tlvr_scatter.png`` (Figure 3A) and ``coefficients.png`` (Figure 3B).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from smoothseg.clinical.api import ClinicalFit
from smoothseg.clinical.features import PAPER_COLUMNS, PAPER_TABLE_A1, leakage_flags
from smoothseg.clinical.figures import coefficient_figure, scatter_figure
from smoothseg.clinical.model import ClinicalModel, Scores
from smoothseg.errors import InputError, OutputExistsError
from smoothseg.io.atomic import atomic_output

SOFT_LABELS = "soft_labels.csv"
MISSING = "soft_labels_missing.csv"
MODEL = "model.json"
CONFIG = "config.json"
REPORT = "report.md"
SCATTER = "tlvr_scatter.png"
COEFFICIENTS = "coefficients.png"
OUTPUT_FILES = (SOFT_LABELS, MISSING, MODEL, CONFIG, REPORT, SCATTER, COEFFICIENTS)
SOFT_LABEL_COLUMNS = ("case_id", "tlvr", "tlvr_hat", "fold")
MODEL_FORMAT = "smoothseg-clinical-tlvr"
PAPER_R = 0.820


def _num(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.10g}"


def _csv(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def soft_labels_csv(fit: ClinicalFit) -> str:
    """``soft_labels.csv`` text, rows sorted by case id."""
    labels = sorted(fit.cross.labels, key=lambda lab: lab.case_id)
    rows = [(lab.case_id, _num(lab.tlvr), _num(lab.tlvr_hat), lab.fold) for lab in labels]
    return _csv(SOFT_LABEL_COLUMNS, rows)


def missing_csv(fit: ClinicalFit) -> str:
    """``soft_labels_missing.csv`` text."""
    return _csv(("case_id", "reason"), [(m.case_id, m.reason) for m in fit.missing])


def _scores(s: Scores | None) -> dict[str, Any] | None:
    return (
        None if s is None else {k: (v if math.isfinite(v) else None) for k, v in asdict(s).items()}
    )


def model_document(fit: ClinicalFit) -> dict[str, Any]:
    """The content of ``model.json``."""
    sel = fit.cross.final.selection
    return {
        "format": MODEL_FORMAT,
        "version": 1,
        "target": "TLVR = tumor voxels / (liver + tumor voxels); predictions clipped to [0, 1]",
        "split_part": fit.part,
        "config": fit.config.to_dict(),
        "candidates": list(fit.features.columns),
        "leakage_flags": {k: list(v) for k, v in fit.features.flags.items()},
        "selection": None
        if sel is None
        else {
            "ranking": [[f, c] for f, c in sel.ranking],
            "cv_pearson_r": [r if math.isfinite(r) else None for r in sel.cv_r],
            "n": sel.n,
            "chosen": list(sel.chosen),
        },
        "model": fit.cross.final.model.to_json(),
        "scores": {
            "out_of_fold": _scores(fit.cross.oof),
            "in_sample": _scores(fit.cross.in_sample),
            "test": _scores(fit.cross.test),
        },
        "comparison": [{"model": m.name, **(_scores(m.scores) or {})} for m in fit.comparison],
    }


def load_model(path: str | Path) -> ClinicalModel:
    """Read the model of a ``model.json`` (to predict TLVR for new table rows).

    Raises:
        InputError: not a readable clinical model file.

    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        if doc.get("format") != MODEL_FORMAT:
            raise InputError(p, f"not a smoothseg clinical model (format {doc.get('format')!r})")
        return ClinicalModel.from_json(doc["model"])
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(p, f"not a readable clinical model: {exc}") from exc


def _f(v: float | None, digits: int = 3) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def _p(v: float) -> str:
    return "–" if not math.isfinite(v) else ("<0.001" if v < 0.001 else f"{v:.3f}")


def _metrics(fit: ClinicalFit) -> list[str]:
    c = fit.cross
    out = [
        "| soft labels | n | Pearson r | MSE | MAE |",
        "|---|---:|---:|---:|---:|",
        f"| out-of-fold (cross-fitted) | {c.oof.n} | {_f(c.oof.r)} | {_f(c.oof.mse, 5)} | "
        f"{_f(c.oof.mae, 4)} |",
        f"| in-sample (final model on its own training cases) | {c.in_sample.n} | "
        f"{_f(c.in_sample.r)} | {_f(c.in_sample.mse, 5)} | {_f(c.in_sample.mae, 4)} |",
    ]
    if c.test is not None:
        out.append(
            f"| test (train-only model) | {c.test.n} | {_f(c.test.r)} | {_f(c.test.mse, 5)} | "
            f"{_f(c.test.mae, 4)} |"
        )
    out += [
        "",
        f"The out-of-fold row is what training uses: no case's soft label was fitted on its own "
        f"mask. The in-sample row shows the optimism an in-sample fit would report. The paper "
        f"reports r = {PAPER_R:.3f} for its linear model.",
    ]
    return out


def _comparison(fit: ClinicalFit) -> list[str]:
    if not fit.comparison:
        return ["Not run (`--no-compare`)."]
    c = fit.cross.oof
    out = [
        "| model | Pearson r | MSE | MAE |",
        "|---|---:|---:|---:|",
        f"| linear ({fit.config.model}, selected features, cross-fitted) | {_f(c.r)} | "
        f"{_f(c.mse, 5)} | {_f(c.mae, 4)} |",
    ]
    out += [
        f"| {m.name} | {_f(m.scores.r)} | {_f(m.scores.mse, 5)} | {_f(m.scores.mae, 4)} |"
        for m in fit.comparison
    ]
    out += [
        "",
        f"Same {fit.config.folds} patient-level folds for every model; trees: {fit.config.trees}.",
    ]
    return out


def _selection(fit: ClinicalFit) -> list[str]:
    sel = fit.cross.final.selection
    if sel is None:
        return ["No selection (`--no-select`): every candidate feature is used."]
    curve = ", ".join(f"{n}: {_f(r)}" for n, r in enumerate(sel.cv_r, start=1))
    out = [
        f"Features ranked by |standardized coefficient| in the linear model on all candidates; "
        f"n chosen by {fit.config.selection_folds}-fold CV Pearson r (ranking refitted in each "
        f"fold). Chosen n = **{sel.n}**.",
        "",
        f"CV Pearson r by n: {curve}",
        "",
        "| rank | chosen feature | contribution | flags | paper's Table A1 |",
        "|---:|---|---:|---|---|",
    ]
    contrib = dict(sel.ranking)
    for i in range(max(len(sel.chosen), len(PAPER_TABLE_A1))):
        ours = sel.chosen[i] if i < len(sel.chosen) else ""
        column = ours.split("=", 1)[0]
        flags = ", ".join(leakage_flags(column)) if ours else ""
        paper = PAPER_TABLE_A1[i][0] if i < len(PAPER_TABLE_A1) else ""
        value = _f(contrib[ours], 4) if ours else ""
        out.append(f"| {i + 1} | {ours} | {value} | {flags} | {paper} |")
    chosen_cols = {f.split("=", 1)[0] for f in sel.chosen}
    shared = [c for c in PAPER_COLUMNS if c in chosen_cols]
    out += ["", f"{len(shared)} of the paper's 15 are chosen here: {', '.join(shared) or 'none'}."]
    return out


def _coefficients(fit: ClinicalFit) -> list[str]:
    model = fit.cross.final.model
    out = [
        f"Final model ({fit.config.model}) on {model.n_train} training cases; intercept "
        f"{model.linear.intercept:.4f}"
        + (f"; R² = {model.linear.r_squared:.3f}" if model.linear.r_squared is not None else "")
        + ". Estimates are TLVR change per standard deviation of the feature."
        + (
            " **The design is rank-deficient** (collinear features or fewer cases than "
            "features): individual coefficients, CIs and p-values are not identifiable."
            if model.linear.rank_deficient
            else ""
        ),
        "",
        "| feature | estimate | 95% CI | p | per unit | encoding | flags |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    meaning = {c.name: c.meaning() for c in model.encoder.columns}
    for c in sorted(model.coefficients(), key=lambda c: -abs(c.estimate)):
        ci = f"[{_f(c.ci_low, 4)}, {_f(c.ci_high, 4)}]"
        out.append(
            f"| {c.feature} | {c.estimate:.4f} | {ci} | {_p(c.p_value)} | {c.per_unit:.4g} | "
            f"{meaning[c.column]} | {', '.join(leakage_flags(c.column))} |"
        )
    return out


def _leakage(fit: ClinicalFit) -> list[str]:
    flags = fit.features.flags
    if not flags:
        return ["No candidate column is flagged."]
    used = set(fit.cross.final.model.columns)
    out = [
        "Columns that restate the tumor extent the TLVR measures, or that are known only after "
        "TACE, make the soft label a copy of the mask (or of the future). Flagged candidates:",
        "",
    ]
    for column, f in flags.items():
        mark = " — **in the final model**" if column in used else ""
        out.append(f"- `{column}`: {', '.join(f)}{mark}")
    out += ["", "Use `--preset pre-treatment`, `--preset strict` or `--exclude` to drop them."]
    return out


def report_markdown(fit: ClinicalFit) -> str:
    """The text of ``report.md``."""
    n_train = sum(1 for lab in fit.cross.labels if lab.fold != "test")
    n_test = len(fit.cross.labels) - n_train
    lines = [
        "# Clinical TLVR model (knowledge distillation, SmoothSegNet §2.1)",
        "",
        f"- clinical table: `{fit.table.path}` ({fit.table.n_rows} patients)",
        f"- split part: {fit.part or 'none (every case is a training case)'}",
        f"- mode: `{fit.config.mode}`"
        + (
            " (OLS in-sample on Table A1's fixed features, raw AFP)"
            if fit.config.mode == "paper"
            else ""
        ),
        f"- soft labels: {n_train} training "
        f"({'in-sample' if fit.config.mode == 'paper' else 'out-of-fold'}) + {n_test} test; "
        f"{len(fit.missing)} case(s) without soft label",
        f"- candidates: preset `{fit.config.preset}`, {len(fit.features.columns)} columns; "
        f"model `{fit.config.model}`; seed {fit.config.seed}",
        "",
        "## Agreement of soft labels with the TLVR",
        "",
        *_metrics(fit),
        "",
        f"![R vs R̂]({SCATTER})",
        "",
        "## Model comparison (cross-validated)",
        "",
        *_comparison(fit),
        "",
        "## Feature selection (Appendix A)",
        "",
        *_selection(fit),
        "",
        "## Coefficients",
        "",
        *_coefficients(fit),
        "",
        f"![coefficients]({COEFFICIENTS})",
        "",
        "## Leakage guard",
        "",
        *_leakage(fit),
        "",
        "## Clinical table",
        "",
        *([f"- {p}" for p in fit.table.problems()] or ["No unknown column or value."]),
        *[f"- {n}" for n in fit.features.notes],
        *([f"- {len(fit.unused_rows)} clinical row(s) match no case"] if fit.unused_rows else []),
        "",
        "## Cases without soft label",
        "",
        *([f"- {m.case_id}: {m.reason}" for m in fit.missing] or ["None."]),
        "",
    ]
    return "\n".join(lines)


def write_outputs(
    fit: ClinicalFit, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write every output file into ``out_dir``; returns name → path.

    Raises:
        OutputExistsError: an output exists and ``overwrite`` is False (nothing is written).
        InputError: ``out_dir`` is a file.

    """
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(out, "is a file, expected an output folder")
    paths = {name: out / name for name in OUTPUT_FILES}
    if not overwrite:
        for p in paths.values():
            if p.exists():
                raise OutputExistsError(p)
    texts = {
        SOFT_LABELS: soft_labels_csv(fit),
        MISSING: missing_csv(fit),
        MODEL: json.dumps(model_document(fit), indent=2) + "\n",
        CONFIG: json.dumps(fit.config.to_dict(), indent=2) + "\n",
        REPORT: report_markdown(fit),
    }
    for name, text in texts.items():
        with atomic_output(paths[name], overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
    with atomic_output(paths[SCATTER], overwrite=overwrite) as tmp:
        scatter_figure(fit.cross.labels, fit.cross.oof, tmp)
    with atomic_output(paths[COEFFICIENTS], overwrite=overwrite) as tmp:
        coefficient_figure(fit.cross.final.model.coefficients(), tmp)
    return paths
