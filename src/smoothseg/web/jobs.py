"""Background segmentation jobs with progress, run one at a time on a worker thread.

A :class:`Job` is created by a request, queued on the :class:`JobRunner` and polled by the page
(``GET /api/jobs/{id}``). One worker thread runs jobs in order: the models are shared, and two
segmentations at once would only compete for the same CPU cores.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from smoothseg.errors import SmoothsegError
from smoothseg.web.safety import remove_tree

JobState = Literal["queued", "running", "done", "failed"]
log = logging.getLogger(__name__)


@dataclass
class Job:
    """One segmentation: its folder, progress, and (when done) result or error.

    Attributes:
        id: Random identifier (unguessable; jobs are only found through their session).
        folder: The job's own folder inside the session folder.
        title: What is segmented (shown in the page).
        state: ``queued``, ``running``, ``done`` or ``failed``.
        progress: Fraction done in [0, 1].
        message: The current step, in words.
        error: Why it failed, in plain words.
        result: Summary for the page (see :func:`smoothseg.web.pipeline.summary`).
        files: Download/viewer name → file inside ``folder``.

    """

    id: str
    folder: Path
    title: str
    state: JobState = "queued"
    progress: float = 0.0
    message: str = "waiting for the segmentation queue"
    error: str | None = None
    result: dict[str, Any] | None = None
    files: dict[str, Path] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, parent: Path, title: str) -> Job:
        """A new job with its own folder under ``parent``."""
        job_id = secrets.token_hex(8)
        folder = parent / f"job-{job_id}"
        folder.mkdir(parents=True)
        return cls(id=job_id, folder=folder, title=title)

    def step(self, progress: float, message: str) -> None:
        """Report progress (called from the worker thread)."""
        with self._lock:
            self.state = "running"
            self.progress = max(self.progress, min(1.0, progress))
            self.message = message

    def finish(self, result: dict[str, Any], files: dict[str, Path]) -> None:
        """Mark the job done."""
        with self._lock:
            self.result, self.files = result, files
            self.state, self.progress, self.message = "done", 1.0, "done"

    def fail(self, error: str) -> None:
        """Mark the job failed with a message for the page."""
        with self._lock:
            self.state, self.error, self.message = "failed", error, "failed"

    @property
    def active(self) -> bool:
        """Whether the job is queued or running."""
        return self.state in ("queued", "running")

    def to_json(self) -> dict[str, Any]:
        """The job as the page sees it (no server paths)."""
        with self._lock:
            return {
                "id": self.id,
                "title": self.title,
                "state": self.state,
                "progress": round(self.progress, 3),
                "message": self.message,
                "elapsed_s": round(time.time() - self.started, 1),
                "error": self.error,
                "result": self.result,
            }


Work = Callable[[Job], tuple[dict[str, Any], dict[str, Path]]]


def plain_error(exc: BaseException) -> str:
    """An exception as one sentence for the page (internal errors say so).

    An internal error's own text may quote server paths (``FileExistsError: '/tmp/...'``): the
    page gets only its type; the server log has the rest.
    """
    if isinstance(exc, SmoothsegError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "the scan is too large for this computer's memory"
    return f"internal error ({type(exc).__name__}); please report it with the server log"


class JobRunner:
    """Runs :data:`Work` for jobs on one worker thread, recording outcome on the job."""

    def __init__(self) -> None:
        """Start the worker pool (threads start lazily)."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smoothseg-job")

    def submit(self, job: Job, work: Work) -> Future[None]:
        """Queue ``work`` for ``job``."""
        return self._pool.submit(self._run, job, work)

    @staticmethod
    def _run(job: Job, work: Work) -> None:
        job.step(0.01, "starting")
        try:
            result, files = work(job)
        except Exception as exc:
            if not isinstance(exc, SmoothsegError):
                log.error("job %s failed:\n%s", job.id, traceback.format_exc())
            remove_tree(job.folder)  # a failed job's upload and unpacked files go at once
            job.fail(plain_error(exc))
        else:
            job.finish(result, files)

    def shutdown(self) -> None:
        """Stop taking jobs; queued ones are dropped."""
        self._pool.shutdown(wait=False, cancel_futures=True)
