"""The web viewer end to end in a real browser: Playwright drives headless Chromium.

Flow: ``smoothseg serve`` on 127.0.0.1 → an uploaded text file is refused in plain words → the
phantom example is segmented → the viewer canvas shows liver (green) and tumor (red) overlay
pixels → the lesion table has rows and a click moves the crosshair → every download is a valid
file. Compare mode: from the main page's switch, a phantom follow-up pair (two result sets plus
arterial phases) → the categories with their rules, the numbered lesion table, and a crosshair
moved in either viewer moves the other through the registration. Chromium comes from the
Debian ``chromium`` package, which ``make install`` installs when missing; without it the test
fails (it never skips).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)

REPO = Path(__file__).resolve().parents[1]
DOCS_SCREENSHOT = REPO / "docs" / "images" / "viewer.png"
COMPARE_SCREENSHOT = REPO / "docs" / "images" / "compare.png"
#: Software WebGL2 (SwiftShader, which Chromium picks without a GPU; newer Chromium versions
#: want this flag to keep it). ``--use-angle=swiftshader`` works too but is ~10x slower here.
CHROMIUM_ARGS = ["--enable-unsafe-swiftshader"]


def chromium_path() -> str:
    """The Debian ``chromium`` binary, which ``make install`` installs; missing is a failure."""
    found = shutil.which("chromium")
    if not found:
        pytest.fail("chromium is not installed: run `make install` (it installs it with apt-get)")
    return found


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``smoothseg serve --port 0`` in a subprocess: the real command, on 127.0.0.1."""
    temp = tmp_path_factory.mktemp("serve-tmp")  # the app's work folder goes here
    process = subprocess.Popen(
        [sys.executable, "-m", "smoothseg", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TMPDIR=str(temp)),
    )
    try:
        assert process.stderr is not None
        lines: list[str] = []
        for line in process.stderr:
            lines.append(line)
            if "smoothseg viewer on" in line:
                break
        assert any("NOT FOR CLINICAL USE" in line for line in lines), lines
        url = lines[-1].split(" on ", 1)[1].split(" ", 1)[0].rstrip("/")
        assert url.startswith("http://127.0.0.1:"), lines
        wait_until_listening(url, process)
        assert len(list(temp.glob("smoothseg-web-*"))) == 1
        yield url
    finally:
        process.terminate()  # uvicorn shuts down gracefully, then re-raises SIGTERM
        process.wait(timeout=30)
    assert not list(temp.glob("smoothseg-web-*")), "the app must delete its work folder"


def wait_until_listening(url: str, process: subprocess.Popen[str]) -> None:
    """The URL is printed just before uvicorn listens: poll until it answers."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/api/info", timeout=30) as answer:
                assert answer.status == 200
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    with playwright_api.sync_playwright() as pw:
        try:
            launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except playwright_api.Error as exc:
            pytest.fail(f"chromium does not start here: {str(exc)[:300]}")
        yield launched
        launched.close()


def coloured_pixels(png: bytes) -> dict[str, int]:
    """Pixels where green (liver overlay) or red (tumor overlay) clearly dominates."""
    from io import BytesIO

    from PIL import Image

    rgb = np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return {
        "green": int(np.count_nonzero(g - np.maximum(r, b) > 60)),
        "red": int(np.count_nonzero(r - np.maximum(g, b) > 60)),
    }


def check_download(name: str, path: Path) -> None:
    if name.endswith(".nii.gz"):
        import nibabel as nib

        values = set(np.unique(np.asarray(nib.load(path).dataobj)).tolist())
        assert values == {0, 1, 2}, values
    elif name.endswith(".dcm"):
        import pydicom

        assert pydicom.dcmread(path).Modality == "SEG"
    elif name.endswith(".json"):
        assert json.loads(path.read_text(encoding="utf-8"))["status"] == "ok"
    else:
        from PIL import Image

        with Image.open(path) as image:
            image.verify()
            assert image.format == "PNG"


def test_segment_view_and_download_in_a_real_browser(
    base_url: str, browser: Any, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    context = browser.new_context(viewport={"width": 1500, "height": 950}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(base_url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)

    # A text file is not a scan: the page says so in plain words.
    text = tmp_path / "notes.txt"
    text.write_text("this is not a CT scan\n", encoding="utf-8")
    page.set_input_files("#file", str(text))
    page.click("#upload")
    page.wait_for_selector("#error:not([hidden])", timeout=30_000)
    assert "notes.txt: not a supported scan file" in page.inner_text("#error")
    assert page.is_hidden("#progress-box")  # no "uploading ..." left behind

    # The phantom example: segment, then inspect.
    page.click("[data-example=phantom]")
    page.wait_for_selector("body[data-viewer=ready]", timeout=120_000)
    assert page.is_hidden("#error")
    assert "mm (RAS)" in page.inner_text("#readout")  # the drawn crosshair is described
    assert "NOT FOR CLINICAL USE" in page.inner_text("#disclaimer")
    rows = page.locator("#lesions tbody tr")
    assert rows.count() >= 1
    rows.first.click()
    # (locator waits: the page's Content-Security-Policy forbids wait_for_function's eval)
    page.locator("#readout", has_text="crosshair:").wait_for()
    assert "mm (RAS)" in page.inner_text("#readout")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "viewer-all-views.png"))

    page.click("[data-view=axial]")
    page.wait_for_timeout(300)
    axial = page.locator("#viewer").screenshot(path=str(shots / "viewer-axial.png"))
    colours = coloured_pixels(axial)
    assert colours["green"] > 500 and colours["red"] > 100, colours
    page.uncheck("[data-structure=tumor]")
    page.wait_for_timeout(300)
    assert coloured_pixels(page.locator("#viewer").screenshot())["red"] < 20
    page.check("[data-structure=tumor]")
    page.click("[data-window=liver]")
    assert page.evaluate("smoothseg.nv.volumes[0].cal_min") == -45

    links = page.locator("#downloads a")
    names = [links.nth(i).get_attribute("data-file") for i in range(links.count())]
    assert set(names) == {"labels.nii.gz", "seg.dcm", "statistics.json", "preview.png"}
    for i, name in enumerate(names):
        with page.expect_download() as info:
            links.nth(i).click()
        target = tmp_path / "downloads" / str(name)
        info.value.save_as(target)
        check_download(str(name), target)

    assert not problems, problems
    context.close()
    if not DOCS_SCREENSHOT.exists() or os.environ.get("SMOOTHSEG_UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shots / "viewer-all-views.png", DOCS_SCREENSHOT)


def result_set_zip(root: Path, files: dict[str, str], tp: str, target: Path) -> Path:
    """A smoothseg result set as a user zips it: the CT and its labels.nii.gz."""
    import zipfile

    with zipfile.ZipFile(target, "w") as zf:
        zf.write(root / files[tp], "image.nii.gz")
        zf.write(root / files[f"{tp}_labels"], "labels.nii.gz")
    return target


def crosshairs(page: Any) -> dict[str, list[float]]:
    mm: dict[str, list[float]] = page.evaluate(
        "({b: smoothsegCompare.viewers.baseline.mm, f: smoothsegCompare.viewers.followup.mm})"
    )
    return mm


def mapped(matrix: list[list[float]], point: list[float]) -> np.ndarray:
    out: np.ndarray = (np.array(matrix) @ np.append(point, 1.0))[:3]
    return out


def test_compare_mode_in_a_real_browser(base_url: str, browser: Any, tmp_path: Path) -> None:
    from smoothseg.phantom import PhantomConfig
    from smoothseg.phantom.followup import generate_followups

    coarse = PhantomConfig.preset("small", shape=(64, 64, 24), spacing_mm=(6.0, 6.0, 10.0))
    root = tmp_path / "pairs"
    rows = json.loads(generate_followups(root, 6, seed=3, config=coarse).read_text())["pairs"]
    row = rows[5]  # lipiodol after TACE: RECIST 1.1 SD, mRECIST PR
    assert (row["recist"], row["mrecist"]) == ("SD", "PR")
    files = row["files"]
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(base_url + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.click("#mode-compare")  # the main page's switch to compare mode
    page.wait_for_selector("body.compare-mode[data-ready=true]", timeout=30_000)

    page.set_input_files(
        "#file-baseline", str(result_set_zip(root, files, "baseline", tmp_path / "before.zip"))
    )
    page.set_input_files(
        "#file-followup", str(result_set_zip(root, files, "followup", tmp_path / "after.zip"))
    )
    page.set_input_files("#file-arterial_baseline", str(root / files["baseline_arterial"]))
    page.set_input_files("#file-arterial_followup", str(root / files["followup_arterial"]))
    page.click("#compare")
    page.wait_for_selector("body[data-compare=ready]", timeout=120_000)
    assert page.is_hidden("#error")

    # Categories with the rule that decided each.
    for key in ("recist", "mrecist", "volumetric"):
        assert page.inner_text(f"[data-criterion={key}] .category") == row[key]
        assert len(page.inner_text(f"[data-rule={key}]")) > 10
    assert "lipiodol" in page.inner_text("#compare-warnings")
    lesion_rows = page.locator("#compare-lesions tbody tr")
    assert lesion_rows.count() >= 1
    cells = lesion_rows.first.locator("td")
    assert cells.nth(0).inner_text().startswith("1")
    assert "(" in cells.nth(2).inner_text() and "(" in cells.nth(3).inner_text()  # viable ⌀

    # Move the crosshair in one view: the other follows through the registration.
    result = page.evaluate("smoothsegCompare.state.result.registration")
    for source, other, matrix in (
        ("baseline", "f", result["baseline_to_followup"]),
        ("followup", "b", result["followup_to_baseline"]),
    ):
        before = crosshairs(page)
        box = page.locator(f"#viewer-{source}").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.42, box["y"] + box["height"] * 0.55)
        page.locator(f"#readout-{source}", has_text="HU").wait_for()
        after = crosshairs(page)
        moved = after[source[0]]
        assert np.linalg.norm(np.subtract(moved, before[source[0]])) > 1.0, (before, after)
        assert np.allclose(after[other], mapped(matrix, moved), atol=0.5), (after, matrix)
    lesion_rows.first.click()
    page.locator("#readout-followup", has_text="lesion #1").wait_for()
    assert "lesion #1" in page.inner_text("#readout-baseline")
    page.wait_for_timeout(300)
    shot = tmp_path / "compare.png"
    page.screenshot(path=str(shot))
    pair = page.locator(".pair").screenshot()
    colours = coloured_pixels(pair)
    assert colours["green"] > 200 and colours["red"] > 20, colours
    assert not problems, problems
    context.close()
    if not COMPARE_SCREENSHOT.exists() or os.environ.get("SMOOTHSEG_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, COMPARE_SCREENSHOT)
