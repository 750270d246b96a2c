"""Upload safety of the web app: names, size limits, zip extraction, session folders."""

from __future__ import annotations

import asyncio
import stat
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smoothseg.errors import InputError
from smoothseg.web.safety import (
    UploadTooLargeError,
    contained,
    safe_extract_zip,
    save_stream,
    upload_name,
)
from smoothseg.web.sessions import SessionStore

LIMITS = {"max_bytes": 1_000_000, "max_files": 100}


def make_zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../evil.txt", "'..'"),
        ("dicom/../../evil.txt", "'..'"),
        ("..\\evil.txt", "'..'"),
        ("/etc/evil.txt", "absolute path"),
        ("C:/evil.txt", "absolute path"),
    ],
)
def test_zip_traversal_and_absolute_paths_are_rejected(
    tmp_path: Path, member: str, why: str
) -> None:
    archive = make_zip(tmp_path / "a.zip", {"ok/slice1.dcm": b"x", member: b"evil"})
    dest = tmp_path / "session" / "unpacked"
    dest.mkdir(parents=True)
    with pytest.raises(InputError, match="unsafe zip archive rejected") as err:
        safe_extract_zip(archive, dest, **LIMITS)
    assert why in str(err.value)
    assert not list(dest.rglob("*")), "nothing may be extracted from a rejected archive"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "session" / "evil.txt").exists()


def test_zip_symlinks_are_rejected(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"a.dcm": b"x"}, links={"link": "/etc/passwd"})
    with pytest.raises(InputError, match="symbolic link"):
        safe_extract_zip(archive, tmp_path / "out", **LIMITS)


def test_zip_size_and_count_limits_count_real_bytes(tmp_path: Path) -> None:
    bomb = make_zip(tmp_path / "bomb.zip", {"big.bin": b"\0" * 2_000_000})
    assert bomb.stat().st_size < 100_000  # compresses well: the header size is not trusted
    with pytest.raises(UploadTooLargeError, match="larger than the limit"):
        safe_extract_zip(bomb, tmp_path / "out", **LIMITS)
    many = make_zip(tmp_path / "many.zip", {f"f{i}.dcm": b"x" for i in range(5)})
    with pytest.raises(UploadTooLargeError, match="holds 5 files; the limit is 3"):
        safe_extract_zip(many, tmp_path / "out2", max_bytes=1000, max_files=3)


def test_good_zip_extracts_inside_the_folder(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"study/series/1.dcm": b"a", "study/2.dcm": b"b"})
    files = safe_extract_zip(archive, tmp_path / "out", **LIMITS)
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in files) == [
        "study/2.dcm",
        "study/series/1.dcm",
    ]
    not_zip = tmp_path / "n.zip"
    not_zip.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable zip archive"):
        safe_extract_zip(not_zip, tmp_path / "out3", **LIMITS)


def test_upload_names_select_a_format_and_never_a_path() -> None:
    assert upload_name("../../etc/scan.nii.gz") == "upload.nii.gz"
    assert upload_name("C:\\Users\\me\\CT.NRRD") == "upload.nrrd"
    assert upload_name("study.zip") == "upload.zip"
    for bad in ("notes.txt", "scan.nii.gz.exe", "", "archive.tar.gz"):
        with pytest.raises(InputError, match="not a supported scan file"):
            upload_name(bad)


def test_save_stream_stops_at_the_limit_and_removes_the_file(tmp_path: Path) -> None:
    async def chunks(n: int) -> AsyncIterator[bytes]:
        for _ in range(n):
            yield b"x" * 1000

    target = tmp_path / "upload.nii"
    assert asyncio.run(save_stream(chunks(3), target, 5000)) == 3000
    with pytest.raises(UploadTooLargeError, match="larger than the limit"):
        asyncio.run(save_stream(chunks(10), target, 5000))
    assert not target.exists()


def test_contained_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "session"
    (folder / "job").mkdir(parents=True)
    (folder / "job" / "a.json").write_text("{}", encoding="utf-8")
    assert contained(folder, folder / "job" / "a.json") == (folder / "job" / "a.json").resolve()
    for outside in (folder / ".." / "other.json", Path("/etc/passwd")):
        with pytest.raises(InputError, match="not part of this session"):
            contained(folder, outside)
    (folder / "link").symlink_to("/etc/passwd")
    with pytest.raises(InputError):
        contained(folder, folder / "link")


def test_sessions_have_own_folders_and_are_cleaned_up(tmp_path: Path) -> None:
    store = SessionStore(idle_s=60, max_sessions=2, work_dir=tmp_path)
    a, b = store.create(), store.create()
    assert a.token != b.token and a.folder != b.folder
    assert a.folder.parent == b.folder.parent == store.root
    assert store.get(a.token) is a and store.get("forged") is None and store.get(None) is None
    a.last_used = time.time() - 120
    assert store.expire() == 1 and not a.folder.exists() and store.get(a.token) is None
    c, d = store.create(), store.create()  # over max_sessions: the idlest (b) goes
    assert store.get(b.token) is None and not b.folder.exists() and len(store) == 2
    store.discard(c.token)
    assert not c.folder.exists()
    store.close()
    assert not store.root.exists() and not d.folder.exists()
