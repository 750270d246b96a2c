"""Run logs: every command that writes outputs records how it ran, next to those outputs.

Each run appends one JSON object (one line) to ``<folder>/smoothseg-<command>.log.jsonl``, so a
run folder keeps the history of the runs that wrote it (e.g. a training run and its resumes)::

    {"command": "train", "argv": [...], "arguments": {...}, "status": "ok" | "error" |
     "interrupted", "error": null | "one-line message", "started_utc": "...",
     "finished_utc": "...", "wall_s": 12.3, "cpu_s": 20.1, "max_rss_mb": 812.0,
     "timings_s": {...}, "warnings": ["..."], "notes": {...}, "versions": {...},
     "host": {...}}

``warnings`` holds every Python warning and every log record of level WARNING or above emitted
while the command ran (they are still shown as usual), plus what the command adds with
:meth:`RunLog.warn`. The file is rewritten atomically (temp file + rename).

The log is written when the command succeeds, and when it fails or is interrupted after the
output folder exists and holds something besides run logs; it is never written for a command
that refused to overwrite an existing output (``OutputExistsError``). Under ``torchrun`` only
rank 0 writes it.

:func:`logged_command` also checks, before the command runs, that its output folder can be
created and written, so a read-only or mistyped ``--out`` fails at once with one line.

Wiring a command (this module imports only the standard library, so ``smoothseg --help`` stays
instant)::

    from smoothseg.cli.runlog import logged_command

    @logged_command("experiment", out="out")       # out: name of the output-folder argument
    def experiment(..., out: Path = typer.Option(...)) -> None: ...

    @logged_command("split", out=lambda a: a["out"].parent if a["out"] else a["manifest"])
    def split(...): ...                              # or a function of the bound arguments

    # inside the command, optionally:
    log = current_run_log()
    if log is not None:
        log.note("cases", 12)
        with log.timed("inference"):
            ...

The decorator goes directly on the command function (``register`` then adds the decorated one);
typer still sees the original signature. From Python code that is not a typer command:
``with run_log(folder, "demo", args) as log: ...``. Commands without an output folder (``info``,
``serve``) need no run log.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TextIO, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
LOG_SUFFIX = ".log.jsonl"
#: Distributions whose versions every run log records (looked up without importing them).
PACKAGES = (
    "torch", "monai", "numpy", "scipy", "scikit-image", "nibabel", "SimpleITK", "pydicom",
    "highdicom", "pandas", "scikit-learn", "statsmodels", "typer",
)  # fmt: skip
_current: list[RunLog] = []


def log_path(folder: str | Path, command: str) -> Path:
    """Where ``command``'s run log lives in ``folder``."""
    return Path(folder) / f"smoothseg-{command.replace(' ', '-')}{LOG_SUFFIX}"


def versions() -> dict[str, str]:
    """smoothseg, Python and the key packages' versions (``absent`` when not installed)."""
    from smoothseg.version import package_versions

    return package_versions(*PACKAGES, python=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _WarningRecorder(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        except Exception:  # a bad log call must not break the command
            self.handleError(record)


class RunLog:
    """What one command run records (see the module docs); filled while the command runs."""

    def __init__(self, folder: Path | None, command: str, arguments: Mapping[str, Any]) -> None:
        self.folder = folder
        self.command = command
        self.record: dict[str, Any] = {
            "command": command,
            "argv": list(sys.argv),
            "cwd": os.getcwd(),
            "arguments": _jsonable(arguments),
            "status": "running",
            "error": None,
            "started_utc": _now(),
        }
        self.warnings: list[str] = []
        self.timings: dict[str, float] = {}
        self.notes: dict[str, Any] = {}

    def warn(self, message: str) -> None:
        """Record a warning the command showed the user in its own way."""
        self.warnings.append(message)

    def note(self, key: str, value: Any) -> None:
        """Record a result worth keeping (JSON-able, or its ``repr`` is kept)."""
        self.notes[key] = _jsonable(value)

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Add the block's wall time to ``timings_s[name]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    def document(self, wall_s: float, cpu_s: float) -> dict[str, Any]:
        """The JSON object written for this run."""
        try:
            import resource

            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        except (ImportError, OSError):
            rss_mb = None
        return {
            **self.record,
            "finished_utc": _now(),
            "wall_s": round(wall_s, 3),
            "cpu_s": round(cpu_s, 3),
            "max_rss_mb": rss_mb,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": self.warnings,
            "notes": self.notes,
            "versions": versions(),
            "host": {
                "platform": platform.platform(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "pid": os.getpid(),
            },
        }

    def write(self, document: Mapping[str, Any]) -> Path | None:
        """Append ``document`` to the log file atomically; ``None`` when there is no folder."""
        if self.folder is None or not self.folder.is_dir():
            return None
        from smoothseg.io.atomic import atomic_output

        path = log_path(self.folder, self.command)
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_text(old + json.dumps(document, default=repr) + "\n", encoding="utf-8")
        return path


def _holds_outputs(folder: Path | None) -> bool:
    if folder is None or not folder.is_dir():
        return False
    return any(not p.name.endswith(LOG_SUFFIX) for p in folder.iterdir())


@contextlib.contextmanager
def run_log(
    folder: str | Path | None, command: str, arguments: Mapping[str, Any]
) -> Iterator[RunLog]:
    """Record the block as one run of ``command`` writing into ``folder`` (see module docs).

    Args:
        folder: The output folder (``None``: record nothing to disk).
        command: Command name, e.g. ``train`` or ``clinical fit``.
        arguments: The command's arguments (paths become strings, other objects their repr).

    """
    from smoothseg.errors import OutputExistsError

    log = RunLog(None if folder is None else Path(folder).expanduser(), command, arguments)
    sink = log.warnings
    handler = _WarningRecorder(sink)
    root = logging.getLogger()
    root.addHandler(handler)
    shown = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        sink.append(f"{category.__name__}: {message} ({Path(filename).name}:{lineno})")
        shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    _current.append(log)
    wall, cpu = time.perf_counter(), time.process_time()
    status, error, write = "ok", None, True
    try:
        yield log
    except OutputExistsError:
        write = False
        raise
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt) or type(exc).__name__ in (
            "TrainingInterrupted",
        )
        status = "interrupted" if interrupted else "error"
        error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        code = getattr(exc, "exit_code", getattr(exc, "code", 1))
        exiting = isinstance(exc, SystemExit) or type(exc).__name__ == "Exit"  # typer.Exit
        if exiting and code in (0, None):
            status, error = "ok", None
        elif error == type(exc).__name__ and code is not None:
            error = f"{error} (exit code {code})"
        write = status == "ok" or _holds_outputs(log.folder)
        raise
    finally:
        _current.remove(log)
        warnings.showwarning = shown
        root.removeHandler(handler)
        if write and os.environ.get("RANK", "0") not in ("", "0"):
            write = False  # torchrun: rank 0 alone writes the run log
        if write:
            log.record.update(status=status, error=error)
            doc = log.document(time.perf_counter() - wall, time.process_time() - cpu)
            try:
                log.write(doc)
            except Exception as exc:  # never hide the command's own outcome behind the log's
                print(f"warning: could not write the run log: {exc}", file=sys.stderr)


def current_run_log() -> RunLog | None:
    """The run log of the command running now (``None`` outside :func:`run_log`)."""
    return _current[-1] if _current else None


def logged_command(
    command: str, *, out: str | Callable[[dict[str, Any]], Path | None]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a typer command so each run writes a run log into its output folder.

    Before the command runs, the output folder is checked to be creatable and writable
    (:func:`smoothseg.io.atomic.check_writable`), so a bad ``--out`` fails at once.

    Args:
        command: Name in the log file (``smoothseg-<command>.log.jsonl``).
        out: Name of the argument holding the output folder, or a function from the bound
            arguments to the folder.

    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            folder = arguments.get(out) if isinstance(out, str) else out(arguments)
            with run_log(folder, command, arguments):
                if folder is not None:
                    from smoothseg.io.atomic import check_writable

                    check_writable(folder)  # fail before any work, not after hours of it
                return func(*args, **kwargs)

        return wrapper

    return decorate
