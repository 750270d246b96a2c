"""``smoothseg demo``: the README's main job, the cpu-small experiment on a phantom cohort.

It writes ``report.md`` with Tables 2-5 and figures, all computed on this machine.
"""

from __future__ import annotations

from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command


@logged_command("demo", out="out")
def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Output folder."),
    config: str = typer.Option(
        "cpu-small", "--config", help="Experiment config (shipped name or YAML file)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Start over (default: resume an earlier demo in OUT)."
    ),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show training progress bars."
    ),
) -> None:
    """Generate a phantom cohort, run the CPU-scale experiment, print the report's path."""
    import time

    from rich.console import Console

    from smoothseg.errors import InputError
    from smoothseg.experiment import load_experiment_config, run_experiment
    from smoothseg.phantom import PhantomConfig, generate_cohort

    console = Console()
    start = time.perf_counter()
    cfg = load_experiment_config(config)
    p = cfg.phantom
    cohort = out / "phantom"

    def say(line: str) -> None:
        console.print(
            f"[dim]{time.perf_counter() - start:6.0f}s[/] [bold cyan]▶[/] {line}", highlight=False
        )

    same = _same_cohort(cohort, p.cases, p.seed, p.shape, p.spacing_mm)
    if cohort.exists() and not same and not overwrite:
        raise InputError(cohort, "holds another cohort than this config's; pass --overwrite")
    if overwrite or not same:
        say(
            f"phantom cohort: {p.cases} cases, seed {p.seed}, {p.shape} voxels of {p.spacing_mm} mm"
        )
        phantom = PhantomConfig.preset(p.size, shape=p.shape, spacing_mm=p.spacing_mm)
        generate_cohort(cohort, p.cases, seed=p.seed, config=phantom, overwrite=True)
    else:
        say(f"phantom cohort in {cohort} exists, reused")
    result = run_experiment(
        cfg,
        data=cohort,
        out=out / "experiment",
        overwrite=overwrite,
        resume=True,
        progress=progress,
        say=say,
    )
    say(f"done: {len(result.log.ran)} step(s) run, {len(result.log.skipped)} skipped")
    console.print(f"Report: [bold]{result.report}[/]", highlight=False)
    typer.echo(str(result.report))


def _same_cohort(
    cohort: Path,
    cases: int,
    seed: int,
    shape: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
) -> bool:
    """Whether ``cohort`` is the phantom cohort these settings generate (then it is reused)."""
    import json

    try:
        saved = json.loads((cohort / "phantom_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        saved.get("n_cases") == cases
        and saved.get("seed") == seed
        and tuple(saved.get("shape", ())) == tuple(shape)
        and tuple(float(s) for s in saved.get("spacing_mm", ())) == tuple(spacing_mm)
    )


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("demo")(demo)
