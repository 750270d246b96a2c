"""The HTTP API of the web app (JSON in, JSON out; errors as ``{"error": ...}``).

* ``GET /`` — the page; ``GET /api/info`` — examples, upload limit, model disclaimer.
* ``POST /api/examples/{id}`` — segment a bundled example; ``POST /api/upload?name=F`` — the
  request body is the scan file (NIfTI, NRRD, MHA, DICOM file, or a zip of a DICOM series).
* ``GET /api/jobs/{id}`` — progress and results; ``GET /api/jobs/{id}/files/{name}`` —
  downloads and viewer volumes; ``DELETE /api/session`` — forget this browser's data now.

Jobs are only found through the session cookie, and files only by the names a job recorded,
checked to lie inside the session's folder: no parameter becomes a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from smoothseg.errors import SmoothsegError
from smoothseg.web.context import ApiError, WebContext, static_dir
from smoothseg.web.jobs import Job
from smoothseg.web.pipeline import DOWNLOADS, segment
from smoothseg.web.safety import (
    UPLOAD_SUFFIXES,
    UploadTooLargeError,
    contained,
    remove_tree,
    save_stream,
    size_text,
    upload_name,
)
from smoothseg.web.sessions import COOKIE, Session

router = APIRouter()
_MEDIA = {".gz": "application/gzip", ".dcm": "application/dicom", ".json": "application/json"}


def _ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def current_session(request: Request) -> Session:
    """The caller's session; 404 when the cookie names none (expired or never made)."""
    session = _ctx(request).store.get(request.cookies.get(COOKIE))
    if session is None:
        raise ApiError(404, "this page's session has expired; reload the page")
    return session


def session_for_work(request: Request, response: Response) -> Session:
    """The caller's session, created (and the cookie set) when there is none."""
    store = _ctx(request).store
    session = store.get(request.cookies.get(COOKIE))
    if session is None:
        session = store.create()
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict")
    if session.busy:
        raise ApiError(409, "a segmentation is already running here; wait for it to finish")
    return session


#: The caller's session, created on first use (work-starting routes).
WorkSession = Annotated[Session, Depends(session_for_work)]
#: The caller's existing session (404 without one).
OwnSession = Annotated[Session, Depends(current_session)]


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The page."""
    return FileResponse(static_dir() / "index.html", media_type="text/html")


@router.get("/api/info")
def info(request: Request) -> dict[str, Any]:
    """What the page needs before any work: examples, limits, the model's disclaimer."""
    ctx = _ctx(request)
    ctx.store.expire()
    predictor = ctx.models.get()
    return {
        "examples": [e.to_json() for e in ctx.examples.values()],
        "max_upload_mb": ctx.settings.max_upload_mb,
        "accepted": list(UPLOAD_SUFFIXES),
        "disclaimer": predictor.provenance.get("disclaimer"),
        "model": predictor.model_info["id"],
    }


@router.post("/api/examples/{example_id}", status_code=202)
def start_example(example_id: str, request: Request, session: WorkSession) -> dict[str, Any]:
    """Segment a bundled example in the background."""
    ctx = _ctx(request)
    example = ctx.examples.get(example_id)
    if example is None:
        raise ApiError(404, f"no example {example_id!r}; choose one of {', '.join(ctx.examples)}")
    job = session.new_job(example.title)

    def work(job: Job) -> tuple[dict[str, Any], dict[str, Any]]:
        job.step(0.03, "preparing the example")
        scan = example.prepare(job.folder)
        return segment(job, scan, example.title, ctx.models, ctx.settings)

    ctx.runner.submit(job, work)
    return job.to_json()


@dataclass(frozen=True)
class UploadName:
    """An upload's name as the user knows it (``label``) and as it is stored (``stored``)."""

    label: str
    stored: str


def checked_upload(request: Request, name: str = "") -> UploadName:
    """Refuse an unsupported file type or a declared size over the limit (before any work)."""
    label = name.replace("\\", "/").rsplit("/", 1)[-1] or "upload"
    try:
        stored = upload_name(name)
    except SmoothsegError as exc:
        raise ApiError(400, str(exc)) from exc
    limit = _ctx(request).settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"{label}: the file is larger than the limit of {size_text(limit)}")
    return UploadName(label, stored)


@router.post("/api/upload", status_code=202)
async def upload(
    request: Request,
    checked: Annotated[UploadName, Depends(checked_upload)],
    session: WorkSession,
) -> dict[str, Any]:
    """Save the request body as the scan (size-limited), then segment it in the background."""
    ctx = _ctx(request)
    label = checked.label
    job = session.new_job(label)
    target = job.folder / checked.stored
    problem: ApiError | None = None
    try:
        if await save_stream(request.stream(), target, ctx.settings.max_upload_bytes) == 0:
            problem = ApiError(400, f"{label}: the file is empty")
    except UploadTooLargeError as exc:
        problem = ApiError(413, f"{label}: {exc}")
    if problem is not None:
        session.jobs.pop(job.id, None)
        remove_tree(job.folder)
        raise problem
    ctx.runner.submit(job, lambda job: segment(job, target, label, ctx.models, ctx.settings))
    return job.to_json()


@router.get("/api/jobs/{job_id}")
def job_status(job_id: str, session: OwnSession) -> dict[str, Any]:
    """Progress, and the results once done."""
    return _job(session, job_id).to_json()


@router.get("/api/jobs/{job_id}/files/{name}")
def job_file(job_id: str, name: str, session: OwnSession) -> FileResponse:
    """A download or viewer volume of a finished job (only names the job recorded)."""
    job = _job(session, job_id)
    path = job.files.get(name)
    if path is None:
        raise ApiError(404, f"no file {name!r} for this job")
    try:
        resolved = contained(session.folder, path)
    except SmoothsegError as exc:
        raise ApiError(404, f"no file {name!r} for this job") from exc
    media = _MEDIA.get(resolved.suffix, "image/png" if resolved.suffix == ".png" else None)
    return FileResponse(
        resolved,
        media_type=media or "application/octet-stream",
        filename=name if name in DOWNLOADS else None,
    )


@router.delete("/api/session")
def end_session(request: Request) -> JSONResponse:
    """Delete this browser's session and files now."""
    token = request.cookies.get(COOKIE)
    if token:
        _ctx(request).store.discard(token)
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE)
    return response


def _job(session: Session, job_id: str) -> Job:
    job = session.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "no such job in this session")
    return job
