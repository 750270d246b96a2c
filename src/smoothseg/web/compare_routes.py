"""The HTTP API of compare mode (baseline vs follow-up; see :mod:`smoothseg.web.compare`).

* ``GET /compare`` — the compare page.
* ``PUT /api/compare/inputs/{role}?name=F`` — the request body is one time point's upload
  (``baseline``, ``followup``, ``arterial_baseline``, ``arterial_followup``); it waits in the
  session until the comparison starts. ``GET`` lists, ``DELETE`` drops the waiting uploads.
* ``POST /api/compare`` — start the comparison of the waiting uploads (a job like any other:
  ``GET /api/jobs/{id}`` for progress and results, ``/api/jobs/{id}/files/{name}`` for files).
* ``POST /api/compare/examples/phantom`` — compare the bundled phantom pair after TACE.

Uploads are saved under fixed names (``ROLE`` plus the accepted suffix) inside the session's
folder with the same size limit as single-scan uploads; no parameter becomes a path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from smoothseg.web.compare import ROLES, Staged, run_compare
from smoothseg.web.context import ApiError, WebContext, static_dir
from smoothseg.web.examples import phantom_followup_pair
from smoothseg.web.jobs import Job
from smoothseg.web.routes import OwnSession, UploadName, WorkSession, checked_upload
from smoothseg.web.safety import UploadTooLargeError, save_stream
from smoothseg.web.sessions import Session

router = APIRouter()
STAGING = "compare-inputs"
EXAMPLE_TITLE = "Phantom pair after TACE (lipiodol)"


def _ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def _role(role: str) -> str:
    if role not in ROLES:
        raise ApiError(404, f"no input {role!r}; choose one of {', '.join(ROLES)}")
    return role


def _listing(session: Session) -> dict[str, Any]:
    return {"inputs": {role: session.staged[role][0] for role in ROLES if role in session.staged}}


def _drop(session: Session, role: str) -> None:
    entry = session.staged.pop(role, None)
    if entry is not None:
        entry[1].unlink(missing_ok=True)


@router.get("/compare", include_in_schema=False)
def compare_page() -> FileResponse:
    """The compare page."""
    return FileResponse(static_dir() / "compare.html", media_type="text/html")


@router.put("/api/compare/inputs/{role}", status_code=201)
async def stage_input(
    role: str,
    request: Request,
    checked: Annotated[UploadName, Depends(checked_upload)],
    session: WorkSession,
) -> dict[str, Any]:
    """Save one time point's upload (size-limited) until the comparison starts."""
    _role(role)
    limit = _ctx(request).settings.max_upload_bytes
    folder = session.folder / STAGING
    folder.mkdir(exist_ok=True)
    _drop(session, role)
    target = folder / f"{role}{checked.stored.removeprefix('upload')}"
    try:
        size = await save_stream(request.stream(), target, limit)
    except UploadTooLargeError as exc:
        raise ApiError(413, f"{checked.label}: {exc}") from exc
    if size == 0:
        target.unlink(missing_ok=True)
        raise ApiError(400, f"{checked.label}: the file is empty")
    session.staged[role] = (checked.label, target)
    return _listing(session)


@router.get("/api/compare/inputs")
def list_inputs(session: OwnSession) -> dict[str, Any]:
    """The uploads waiting for a comparison."""
    return _listing(session)


@router.delete("/api/compare/inputs")
def drop_inputs(session: OwnSession) -> dict[str, Any]:
    """Forget the waiting uploads (and delete their files)."""
    for role in ROLES:
        _drop(session, role)
    return _listing(session)


@router.post("/api/compare", status_code=202)
def start_compare(request: Request, session: WorkSession) -> dict[str, Any]:
    """Compare the waiting uploads in the background (they move into the job's folder)."""
    staged = session.staged
    missing = [role for role in ("baseline", "followup") if role not in staged]
    if missing:
        raise ApiError(400, f"upload the {' and the '.join(missing)} first")
    if ("arterial_baseline" in staged) != ("arterial_followup" in staged):
        raise ApiError(400, "give both arterial phases (baseline and follow-up) or neither")
    ctx = _ctx(request)
    job = session.new_job(f"{staged['baseline'][0]} → {staged['followup'][0]}")
    moved: dict[str, Staged] = {}
    for role, (label, path) in list(staged.items()):
        target = job.folder / "uploads" / path.name
        target.parent.mkdir(exist_ok=True)
        path.replace(target)
        moved[role] = Staged(label, target)
    staged.clear()

    def work(job: Job) -> tuple[dict[str, Any], dict[str, Any]]:
        return run_compare(job, moved, ctx.models, ctx.settings)

    ctx.runner.submit(job, work)
    return job.to_json()


@router.post("/api/compare/examples/{example_id}", status_code=202)
def start_compare_example(
    example_id: str, request: Request, session: WorkSession
) -> dict[str, Any]:
    """Compare the bundled phantom pair (scans segmented with the app's model)."""
    if example_id != "phantom":
        raise ApiError(404, f"no compare example {example_id!r}; choose phantom")
    ctx = _ctx(request)
    job = session.new_job(EXAMPLE_TITLE)

    def work(job: Job) -> tuple[dict[str, Any], dict[str, Any]]:
        job.step(0.02, "preparing the example pair")
        files = phantom_followup_pair(job.folder / "uploads")
        staged = {role: Staged(path.name, path) for role, path in files.items()}
        return run_compare(job, staged, ctx.models, ctx.settings)

    ctx.runner.submit(job, work)
    return job.to_json()
