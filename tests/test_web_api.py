"""The web app's HTTP API (FastAPI TestClient): uploads, errors in plain words, sessions.

Covers what the browser test does not: upload limits, unreadable/non-CT/label uploads, unsafe
zips, no liver found, a zipped DICOM series (DICOM SEG download), session isolation, and that
no parameter reads a file outside the session's folder.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
pytest.importorskip("httpx2", reason="httpx2 (for FastAPI's TestClient) is not installed")

from fastapi import FastAPI
from fastapi.testclient import TestClient

from smoothseg.io import DicomSeriesMeta, Volume, write_dicom_series, write_volume
from smoothseg.predict import PredictConfig, Predictor
from smoothseg.web import WebSettings, create_app
from smoothseg.web.sessions import COOKIE

BASE = "http://127.0.0.1"


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.from_model_dir(None, PredictConfig())


@pytest.fixture(scope="module")
def app(predictor: Predictor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = WebSettings(work_dir=tmp_path_factory.mktemp("web"), max_upload_mb=8.0)
    application = create_app(settings, predictor=predictor)
    yield application
    application.state.ctx.runner.shutdown()
    application.state.ctx.store.close()


def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=BASE)


def upload(c: TestClient, name: str, data: bytes) -> Any:
    return c.post("/api/upload", params={"name": name}, content=data)


def wait(c: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def nifti_bytes(tmp_path: Path, array: np.ndarray, spacing: float = 4.0) -> bytes:
    path = tmp_path / "v.nii.gz"
    write_volume(Volume(array, np.diag([spacing, spacing, spacing, 1.0])), path, overwrite=True)
    return path.read_bytes()


def failed_upload(app: FastAPI, name: str, data: bytes) -> str:
    c = client(app)
    answer = upload(c, name, data)
    assert answer.status_code == 202, answer.text
    job = wait(c, answer.json()["id"])
    assert job["state"] == "failed", job
    error: str = job["error"]
    assert str(app.state.ctx.store.root) not in error  # never the server's folders
    return error


def test_info_lists_examples_and_the_disclaimer(app: FastAPI) -> None:
    info = client(app).get("/api/info").json()
    assert "phantom" in [e["id"] for e in info["examples"]]
    assert "NOT FOR CLINICAL USE" in info["disclaimer"]
    assert info["max_upload_mb"] == 8.0 and ".zip" in info["accepted"]
    page = client(app).get("/")
    assert page.status_code == 200 and "niivue.umd.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client(app).get("/static/vendor/niivue.umd.js").status_code == 200


@pytest.mark.realdata
def test_real_example_is_offered_and_segmented(app: FastAPI, shared_data: Path) -> None:
    assert (shared_data / "totalsegmentator-example" / "example_ct_sm.nii.gz").is_file()
    c = client(app)
    answer = c.post("/api/examples/totalseg")
    assert answer.status_code == 202, answer.text
    job = wait(c, answer.json()["id"])
    assert job["state"] == "done", job
    result = job["result"]
    assert result["input"]["format"] == "nifti" and result["input"]["shape"] == [122, 101, 30]
    assert result["status"] in ("ok", "no-liver")  # a phantom-trained model on a real scan
    assert "NOT FOR CLINICAL USE" in result["disclaimer"]


def test_other_host_names_are_refused(app: FastAPI) -> None:
    # A web page on another origin reaching 127.0.0.1 by DNS rebinding sends its own Host.
    assert TestClient(app, base_url="http://evil.example").get("/api/info").status_code == 400


def test_cross_site_posts_are_refused(app: FastAPI) -> None:
    c = client(app)
    answer = c.post("/api/examples/phantom", headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and COOKIE not in c.cookies
    assert c.delete("/api/session", headers={"Origin": "http://evil.example"}).status_code == 403


def test_text_and_oversized_uploads_are_refused_in_plain_words(
    app: FastAPI, predictor: Predictor, tmp_path: Path
) -> None:
    c = client(app)
    answer = upload(c, "notes.txt", b"hello")
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("notes.txt: not a supported scan file")
    assert COOKIE not in c.cookies  # refused before a session (and its folder) is made
    small = create_app(WebSettings(work_dir=tmp_path, max_upload_mb=0.01), predictor=predictor)
    answer = upload(client(small), "ct.nii.gz", b"\0" * 20_000)
    assert answer.status_code == 413
    assert answer.json()["error"] == "ct.nii.gz: the file is larger than the limit of 0 MiB"
    assert upload(client(app), "ct.nii.gz", b"").json()["error"] == "ct.nii.gz: the file is empty"
    small.state.ctx.store.close()


def test_unreadable_label_and_non_ct_uploads_fail_in_plain_words(
    app: FastAPI, tmp_path: Path
) -> None:
    error = failed_upload(app, "scan.nii.gz", b"this is not a NIfTI file" * 20)
    assert error.startswith("scan.nii.gz: cannot read as NIfTI"), error
    labels = np.zeros((24, 24, 12), np.uint8)
    labels[5:15, 5:15, 3:9] = 1
    error = failed_upload(app, "seg.nii.gz", nifti_bytes(tmp_path, labels))
    assert error.startswith("seg.nii.gz: this looks like a label map"), error
    mr = np.random.default_rng(0).uniform(0, 900, (24, 24, 12)).astype(np.float32)
    error = failed_upload(app, "t1.nii.gz", nifti_bytes(tmp_path, mr))
    assert "not a CT in Hounsfield units" in error, error  # the words predict uses


def test_unsafe_zip_upload_is_rejected(app: FastAPI) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("series/1.dcm", b"x")
        zf.writestr("../../outside.dcm", b"x")
    error = failed_upload(app, "study.zip", buffer.getvalue())
    assert error.startswith("study.zip: unsafe zip archive rejected"), error
    assert not list(app.state.ctx.store.root.parent.glob("outside.dcm"))


def lung_block() -> np.ndarray:
    air = np.full((40, 40, 20), -1000, np.int16)
    air[10:30, 10:30, 5:15] = -300  # a block of lung-like tissue: no liver anywhere
    return air


@pytest.fixture(scope="module")
def dicom_job(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, str]:
    """Session A: a small DICOM series uploaded as a zip (folders with spaces), segmented."""
    folder = tmp_path_factory.mktemp("dicom")
    volume = Volume(lung_block(), np.diag([4.0, 4.0, 4.0, 1.0]))
    files = write_dicom_series(volume, folder / "series", DicomSeriesMeta())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in files:
            zf.write(path, f"STUDY 1/CT series/{path.name}")
    c = client(app)
    answer = upload(c, "my study.zip", buffer.getvalue())
    assert answer.status_code == 202 and COOKIE in c.cookies
    job = wait(c, answer.json()["id"])
    assert job["state"] == "done", job
    return c, job["id"]


def test_zipped_dicom_series_is_read_and_no_liver_is_reported(
    dicom_job: tuple[TestClient, str],
) -> None:
    c, job_id = dicom_job
    result = c.get(f"/api/jobs/{job_id}").json()["result"]
    assert result["input"]["format"] == "dicom" and result["input"]["shape"] == [40, 40, 20]
    assert result["status"] == "no-liver" and result["lesions"] == [] and result["tlvr"] is None
    assert any("no liver found" in w for w in result["warnings"])
    assert [d["name"] for d in result["downloads"]] == ["statistics.json"]
    assert result["volumes"] == {"ct": "ct.nii.gz"}
    stats = json.loads(c.get(f"/api/jobs/{job_id}/files/statistics.json").content)
    assert stats["status"] == "no-liver" and stats["input"]["format"] == "dicom"
    answer = c.get(f"/api/jobs/{job_id}/files/statistics.json")
    assert answer.headers["content-disposition"].startswith("attachment")
    assert c.get(f"/api/jobs/{job_id}/files/ct.nii.gz").content[:2] == b"\x1f\x8b"  # gzip


@pytest.mark.parametrize(
    "path",
    [
        "files/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "files/%2Fetc%2Fpasswd",
        "files/..%2Foutput%2Fstatistics.json",
        "files/..%2Fviewer%2Fct.nii.gz",
        "files/output%2Fstatistics.json",
        "files/../../../etc/passwd",
        "files/upload.zip",
    ],
)
def test_no_parameter_reads_outside_the_session(
    dicom_job: tuple[TestClient, str], path: str
) -> None:
    c, job_id = dicom_job
    answer = c.get(f"/api/jobs/{job_id}/{path}")
    assert answer.status_code == 404
    assert "root:" not in answer.text and "{" in answer.text
    for job_path in ("..%2F..%2Fetc", "..", "%2Fetc%2Fpasswd"):
        assert c.get(f"/api/jobs/{job_path}/files/passwd").status_code == 404
    assert c.get("/static/..%2F..%2Fweb%2Fapp.py").status_code == 404


def test_sessions_do_not_see_each_other(app: FastAPI, dicom_job: tuple[TestClient, str]) -> None:
    a, job_id = dicom_job
    stranger = client(app)
    assert stranger.get(f"/api/jobs/{job_id}").status_code == 404  # no session at all
    forged = client(app)
    forged.cookies.set(COOKIE, "forged-token")
    assert forged.get(f"/api/jobs/{job_id}/files/statistics.json").status_code == 404
    b = client(app)
    own = wait(b, upload(b, "x.nii", b"not a scan").json()["id"])  # B has a session now
    assert b.cookies[COOKIE] != a.cookies[COOKIE]
    assert b.get(f"/api/jobs/{job_id}").json()["error"] == "no such job in this session"
    assert b.get(f"/api/jobs/{job_id}/files/statistics.json").status_code == 404
    assert a.get(f"/api/jobs/{own['id']}").status_code == 404
    store = app.state.ctx.store
    folder_b = store.get(b.cookies[COOKIE]).folder
    assert folder_b.exists() and folder_b != store.get(a.cookies[COOKIE]).folder
    assert b.delete("/api/session").json() == {"ok": True}
    assert not folder_b.exists()
    assert a.get(f"/api/jobs/{job_id}/files/statistics.json").status_code == 200


def test_serve_refuses_a_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from smoothseg.cli import main

    with pytest.raises(SystemExit) as done:
        main(["serve", "--model", str(tmp_path / "nothing")])
    assert done.value.code == 2
    assert "not a model folder" in capsys.readouterr().err
