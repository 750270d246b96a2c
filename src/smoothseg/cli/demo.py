"""``smoothseg demo``: the README's main job, an experiment config on the cohort it describes.

The config is cpu-small unless ``--config`` names another (``paper-device`` on a GPU).

It writes ``report.md`` with Tables 2-5 and figures, all computed on this machine.
"""

from __future__ import annotations

from pathlib import Path

import typer

from smoothseg.cli.runlog import logged_command


@logged_command("demo", out="out")
def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Output folder.", readable=False),
    config: str = typer.Option(
        "cpu-small", "--config", help="Experiment config (shipped name or YAML file)."
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Start over (default: resume an earlier demo in OUT).",
        metavar="",
    ),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show training progress bars.", metavar=""
    ),
    jobs: int = typer.Option(
        1,
        "--jobs",
        min=1,
        help="Models trained at once, each in its own process with cores/JOBS threads "
        "(2 on 2 CPU cores: small models train faster side by side; no progress bars then).",
    ),
) -> None:
    """Generate a phantom cohort, run the CPU-scale experiment, print the report's path."""
    import time

    from rich.console import Console

    from smoothseg.experiment import load_experiment_config
    from smoothseg.experiment.demo import run_demo

    console = Console()
    start = time.perf_counter()

    def say(line: str) -> None:
        console.print(
            f"[dim]{time.perf_counter() - start:6.0f}s[/] [bold cyan]▶[/] {line}", highlight=False
        )

    result = run_demo(
        load_experiment_config(config),
        out=out,
        overwrite=overwrite,
        progress=progress,
        say=say,
        workers=jobs,
    )
    say(f"done: {len(result.log.ran)} step(s) run, {len(result.log.skipped)} skipped")
    console.print(f"Report: [bold]{result.report}[/]", highlight=False)
    typer.echo(str(result.report))


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("demo")(demo)
