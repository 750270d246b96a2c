"""The ``smoothseg`` command line: a thin typer layer over the Python API.

Each command lives in its own module and imports heavy libraries inside the command function,
so ``smoothseg --help`` stays instant. Errors a user can fix are printed as one line (no
traceback unless ``--debug``) with a non-zero exit code.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from smoothseg.cli.state import STATE
from smoothseg.errors import SmoothsegError
from smoothseg.version import __version__


class _Command(TyperCommand):
    """A command whose ``--help`` row shows no ``<bool>`` type (it is a flag)."""

    def get_help_option(self, ctx: Any) -> Any:
        """Click's help option, without a type in the help table."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


class _Group(TyperGroup):
    """The ``smoothseg`` group, with the same ``--help`` row as its commands."""

    def get_help_option(self, ctx: Any) -> Any:
        """Click's help option, without a type in the help table."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


app = typer.Typer(
    cls=_Group,
    name="smoothseg",
    help="Liver and liver-tumor segmentation in 3D CT (SmoothSegNet).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"smoothseg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
        metavar="",
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show full tracebacks on errors.", metavar=""
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log progress details.", metavar=""
    ),
) -> None:
    """Liver and liver-tumor segmentation in 3D CT (SmoothSegNet)."""
    del version
    STATE.debug = STATE.debug or debug
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _register() -> None:
    from smoothseg.cli import info

    info.register(app)
    from smoothseg.cli import prepare

    prepare.register(app)
    from smoothseg.cli import split

    split.register(app)
    from smoothseg.cli import clinical

    clinical.register(app)
    from smoothseg.cli import evaluate

    evaluate.register(app)
    from smoothseg.cli import phantom

    phantom.register(app)
    from smoothseg.cli import train

    train.register(app)
    from smoothseg.cli import predict

    predict.register(app)
    from smoothseg.cli import compare

    compare.register(app)
    from smoothseg.cli import serve

    serve.register(app)
    from smoothseg.cli import experiment

    experiment.register(app)
    from smoothseg.cli import demo

    demo.register(app)
    from smoothseg.cli import synthesize

    synthesize.register(app)
    from smoothseg.cli import stress_test

    stress_test.register(app)


_register()
for _group in app.registered_groups:  # sub-command groups (e.g. ``clinical``)
    _group.cls = _Group
for _typer in (app, *(group.typer_instance for group in app.registered_groups)):
    for _info in _typer.registered_commands if _typer is not None else ():
        if _info.cls in (None, TyperCommand):
            _info.cls = _Command


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    STATE.argv = tuple(args)
    try:
        # Standalone mode: typer handles --help, usage errors and exit codes, and exits.
        app(args=args, prog_name="smoothseg")
    except SmoothsegError as exc:
        if STATE.debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if STATE.debug:
            raise
        typer.echo(
            f"error: internal error ({type(exc).__name__}: {exc}); rerun with --debug for the "
            "traceback and please report it",
            err=True,
        )
        sys.exit(1)
