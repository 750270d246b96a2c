"""What the routes share: :class:`WebContext`, :class:`ApiError` and the static folder."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from smoothseg.web.examples import Example
from smoothseg.web.jobs import JobRunner
from smoothseg.web.pipeline import ModelHolder
from smoothseg.web.sessions import SessionStore
from smoothseg.web.settings import WebSettings


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        """Remember status and message."""
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class WebContext:
    """Everything the routes share: settings, sessions, jobs, models, examples."""

    settings: WebSettings
    store: SessionStore
    runner: JobRunner
    models: ModelHolder
    examples: dict[str, Example]


def static_dir() -> Path:
    """The page's files (HTML, JavaScript, CSS, the vendored NiiVue)."""
    return Path(str(resources.files("smoothseg.web") / "static"))
