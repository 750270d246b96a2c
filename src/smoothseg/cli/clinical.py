"""``smoothseg clinical``: TLVR soft labels from the clinical table (knowledge distillation)."""

from __future__ import annotations

from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command
from smoothseg.errors import InputError

clinical_app = typer.Typer(
    help="Clinical knowledge distillation: TLVR soft labels from the clinical table.",
    no_args_is_help=True,
)

_TABLE_HELP = "Clinical table: .xlsx (sheet 'data table') or .csv with a TCIA_ID column."


@logged_command("clinical-fit", out="out")
def fit(
    table: Path = typer.Option(..., "--table", help=_TABLE_HELP, readable=False),
    manifest: Path = typer.Option(
        ...,
        "--manifest",
        help="Prepared cache manifest, or a CSV with case_id and tlvr.",
        readable=False,
    ),
    out: Path = typer.Option(..., "--out", help="Output folder.", readable=False),
    split: Path | None = typer.Option(
        None, "--split", help="splits.json of `smoothseg split`.", readable=False
    ),
    replication: int | None = typer.Option(
        None, "--replication", help="Split part replication_N (1-based)."
    ),
    fold: int | None = typer.Option(None, "--fold", help="Split part fold_N (1-based)."),
    preset: str = typer.Option(
        "paper", "--preset", help="Candidates: paper, pre-treatment, strict, all, none."
    ),
    include: list[str] = typer.Option([], "--include", help="Add a column (repeatable)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Remove a column (repeatable)."),
    model: str = typer.Option("ols", "--model", help="ols, ridge or elasticnet."),
    alpha: float = typer.Option(1.0, "--alpha", help="Penalty of ridge / elastic net."),
    l1_ratio: float = typer.Option(0.5, "--l1-ratio", help="Elastic-net L1 share."),
    select: bool = typer.Option(
        True, "--select/--no-select", help="Top-n features by 5-fold CV (Appendix A).", metavar=""
    ),
    max_features: int | None = typer.Option(None, "--max-features", help="Largest n tried."),
    folds: int = typer.Option(5, "--folds", help="Cross-fitting folds."),
    seed: int = typer.Option(0, "--seed", help="Seed of the folds and tree models."),
    compare: bool = typer.Option(
        True,
        "--compare/--no-compare",
        help="Linear vs random forest vs gradient boosting.",
        metavar="",
    ),
    trees: int = typer.Option(300, "--trees", help="Trees of the comparison models."),
    mode: str = typer.Option(
        "cross-fit",
        "--mode",
        help="cross-fit (out-of-fold) or paper (OLS in-sample on Table A1's 15 features).",
    ),
    sheet: str = typer.Option("data table", "--sheet", help="Worksheet of an .xlsx table."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing outputs.", metavar=""
    ),
) -> None:
    """Fit the clinical TLVR model and write out-of-fold soft labels and a report."""
    from rich.console import Console
    from rich.table import Table

    from smoothseg.clinical.api import ClinicalConfig, fit_clinical
    from smoothseg.clinical.inputs import load_cases, split_part
    from smoothseg.clinical.report import OUTPUT_FILES, write_outputs
    from smoothseg.clinical.table import read_clinical_table

    if split is None and (replication is not None or fold is not None):
        raise InputError("--split", "--replication / --fold need --split")
    for name in OUTPUT_FILES:  # fail before the (slow) fit
        if not overwrite and (out / name).exists():
            from smoothseg.errors import OutputExistsError

            raise OutputExistsError(out / name)
    config = ClinicalConfig(
        preset=preset,
        include=tuple(include),
        exclude=tuple(exclude),
        model=model,  # type: ignore[arg-type]  # validated by ClinicalConfig
        alpha=alpha,
        l1_ratio=l1_ratio,
        select=select,
        max_features=max_features,
        folds=folds,
        seed=seed,
        mode=mode,
        compare=compare,
        trees=trees,
    )
    cases = load_cases(manifest)
    part, train_ids, test_ids = ("", None, set[str]())
    if split is not None:
        part, train, test_ids = split_part(split, replication, fold)
        train_ids = train
    clinical = read_clinical_table(table, sheet=sheet)
    result = fit_clinical(
        clinical, cases, config, train_ids=train_ids, test_ids=test_ids, part=part
    )
    paths = write_outputs(result, out, overwrite=overwrite)
    console = Console()
    summary = Table("soft labels", "n", "Pearson r", "MSE", "MAE", title=f"→ {out}")
    for label, s in (
        ("out-of-fold", result.cross.oof),
        ("in-sample", result.cross.in_sample),
        ("test", result.cross.test),
    ):
        if s is not None:
            summary.add_row(label, str(s.n), f"{s.r:.3f}", f"{s.mse:.5f}", f"{s.mae:.4f}")
    console.print(summary)
    selection = result.cross.final.selection
    if selection is None:
        console.print(f"features: {', '.join(result.cross.final.model.features)}")
    else:
        from smoothseg.clinical.features import PAPER_TABLE_A1

        chosen = Table("rank", "chosen feature", "paper's Table A1", title=f"n = {selection.n}")
        for i in range(max(len(selection.chosen), len(PAPER_TABLE_A1))):
            ours = selection.chosen[i] if i < len(selection.chosen) else ""
            paper = PAPER_TABLE_A1[i][0] if i < len(PAPER_TABLE_A1) else ""
            chosen.add_row(str(i + 1), ours, paper)
        console.print(chosen)
    if result.missing:
        console.print(
            f"{len(result.missing)} case(s) without soft label: {paths['soft_labels_missing.csv']}"
        )
    flagged = [c for c in result.cross.final.model.columns if c in result.features.flags]
    if flagged:
        typer.echo(
            f"warning: flagged column(s) in the model: {', '.join(flagged)} (see report.md, "
            "Leakage guard)",
            err=True,
        )
    for problem in result.table.problems():
        typer.echo(f"warning: {problem}", err=True)


def inspect(
    table: Path = typer.Option(..., "--table", help=_TABLE_HELP, readable=False),
    sheet: str = typer.Option("data table", "--sheet", help="Worksheet of an .xlsx table."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the table report as JSON.", metavar=""
    ),
) -> None:
    """Type every column of a clinical table and list unknown values and missingness."""
    import json
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from smoothseg.clinical.table import read_clinical_table

    report = read_clinical_table(table, sheet=sheet).report
    if as_json:
        typer.echo(json.dumps(asdict(report), indent=2))
        return
    view = Table(
        "column",
        "kind",
        "missing",
        "unknown values",
        "recoded",
        "flags",
        title=f"{report.path}: {report.n_rows} patients, {len(report.columns) + 1} columns",
    )
    for c in report.columns:
        view.add_row(
            c.name + ("" if c.known else " (not in schema)"),
            c.kind,
            f"{c.n_missing}/{report.n_rows}",
            ", ".join(f"{v!r} x{n}" for v, n in c.unknown_values),
            ", ".join(f"{v!r}→{code!r} x{n}" for v, code, n in c.recoded),
            ", ".join(c.flags),
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    console.print(view)
    for problem in report.problems():
        console.print(f"- {problem}")


def register(app: typer.Typer) -> None:
    """Add the ``clinical`` command group to ``app``."""
    clinical_app.command("fit")(fit)
    clinical_app.command("inspect")(inspect)
    app.add_typer(clinical_app, name="clinical")
