"""The web app's compare mode (FastAPI TestClient) on coarse phantom follow-up pairs.

Result sets (truth labels + CT in a zip) give the designed categories, numbered lesion rows with
both time points' measures and a registration matrix that undoes the phantom's shift; scans are
segmented with the app's model; bad uploads are refused in plain words, without server paths
and without reading outside the upload.
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

from smoothseg.io import Volume, read_volume, write_volume
from smoothseg.phantom import PhantomConfig
from smoothseg.phantom.followup import generate_followups
from smoothseg.predict import PredictConfig, Predictor
from smoothseg.web import WebSettings, create_app
from smoothseg.web.sessions import COOKIE

BASE = "http://127.0.0.1"
COARSE = PhantomConfig.preset("small", shape=(64, 64, 24), spacing_mm=(6.0, 6.0, 10.0))
PR_PAIR, LIPIODOL_PAIR = 1, 5


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("pairs")
    truth = generate_followups(root, 6, seed=3, config=COARSE)
    return root, json.loads(truth.read_text())["pairs"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = WebSettings(work_dir=tmp_path_factory.mktemp("web"), max_upload_mb=4.0)
    application = create_app(settings, predictor=Predictor.from_model_dir(None, PredictConfig()))
    yield application
    application.state.ctx.runner.shutdown()
    application.state.ctx.store.close()


def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=BASE)


def result_zip(root: Path, row: dict[str, Any], tp: str, **extra: bytes) -> bytes:
    """A result set as a user zips it: the CT and smoothseg's labels.nii.gz."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("result/image.nii.gz", (root / row["files"][tp]).read_bytes())
        zf.writestr("result/labels.nii.gz", (root / row["files"][f"{tp}_labels"]).read_bytes())
        for name, data in extra.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def stage(c: TestClient, role: str, name: str, data: bytes) -> Any:
    return c.put(f"/api/compare/inputs/{role}", params={"name": name}, content=data)


def run(c: TestClient, inputs: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    for role, (name, data) in inputs.items():
        answer = stage(c, role, name, data)
        assert answer.status_code == 201, answer.text
    answer = c.post("/api/compare")
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/jobs/{answer.json()['id']}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("compare job did not finish")


def arterials(root: Path, row: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    return {
        f"arterial_{tp}": (f"{tp}_art.nii.gz", (root / row["files"][f"{tp}_arterial"]).read_bytes())
        for tp in ("baseline", "followup")
    }


def test_result_sets_give_categories_lesion_rows_and_a_linking_matrix(
    app: FastAPI, pairs: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    root, rows = pairs
    row = rows[LIPIODOL_PAIR]  # RECIST SD, mRECIST PR: the viable part decides
    c = client(app)
    inputs = {
        "baseline": ("before.zip", result_zip(root, row, "baseline")),
        "followup": ("after.zip", result_zip(root, row, "followup")),
        **arterials(root, row),
    }
    job = run(c, inputs)
    assert job["state"] == "done", job
    r = job["result"]
    got = {cat["key"]: cat["category"] for cat in r["categories"]}
    assert got == {k: row[k] for k in ("recist", "mrecist", "volumetric")}
    assert got["recist"] != got["mrecist"]
    assert all(cat["rule"] for cat in r["categories"])
    assert r["timepoints"]["baseline"]["source"] == "results" and r["disclaimer"] is None
    assert any("lipiodol" in w for w in r["warnings"]), r["warnings"]

    # Matched lesions: one row each, numbered 1.., with both time points' measures.
    numbers = [lesion["number"] for lesion in r["lesions"]]
    assert numbers == list(range(1, len(numbers) + 1))
    matched = [lesion for lesion in r["lesions"] if lesion["kind"] == "matched"]
    assert matched and all(m["baseline"] and m["followup"] for m in matched)
    assert all(m["followup"][0]["viable_diameter_mm"] is not None for m in matched)
    assert any("recist" in lesion["targets"] for lesion in r["lesions"])

    # The lesion-number maps use the row numbers at both time points.
    for tp, side in (("baseline", "baseline"), ("followup", "followup")):
        name = r["volumes"][tp]["lesions"]
        answer = c.get(f"/api/jobs/{job['id']}/files/{name}")
        assert answer.status_code == 200
        (tmp_path / name).write_bytes(answer.content)
        values = set(np.unique(read_volume(tmp_path / name).array).tolist()) - {0}
        assert values == {lesion["number"] for lesion in r["lesions"] if lesion[side]}

    # The matrix maps a baseline point to the same anatomy at follow-up (phantom shift).
    forward = np.array(r["registration"]["baseline_to_followup"])
    back = np.array(r["registration"]["followup_to_baseline"])
    assert np.allclose(forward @ back, np.eye(4), atol=1e-4)
    lesion = matched[0]
    b = np.append(lesion["baseline"][0]["centroid_ras_mm"], 1.0)
    f = np.array(lesion["followup"][0]["centroid_ras_mm"])
    assert np.linalg.norm(b[:3] - f) > 10.0  # the phantom patient lies shifted
    assert np.linalg.norm((forward @ b)[:3] - f) < 6.0  # one voxel
    assert r["registration"]["liver_dice_after"] > r["registration"]["liver_dice_before"]

    for download in r["downloads"]:
        answer = c.get(f"/api/jobs/{job['id']}/files/{download['name']}")
        assert answer.status_code == 200 and answer.content
        if download["name"] == "response.json":
            assert str(app.state.ctx.store.root) not in answer.text
            assert json.loads(answer.text)["warnings"] == [
                w for w in r["warnings"] if not w.startswith(("baseline ", "followup "))
            ]
    assert {d["name"] for d in r["downloads"]} >= {"response.json", "report.md"}


def test_scans_are_segmented_with_the_app_model(
    app: FastAPI, pairs: tuple[Path, list[dict[str, Any]]]
) -> None:
    root, rows = pairs
    row = rows[PR_PAIR]
    job = run(
        client(app),
        {
            tp: (f"{tp}.nii.gz", (root / row["files"][tp]).read_bytes())
            for tp in ("baseline", "followup")
        },
    )
    assert job["state"] == "done", job
    r = job["result"]
    assert {tp["source"] for tp in r["timepoints"].values()} == {"scan"}
    assert "NOT FOR CLINICAL USE" in r["disclaimer"]
    assert [cat["key"] for cat in r["categories"]] == ["recist", "volumetric"]
    assert any("mRECIST" in w for w in r["warnings"])
    assert set(r["volumes"]["followup"]) == {"ct", "liver", "tumor", "lesions"}


def test_missing_or_unpaired_inputs_are_refused(
    app: FastAPI, pairs: tuple[Path, list[dict[str, Any]]]
) -> None:
    root, rows = pairs
    c = client(app)
    assert stage(c, "somewhere", "a.nii.gz", b"x").status_code == 404
    evil = {"Origin": "http://evil.example"}
    answer = c.put("/api/compare/inputs/baseline", params={"name": "a.nii.gz"}, headers=evil)
    assert answer.status_code == 403 and c.post("/api/compare", headers=evil).status_code == 403
    assert stage(c, "baseline", "notes.txt", b"x").json()["error"].startswith("notes.txt: not a")
    assert stage(c, "baseline", "big.nii.gz", b"x" * (5 * 1024 * 1024)).status_code == 413
    ct = (root / rows[0]["files"]["baseline"]).read_bytes()
    assert stage(c, "baseline", "b.nii.gz", ct).json() == {"inputs": {"baseline": "b.nii.gz"}}
    assert "upload the followup first" in c.post("/api/compare").json()["error"]
    assert stage(c, "followup", "f.nii.gz", ct).status_code == 201
    assert stage(c, "arterial_baseline", "a.nii.gz", ct).status_code == 201
    assert "both arterial phases" in c.post("/api/compare").json()["error"]
    assert client(app).get("/api/compare/inputs").status_code == 404  # another browser
    assert c.delete("/api/compare/inputs").json() == {"inputs": {}}
    assert not list(app.state.ctx.store.get(c.cookies[COOKIE]).folder.rglob("*.gz"))


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("labels", "must hold 0, 1 (liver) and 2 (tumor)"),
        ("no_ct", "needs labels.nii.gz and its CT"),
        ("arterial_grid", "on the grid of its time point's CT"),
        ("unsafe_zip", "unsafe zip archive rejected"),
        ("labels_grid", "does not match the reference grid"),
        ("not_ct", "label map"),
    ],
)
def test_bad_uploads_fail_in_plain_words(
    app: FastAPI,
    pairs: tuple[Path, list[dict[str, Any]]],
    tmp_path: Path,
    problem: str,
    expected: str,
) -> None:
    root, rows = pairs
    row = rows[PR_PAIR]
    base = result_zip(root, row, "baseline")
    follow = result_zip(root, row, "followup")
    extra: dict[str, tuple[str, bytes]] = {}
    if problem == "labels":
        ct = read_volume(root / row["files"]["baseline_labels"])
        write_volume(ct.with_array(ct.array * 3), tmp_path / "labels.nii.gz")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("image.nii.gz", (root / row["files"]["baseline"]).read_bytes())
            zf.writestr("labels.nii.gz", (tmp_path / "labels.nii.gz").read_bytes())
        base = buffer.getvalue()
    elif problem == "no_ct":  # statistics.json names a server file: it must not be read
        stats = json.dumps({"input": {"path": str(root / row["files"]["baseline"])}})
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("labels.nii.gz", (root / row["files"]["baseline_labels"]).read_bytes())
            zf.writestr("statistics.json", stats)
        base = buffer.getvalue()
    elif problem == "arterial_grid":
        extra = arterials(root, row)
        late = _cropped(root / row["files"]["followup_arterial"], tmp_path)
        extra["arterial_followup"] = ("late.nii.gz", late)
    elif problem == "labels_grid":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("image.nii.gz", (root / row["files"]["baseline"]).read_bytes())
            zf.writestr("labels.nii.gz", _cropped(root / row["files"]["baseline_labels"], tmp_path))
        base = buffer.getvalue()
    elif problem == "not_ct":  # a label map uploaded as a scan
        base = (root / row["files"]["baseline_labels"]).read_bytes()
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("../escape/image.nii.gz", b"x")
        base = buffer.getvalue()
    c = client(app)
    name = "labels.nii.gz" if problem == "not_ct" else "before.zip"
    job = run(c, {"baseline": (name, base), "followup": ("after.zip", follow), **extra})
    assert job["state"] == "failed", job
    assert expected in job["error"], job["error"]
    assert str(app.state.ctx.store.root) not in job["error"] and "/tmp" not in job["error"]


def _cropped(path: Path, tmp_path: Path) -> bytes:
    volume = read_volume(path)
    cropped = Volume(np.ascontiguousarray(volume.array[:-2]), volume.affine)
    return write_volume(cropped, tmp_path / "crop.nii.gz").read_bytes()


def test_example_pair_is_segmented_and_assessed(app: FastAPI) -> None:
    c = client(app)
    assert c.post("/api/compare/examples/nothing").status_code == 404
    answer = c.post("/api/compare/examples/phantom")
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 120
    job: dict[str, Any] = answer.json()
    while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = c.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    r = job["result"]
    assert [cat["key"] for cat in r["categories"]] == ["recist", "mrecist", "volumetric"]
    assert all(cat["category"] in ("CR", "PR", "SD", "PD") for cat in r["categories"])
    assert {tp["source"] for tp in r["timepoints"].values()} == {"scan"}
    assert r["timepoints"]["baseline"]["shape"] == [128, 128, 48]
    assert "NOT FOR CLINICAL USE" in r["disclaimer"]
