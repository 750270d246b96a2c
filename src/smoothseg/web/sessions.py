"""Per-browser sessions: each has its own temporary folder and its own jobs.

A session is identified by a random cookie; its jobs are looked up only through it, so one
browser cannot see another's data even with a job id. Idle sessions are deleted with their
files, and the whole work folder goes when the app stops.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from smoothseg.web.jobs import Job
from smoothseg.web.safety import remove_tree

COOKIE = "smoothseg_session"


@dataclass
class Session:
    """One browser's state.

    Attributes:
        token: The cookie value (random, 32 bytes).
        folder: The session's own folder; all its files live inside.
        jobs: Job id → job.
        last_used: Unix time of the last request.
        staged: Compare mode's uploads waiting for their job: role → (name, file).

    """

    token: str
    folder: Path
    jobs: dict[str, Job] = field(default_factory=dict)
    last_used: float = field(default_factory=time.time)
    staged: dict[str, tuple[str, Path]] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        """Whether a job of this session is queued or running."""
        return any(job.active for job in self.jobs.values())

    def new_job(self, title: str) -> Job:
        """Create a job (and its folder) in this session."""
        job = Job.create(self.folder, title)
        self.jobs[job.id] = job
        return job


class SessionStore:
    """All sessions of the app, under one temporary work folder."""

    def __init__(self, *, idle_s: float, max_sessions: int, work_dir: Path | None = None) -> None:
        """Create the work folder (``smoothseg-web-*`` in ``work_dir`` or the temp folder)."""
        self.root = Path(tempfile.mkdtemp(prefix="smoothseg-web-", dir=work_dir))
        self.idle_s = idle_s
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, token: str | None) -> Session | None:
        """The live session with cookie ``token`` (refreshing its idle timer), if any."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is not None:
                session.last_used = time.time()
            return session

    def create(self) -> Session:
        """A new session with its own folder (expired/idlest ones are dropped first)."""
        self.expire()
        token = secrets.token_urlsafe(32)
        folder = Path(tempfile.mkdtemp(prefix="session-", dir=self.root))
        session = Session(token=token, folder=folder)
        with self._lock:
            self._sessions[token] = session
            over = len(self._sessions) - self.max_sessions
            idle = sorted(
                (s for s in self._sessions.values() if not s.busy and s is not session),
                key=lambda s: s.last_used,
            )
            dropped = idle[: max(0, over)]
            for old in dropped:
                del self._sessions[old.token]
        for old in dropped:
            remove_tree(old.folder)
        return session

    def expire(self, now: float | None = None) -> int:
        """Delete sessions idle for longer than ``idle_s`` (not while a job runs)."""
        limit = (time.time() if now is None else now) - self.idle_s
        with self._lock:
            old = [s for s in self._sessions.values() if s.last_used < limit and not s.busy]
            for session in old:
                del self._sessions[session.token]
        for session in old:
            remove_tree(session.folder)
        return len(old)

    def discard(self, token: str) -> None:
        """Delete one session and its files now."""
        with self._lock:
            session = self._sessions.pop(token, None)
        if session is not None:
            remove_tree(session.folder)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def close(self) -> None:
        """Delete every session and the work folder."""
        with self._lock:
            self._sessions.clear()
        remove_tree(self.root)
