"""Scans over HTTP on the fakes: off without a scan root, paths kept inside it (no '..',
absolute paths or symlinks out), admin and reviewer keys only; a folder or a manifest
scanned in the background to its hits, errors, CSV export and previews; a job cut off by a
restart reported as interrupted."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.runtime import Runtime
from service.scan_jobs import ScanJobs, ScanNotResumable, manifest_paths
from service.settings import Settings
from tests.service.http import AUTH, Keys, art, bearer, checked_client, new_key


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """The scan root: a copy of alice's work 1, an unrelated drawing, a file that is no image
    (named .png) and a text file."""
    root = tmp_path / "inbox"
    (root / "batch" / "deeper").mkdir(parents=True)
    (root / "batch" / "copy.png").write_bytes(art("alice", 1))
    (root / "batch" / "deeper" / "other.png").write_bytes(art("carol", 7))
    (root / "batch" / "notes.png").write_text("not an image")
    (root / "batch" / "prompt.txt").write_text("a fox, oil on canvas")  # no image at all
    (tmp_path / "secret.png").write_bytes(art("bob", 101))
    return root


@pytest.fixture
def scanning(settings: Settings, runtime: Runtime, inbox: Path) -> Iterator[TestClient]:
    settings.scan_root = inbox
    with checked_client(create_app(settings, runtime)) as client:
        yield client


def _start(client: TestClient, headers: dict[str, str] = AUTH, **form: Any) -> Any:
    files = (
        {"manifest": ("list.csv", form.pop("manifest"), "text/csv")} if "manifest" in form else None
    )
    return client.post("/v1/scans", headers=headers, data=form, files=files)


def _finished(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/scans/{job_id}", headers=AUTH).json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"scan {job_id} did not finish")


def test_scans_are_off_without_a_scan_root(client: TestClient) -> None:
    refused = _start(client, folder="batch")
    assert (
        refused.status_code == 409 and "STYLETRACE_SCAN_ROOT" in refused.json()["error"]["message"]
    )
    assert client.get("/v1/scans", headers=AUTH).json() == {"scan_root": False, "jobs": []}


def test_paths_stay_inside_the_scan_root(scanning: TestClient, inbox: Path) -> None:
    (inbox / "out").symlink_to(inbox.parent)
    for folder, says in (
        ("../", "without '..'"),
        ("/etc", "relative to the scan root"),
        ("out", "leads outside the scan root"),
        ("missing", "no folder 'missing'"),
    ):
        answer = _start(scanning, folder=folder)
        assert answer.status_code == 422, folder
        assert says in answer.json()["error"]["message"], answer.json()
    manifest = _start(scanning, manifest=b"path\nbatch/copy.png\n\n../secret.png\n")
    assert manifest.status_code == 422  # the line it is on: blank lines count
    assert "manifest line 4: '../secret.png'" in manifest.json()["error"]["message"]
    huge = _start(scanning, manifest=b"path\n" + b"x" * 200_000 + b"\n")  # over csv's field limit
    assert (
        huge.status_code == 422
        and "manifest line 2: not a readable CSV" in huge.json()["error"]["message"]
    )
    latin = _start(scanning, manifest=b"path\r\nbatch/copy.png\r\nbatch/caf\xe9.png\r\n")
    assert "manifest line 3: not UTF-8 text" in latin.json()["error"]["message"], latin.json()
    bom = _start(scanning, manifest=b"\xef\xbb\xbfpath\r\nbatch/copy.png\r\n")
    assert bom.status_code == 201, bom.json()  # as spreadsheets save UTF-8
    no_column = _start(scanning, manifest=b"file\nbatch/copy.png\n")
    assert no_column.status_code == 422
    assert "manifest line 1: missing column(s) path" in no_column.json()["error"]["message"]
    both = _start(scanning, folder="batch", manifest=b"path\nbatch/copy.png\n")
    assert both.status_code == 422 and "exactly one" in both.json()["error"]["message"]
    preview = scanning.get("/v1/scans/preview", headers=AUTH, params={"path": "../secret.png"})
    assert preview.status_code == 422


def test_only_admins_and_reviewers_scan(scanning: TestClient, keys: Keys) -> None:
    for who in ("alice", "platform"):
        assert _start(scanning, bearer(keys[who]), folder="batch").status_code == 403
        assert scanning.get("/v1/scans", headers=bearer(keys[who])).status_code == 403
    assert _start(scanning, bearer(keys["reviewer"]), folder="batch").status_code == 201


def test_a_folder_scan_finds_the_copy(scanning: TestClient, keys: Keys, inbox: Path) -> None:
    (inbox / "batch" / "link.png").symlink_to(inbox.parent / "secret.png")  # out of the root
    started = _start(scanning, folder="batch")
    assert started.status_code == 201 and started.json()["source"] == "folder batch"
    job = _finished(scanning, started.json()["job_id"])
    assert (job["status"], job["total"], job["scanned"]) == ("done", 3, 3)
    assert job["summary"]["images"] == 3 and "unsupported_image" in job["summary"]["errors"]
    assert job["not_images"] == {".txt": 1}  # left out, and said so
    assert job["outside_root"] == 1  # found by QA: left out without a word
    url = f"/v1/scans/{job['job_id']}"

    hits = scanning.get(f"{url}/rows", headers=AUTH).json()
    assert [r["path"] for r in hits["rows"]] == ["batch/copy.png"]
    assert hits["rows"][0]["content_work_id"] == "alice/w1.png"
    errors = scanning.get(f"{url}/rows", headers=AUTH, params={"show": "errors"}).json()
    assert [(r["path"], r["error_code"]) for r in errors["rows"]] == [
        ("batch/notes.png", "unsupported_image")  # found by QA: the code was not shown
    ]

    exported = scanning.get(f"{url}/results.csv", headers=AUTH)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted((r["path"], r["error_code"]) for r in rows) == [
        ("batch/copy.png", ""),
        ("batch/deeper/other.png", ""),
        ("batch/notes.png", "unsupported_image"),
    ]
    preview = scanning.get("/v1/scans/preview", headers=AUTH, params={"path": "batch/copy.png"})
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    missing = scanning.get("/v1/scans/preview", headers=AUTH, params={"path": "batch/none.png"})
    assert missing.status_code == 404  # not 415: and the server's own path is not shown
    assert missing.json()["error"]["message"] == "no file 'batch/none.png' under the scan root"
    assert scanning.get("/v1/scans", headers=AUTH).json()["jobs"][0]["job_id"] == job["job_id"]
    assert scanning.get("/v1/scans/s_nope", headers=AUTH).status_code == 404


def test_a_file_name_that_is_not_utf8_is_escaped_and_errors_name_no_server_path(
    scanning: TestClient, inbox: Path
) -> None:
    """Such a name made every scan route a 500 (its lone surrogate could not be encoded), kept
    in the job's record across restarts; an error row showed the server's absolute path."""
    odd = inbox / "odd"
    odd.mkdir()
    (odd / "copy.png").write_bytes(art("alice", 1))
    for name, data in ((b"bad\xff name.png", art("alice", 1)), (b"broken\xe9.png", b"x")):
        with open(os.path.join(os.fsencode(odd), name), "wb") as fh:
            fh.write(data)
    job = _finished(scanning, _start(scanning, folder="odd").json()["job_id"])
    assert (job["status"], job["scanned"]) == ("done", 3)
    url = f"/v1/scans/{job['job_id']}"
    assert scanning.get("/v1/scans", headers=AUTH).status_code == 200
    rows = scanning.get(f"{url}/rows", headers=AUTH, params={"show": "all"}).json()["rows"]
    assert sorted(r["path"] for r in rows) == [
        "odd/bad\\xff name.png",
        "odd/broken\\xe9.png",
        "odd/copy.png",
    ]
    exported = scanning.get(f"{url}/results.csv", headers=AUTH)
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 3
    for row in rows:  # each row's image previews by the path it shows (found by QA)
        shown = scanning.get("/v1/scans/preview", headers=AUTH, params={"path": row["path"]})
        assert shown.status_code == (415 if "broken" in row["path"] else 200), shown.text
    listed = _start(scanning, manifest=b"path\nodd/missing.png\nodd\n")
    done = _finished(scanning, listed.json()["job_id"])
    assert str(inbox) not in json.dumps(done), done["summary"]  # its examples too
    url = f"/v1/scans/{done['job_id']}"
    errors = [
        r["error"] for r in scanning.get(f"{url}/rows?show=errors", headers=AUTH).json()["rows"]
    ]
    assert len(errors) == 2 and not any(str(inbox) in e for e in errors), errors
    assert "odd/missing.png" in errors[0]


def test_a_manifest_is_read_off_the_event_loop(
    scanning: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by QA: a 200,000-line manifest was checked inside the async route, so for 23 s
    the server answered nothing else, /healthz included."""
    import asyncio

    import service.api.scans

    where: list[str] = []

    def listed(data: bytes, root: Path) -> list[Path]:
        try:
            asyncio.get_running_loop()
            where.append("the event loop")
        except RuntimeError:
            where.append("a worker thread")
        return manifest_paths(data, root)

    monkeypatch.setattr(service.api.scans, "manifest_paths", listed)
    assert _start(scanning, manifest=b"path\nbatch/copy.png\n").status_code == 201
    assert where == ["a worker thread"]


def test_a_manifest_scan_reads_only_its_paths(scanning: TestClient) -> None:
    started = _start(scanning, manifest=b"path,note\nbatch/deeper/other.png,x\n", top_k=2)
    assert started.status_code == 201, started.text
    job = _finished(scanning, started.json()["job_id"])
    assert (job["status"], job["total"], job["source"]) == ("done", 1, "manifest list.csv")
    assert job["repeated"] == 0


def test_a_manifest_naming_a_file_again_counts_it(scanning: TestClient) -> None:
    """Found by QA: the repeats were dropped without a word (the CLI counts them)."""
    listed = b"path\nbatch/copy.png\nbatch/./copy.png\nbatch/deeper/other.png\nbatch/copy.png\n"
    job = _finished(scanning, _start(scanning, manifest=listed).json()["job_id"])
    assert (job["status"], job["total"], job["scanned"], job["repeated"]) == ("done", 2, 2, 2)


def test_backslashes_are_separators_unless_a_file_is_named_with_them(
    scanning: TestClient, inbox: Path
) -> None:
    """Found by QA: a file named with a backslash (legal on Linux) could not be previewed."""
    (inbox / "batch" / "odd\\name.png").write_bytes(art("carol", 7))
    for path in ("batch/odd\\name.png", "batch\\copy.png", "batch/copy.png"):
        shown = scanning.get("/v1/scans/preview", headers=AUTH, params={"path": path})
        assert shown.status_code == 200, (path, shown.text)
    listed = manifest_paths(b"path\nbatch\\copy.png\nbatch/odd\\name.png\n", inbox)
    assert [p.name for p in listed] == ["copy.png", "odd\\name.png"]
    escape = scanning.get("/v1/scans/preview", headers=AUTH, params={"path": "..\\secret.png"})
    assert escape.status_code == 422


def test_a_link_to_elsewhere_in_the_scan_root_is_scanned(scanning: TestClient, inbox: Path) -> None:
    """Found by QA: links were judged against the scanned folder, not the scan root, so one
    to a file beside the folder was left out as `outside_root`."""
    (inbox / "elsewhere").mkdir()
    (inbox / "elsewhere" / "copy.png").write_bytes(art("alice", 1))
    (inbox / "batch" / "deeper" / "link.png").symlink_to(inbox / "elsewhere" / "copy.png")
    job = _finished(scanning, _start(scanning, folder="batch/deeper").json()["job_id"])
    assert (job["status"], job["total"], job["outside_root"]) == ("done", 2, 0), job


def test_a_scan_cancels_queued_or_between_batches_and_resumes(
    settings: Settings, runtime: Runtime, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by QA: a scan could not be stopped (a 700,000-line manifest would have held the
    one scan slot for days) short of restarting the server, which interrupted every job."""
    settings.scan_root, settings.batch_size = inbox, 1
    go, real_match = threading.Event(), runtime.matcher.match

    def held(*args: Any) -> Any:
        go.wait(30)
        return real_match(*args)

    monkeypatch.setattr(runtime.matcher, "match", held)
    with checked_client(create_app(settings, runtime)) as client:
        first = _start(client, folder="batch").json()["job_id"]
        second = _start(client, folder="batch").json()["job_id"]
        deadline = time.monotonic() + 30
        while client.get(f"/v1/scans/{first}", headers=AUTH).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        queued = client.post(f"/v1/scans/{second}/cancel", headers=AUTH).json()
        assert queued["status"] == "interrupted" and "before it started" in queued["message"]
        cancelling = client.post(f"/v1/scans/{first}/cancel", headers=AUTH).json()
        assert cancelling["status"] == "running"  # found by QA: it said nothing more
        assert cancelling["message"] == "cancelled by admin-env: it stops after the images in hand"
        assert client.get(f"/v1/scans/{first}", headers=AUTH).json() == cancelling
        go.set()
        stopped = _finished(client, first)
        assert stopped["status"] == "interrupted" and stopped["scanned"] == 1, stopped
        assert stopped["message"] == "cancelled by admin-env; resume it to scan the rest"
        again = client.post(f"/v1/scans/{first}/cancel", headers=AUTH)
        assert error_code(again, 409) == "scan_not_cancellable"
        go.clear()  # found by QA: a resumed job cancelled in the queue said "before it started"
        third = _start(client, folder="batch").json()["job_id"]
        while client.get(f"/v1/scans/{third}", headers=AUTH).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert client.post(f"/v1/scans/{first}/resume", headers=AUTH).json()["status"] == "queued"
        requeued = client.post(f"/v1/scans/{first}/cancel", headers=AUTH).json()
        assert requeued["message"] == "cancelled by admin-env before it resumed; resume it to scan"
        go.set()
        assert _finished(client, third)["status"] == "done"
        for job_id in (first, second):  # each resumes, and runs once
            assert client.post(f"/v1/scans/{job_id}/resume", headers=AUTH).status_code == 200
            done = _finished(client, job_id)
            assert (done["status"], done["scanned"], done["total"]) == ("done", 3, 3), done
            results = runtime.settings.data_dir / "scans" / job_id / "results.jsonl"
            assert len(results.read_text().splitlines()) == 3


def error_code(answer: Any, status: int) -> str:
    assert answer.status_code == status, answer.text
    return str(answer.json()["error"]["code"])


def test_a_scan_cut_off_by_a_restart_is_reported(runtime: Runtime) -> None:
    record = runtime.settings.data_dir / "scans" / "s_0123" / "job.json"
    record.parent.mkdir(parents=True)
    record.write_text(
        json.dumps(
            {
                "job_id": "s_0123",
                "source": "folder x",
                "created_by": "admin-env",
                "created_at": "2026-01-01T00:00:00+00:00",
                "status": "running",
            }
        )
    )
    job = ScanJobs(runtime).get("s_0123")
    assert (job.status, job.message) == (
        "interrupted",
        "the server stopped during this scan; resume it",
    )
    record.write_text(record.read_text().replace('"running"', '"queued"'))
    assert "stopped before this scan started" in ScanJobs(runtime).get("s_0123").message
    with pytest.raises(ScanNotResumable, match="before scans kept their inputs"):
        ScanJobs(runtime).resume("s_0123")  # a record from before inputs were kept


def test_an_interrupted_scan_resumes_where_its_results_end(
    settings: Settings, runtime: Runtime, inbox: Path
) -> None:
    """HTTP scans could not be resumed: a restart meant starting again from nothing."""
    settings.scan_root = inbox
    with checked_client(create_app(settings, runtime)) as client:
        job = _finished(client, _start(client, folder="batch").json()["job_id"])
        url = f"/v1/scans/{job['job_id']}"
        refused = client.post(f"{url}/resume", headers=AUTH)
        assert refused.status_code == 409 and "is done" in refused.json()["error"]["message"]
    folder = runtime.settings.data_dir / "scans" / job["job_id"]
    lines = (folder / "results.jsonl").read_text().splitlines(keepends=True)
    (folder / "results.jsonl").write_text(lines[0] + lines[1][:20])  # cut off mid-line
    record = json.loads((folder / "job.json").read_text())
    (folder / "job.json").write_text(json.dumps(record | {"status": "running"}))
    with checked_client(create_app(settings, runtime)) as client:
        stopped = client.get(url, headers=AUTH).json()
        assert (stopped["status"], stopped["scanned"]) == ("interrupted", 1)  # its whole lines
        reviewer = bearer(new_key(client, "reviewer"))
        assert client.post(f"{url}/resume", headers=reviewer).status_code == 200
        again = _finished(client, job["job_id"])
        assert (again["status"], again["scanned"], again["total"]) == ("done", 3, 3)
    paths = [
        json.loads(line)["path"] for line in (folder / "results.jsonl").read_text().splitlines()
    ]
    assert sorted(paths) == sorted(set(paths)) and len(paths) == 3
