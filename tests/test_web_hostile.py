"""Hostile uploads and requests to the web app (issue 18, docs/reliability.md).

Detached data files pointing outside the upload (always refused, whatever the command-line
opt-out says), decompression bombs, a failed job's files deleted at once, zips whose names
clash, internal errors without server paths, the Origin's scheme, and the same words as the
command line for a label map or NaN voxels. No job here reaches the model, so none is loaded.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
pytest.importorskip("httpx2", reason="httpx2 (for FastAPI's TestClient) is not installed")

from fastapi import FastAPI
from fastapi.testclient import TestClient

from smoothseg.io import Volume, write_volume
from smoothseg.io.limits import ENV_ALLOW_OUTSIDE
from smoothseg.io.modality import LABEL_MAP_PROBLEM
from smoothseg.web import WebSettings, create_app
from smoothseg.web.jobs import plain_error

BASE = "http://127.0.0.1"
SECRET = b"\x18\xfc" * 32  # 64 bytes: a 4x4x4 int16 volume of -1000


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = WebSettings(work_dir=tmp_path_factory.mktemp("web"), max_scan_mb=1.0)
    application = create_app(settings)  # the model is loaded on first use: never, here
    yield application
    application.state.ctx.runner.shutdown()
    application.state.ctx.store.close()


@pytest.fixture()
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret" / "data.raw"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=BASE)


def run_upload(app: FastAPI, name: str, data: bytes) -> tuple[TestClient, dict[str, Any]]:
    c = client(app)
    answer = c.post("/api/upload", params={"name": name}, content=data)
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/jobs/{answer.json()['id']}").json()
        if job["state"] in ("done", "failed"):
            return c, job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def failed(app: FastAPI, name: str, data: bytes) -> str:
    c, job = run_upload(app, name, data)
    assert job["state"] == "failed", job
    error: str = job["error"]
    assert str(app.state.ctx.store.root) not in error, error  # never the server's folders
    assert c.get(f"/api/jobs/{job['id']}/files/ct.nii.gz").status_code == 404
    job_folders = list(app.state.ctx.store.root.glob(f"session-*/job-{job['id']}"))
    assert job_folders == [], "a failed job's files must be deleted at once"
    return error


def nrrd_header(data_file: str) -> bytes:
    return (
        "NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\nsizes: 4 4 4\n"
        "space directions: (1,0,0) (0,1,0) (0,0,1)\nencoding: raw\nendian: little\n"
        f"data file: {data_file}\n\n"
    ).encode()


def test_uploaded_nrrd_naming_a_server_file_is_refused_even_with_the_cli_opt_out(
    app: FastAPI, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ALLOW_OUTSIDE, "1")  # a command-line setting: never the web app's
    error = failed(app, "scan.nrrd", nrrd_header(str(secret)))
    assert error.startswith("scan.nrrd: header names a data file outside its own folder"), error


def test_uploaded_mha_naming_a_server_file_is_refused(app: FastAPI, secret: Path) -> None:
    header = (
        "ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementType = MET_SHORT\n"
        f"ElementSpacing = 1 1 1\nElementDataFile = {secret}\n"
    )
    error = failed(app, "scan.mha", header.encode())
    assert "data file outside its own folder" in error, error


def test_zipped_nhdr_naming_a_server_file_is_refused(app: FastAPI, secret: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("scan/ct.nhdr", nrrd_header(str(secret)))
    error = failed(app, "study.zip", buffer.getvalue())
    assert error.startswith("study.zip/scan/ct.nhdr: header names a data file outside"), error


def test_gzip_bomb_upload_is_refused_before_inflating(app: FastAPI, tmp_path: Path) -> None:
    path = tmp_path / "bomb.nii.gz"  # 4 MiB of zeros in a few kB; the app's limit is 1 MiB
    nib.save(nib.Nifti1Image(np.zeros((128, 128, 128), np.int16), np.eye(4)), path)
    error = failed(app, "bomb.nii.gz", path.read_bytes())
    assert error.startswith("bomb.nii.gz: header declares 4 MiB of data"), error
    assert "above the limit of 1 MiB" in error


def test_zip_with_a_file_and_a_folder_of_one_name_fails_in_plain_words(app: FastAPI) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("series", b"x")
        zf.writestr("series/1.dcm", b"x")
    error = failed(app, "study.zip", buffer.getvalue())
    assert error == "study.zip: cannot unpack the zip archive: 'series' is both a file and a folder"


def test_internal_errors_never_show_server_paths() -> None:
    exc = FileExistsError(17, "File exists", "/tmp/smoothseg-web-x/session-y/job-z/unpacked/a")
    message = plain_error(exc)
    assert message.startswith("internal error (FileExistsError)") and "/tmp" not in message


def test_origin_with_another_scheme_is_refused(app: FastAPI) -> None:
    c = client(app)
    assert c.delete("/api/session", headers={"Origin": "https://127.0.0.1"}).status_code == 403
    assert c.delete("/api/session", headers={"Origin": "http://127.0.0.1"}).status_code == 200


def test_label_map_and_nan_uploads_get_the_command_line_words(app: FastAPI, tmp_path: Path) -> None:
    labels = np.zeros((24, 24, 12), np.uint8)
    labels[5:15, 5:15, 3:9] = 1
    path = write_volume(Volume(labels, np.diag([4.0, 4.0, 4.0, 1.0])), tmp_path / "seg.nii.gz")
    assert failed(app, "seg.nii.gz", path.read_bytes()) == f"seg.nii.gz: {LABEL_MAP_PROBLEM}"
    ct = np.full((24, 24, 12), -1000.0, np.float32)
    ct[:, :, 6:] = np.nan
    path = write_volume(Volume(ct, np.diag([4.0, 4.0, 4.0, 1.0])), tmp_path / "nan.nii.gz")
    assert "NaN or infinite voxel(s)" in failed(app, "nan.nii.gz", path.read_bytes())
