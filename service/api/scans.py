"""`/v1/scans`: batch scans over HTTP for admins and reviewers. Start one on a folder under
STYLETRACE_SCAN_ROOT or on an uploaded CSV manifest of paths under it, watch its progress,
page through its hits (or errors), preview a scanned image, and export the results as CSV.
Paths in answers are relative to the scan root; the server's own layout is not shown."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from models.images import load_image_file
from service.api.auth import Caller, allow
from service.api.deps import MAX_OFFSET, Inference, get_inference, get_settings, read_upload
from service.api.errors import ApiError
from service.api.forms import ONCE
from service.scan_jobs import ScanJob, ScanJobs, ScanPathError, manifest_paths, under_root
from service.scan_report import CSV_COLUMNS, Show, file_name, flat_rows
from service.schemas import ErrorResponse
from service.settings import Settings
from service.thumbnails import png_bytes, thumbnail

router = APIRouter(prefix="/v1/scans", tags=["scans"])
SettingsDep = Annotated[Settings, Depends(get_settings)]


class ScanJobOut(BaseModel):
    job_id: str
    source: str
    created_by: str
    created_at: datetime
    top_k: int | None
    status: Literal["queued", "running", "done", "failed", "interrupted"]
    total: int | None = Field(description="images to scan, once listed")
    scanned: int
    finished_at: datetime | None
    message: str = Field(description="why a scan failed or was interrupted")
    summary: dict[str, Any] = Field(description="counts per verdict, top creators, errors")
    not_images: dict[str, int] = Field(
        default_factory=dict, description="files in the folder left out as not images, by suffix"
    )
    outside_root: int = Field(
        0, description="links in the folder to files outside the scan root, left out"
    )
    repeated: int = Field(
        0, description="paths a manifest lists again (or by another spelling), left out"
    )


class ScanJobList(BaseModel):
    scan_root: bool = Field(description="whether STYLETRACE_SCAN_ROOT is set (else no scans)")
    jobs: list[ScanJobOut]


class ScanRows(BaseModel):
    job_id: str
    show: str
    offset: int
    limit: int
    total: int = Field(description="rows of this kind so far")
    rows: list[dict[str, Any]] = Field(description="flattened like the CSV export")


def get_scans(request: Request) -> ScanJobs:
    scans: ScanJobs | None = request.app.state.scans
    if scans is None:
        raise ApiError(503, "not_ready", "not ready: still loading", {"Retry-After": "5"})
    return scans


ScansDep = Annotated[ScanJobs, Depends(get_scans)]


def scan_root(settings: Settings) -> Path:
    if settings.scan_root is None:
        raise ApiError(
            409,
            "scans_disabled",
            "this server has no scan root: set STYLETRACE_SCAN_ROOT to the folder scans may read",
        )
    return settings.scan_root.resolve()


def job_out(job: ScanJob, settings: Settings) -> ScanJobOut:
    """A job as answered: paths in its summary and message shown relative to the scan root
    (or the data directory), not as the server lays them out."""
    places = [p.resolve() for p in (settings.scan_root, settings.data_dir) if p]
    unrooted = {
        "summary": _unrooted(job.summary, places),
        "message": _unrooted(job.message, places),
    }
    return ScanJobOut.model_validate(job.__dict__ | unrooted)


def _unrooted(value: Any, places: list[Path]) -> Any:
    """`value` (text, or lists and objects of it) with each of `places`' prefix taken off
    the paths it quotes."""
    if isinstance(value, str):
        for place in places:
            value = value.replace(f"{place}/", "")
        return value
    if isinstance(value, dict):
        return {k: _unrooted(v, places) for k, v in value.items()}
    return [_unrooted(v, places) for v in value] if isinstance(value, list) else value


def _relative(root: Path | None, path: str) -> str:
    """A scanned path as the person named it: relative to the scan root."""
    try:
        return Path(path).relative_to(root).as_posix() if root else Path(path).name
    except ValueError:
        return Path(path).name


def _as_named(root: Path | None, row: dict[str, Any]) -> dict[str, Any]:
    """A result row with its path, and any path its error message quotes, relative to the
    scan root: answers do not show the server's layout."""
    out = {**row, "path": _relative(root, row["path"])}
    if root is not None and row.get("error"):
        out["error"] = _unrooted(str(row["error"]), [root])
    return out


@router.post("", status_code=201, dependencies=ONCE, responses={409: {"model": ErrorResponse}})
async def start_scan(
    settings: SettingsDep,
    scans: ScansDep,
    caller: Caller,
    folder: Annotated[str | None, Form(description="a folder, relative to the scan root")] = None,
    manifest: Annotated[
        UploadFile | None, File(description="a CSV with a 'path' column (relative paths)")
    ] = None,
    top_k: Annotated[int | None, Form(ge=1)] = None,
) -> ScanJobOut:
    """Start a background scan of a folder or of a manifest's paths (exactly one of them)."""
    allow(caller, "admin", "reviewer")
    root = scan_root(settings)
    if (folder is None) == (manifest is None):
        raise ApiError(422, "invalid_request", "send exactly one of 'folder' or 'manifest'")
    if top_k is not None and top_k > settings.max_top_k:
        raise ApiError(422, "invalid_request", f"'top_k' must be at most {settings.max_top_k}")
    if manifest is not None:
        data = await read_upload(manifest, settings.max_upload_bytes)
        source = f"manifest {manifest.filename or ''}".strip()

        def listed() -> ScanJob:  # a big list takes seconds: off the event loop
            return scans.submit(manifest_paths(data, root), source, caller.actor, top_k)

        return job_out(await anyio.to_thread.run_sync(listed), settings)
    assert folder is not None
    target = under_root(root, folder)
    if not target.is_dir():
        raise ScanPathError(f"there is no folder {folder[:200]!r} under the scan root")
    job = scans.submit(target, f"folder {folder.strip() or '.'}", caller.actor, top_k)
    return job_out(job, settings)


@router.get("")
def list_scans(settings: SettingsDep, scans: ScansDep, caller: Caller) -> ScanJobList:
    """Scan jobs, newest first."""
    allow(caller, "admin", "reviewer")
    return ScanJobList(
        scan_root=settings.scan_root is not None, jobs=[job_out(j, settings) for j in scans.all()]
    )


@router.get("/preview", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def preview(
    settings: SettingsDep,
    inference: Annotated[Inference, Depends(get_inference)],
    caller: Caller,
    path: Annotated[str, Query(max_length=4096, description="relative to the scan root")],
    size: Annotated[int, Query(ge=16, le=512)] = 256,
) -> Response:
    """A scanned image (any image under the scan root), scaled down, as PNG."""
    allow(caller, "admin", "reviewer")
    image_path = under_root(scan_root(settings), path)
    if not image_path.is_file():  # a name that is not UTF-8, as a scan's rows escape it
        image_path = under_root(scan_root(settings), file_name(path))
    if not image_path.is_file():  # named as asked: the server's own layout is not shown
        raise ApiError(404, "not_found", f"no file {path[:200]!r} under the scan root")

    def render() -> bytes:
        return png_bytes(thumbnail(load_image_file(image_path, settings.limits).image, size))

    data = await inference.run("scan_preview", render)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


@router.get("/{job_id}", responses={404: {"model": ErrorResponse}})
def get_scan(job_id: str, settings: SettingsDep, scans: ScansDep, caller: Caller) -> ScanJobOut:
    """One job, with its progress (scanned of total) and, once done, its summary."""
    allow(caller, "admin", "reviewer")
    return job_out(scans.get(job_id), settings)


@router.post(
    "/{job_id}/resume", responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}}
)
def resume_scan(job_id: str, settings: SettingsDep, scans: ScansDep, caller: Caller) -> ScanJobOut:
    """Queue an interrupted or failed scan again; it scans only what its results lack."""
    allow(caller, "admin", "reviewer")
    return job_out(scans.resume(job_id), settings)


@router.post(
    "/{job_id}/cancel", responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}}
)
def cancel_scan(job_id: str, settings: SettingsDep, scans: ScansDep, caller: Caller) -> ScanJobOut:
    """Stop a queued or running scan (a running one after the images in hand); it ends
    interrupted with its results kept, and resumes like any interrupted scan."""
    allow(caller, "admin", "reviewer")
    return job_out(scans.cancel(job_id, caller.actor), settings)


@router.get("/{job_id}/rows", responses={404: {"model": ErrorResponse}})
def scan_rows(
    job_id: str,
    settings: SettingsDep,
    scans: ScansDep,
    caller: Caller,
    show: Annotated[Show, Query()] = "hits",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ScanRows:
    """The results so far: hits (a content or style verdict of match or possible), errors,
    or all, in scan order."""
    allow(caller, "admin", "reviewer")
    root = settings.scan_root.resolve() if settings.scan_root else None
    total, rows = scans.rows(job_id, show, offset, limit)
    page = [_as_named(root, r) for r in rows]
    return ScanRows(job_id=job_id, show=show, offset=offset, limit=limit, total=total, rows=page)


@router.get(
    "/{job_id}/results.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, 404: {"model": ErrorResponse}},
)
def scan_csv(job_id: str, settings: SettingsDep, scans: ScansDep, caller: Caller) -> Response:
    """Every result so far as CSV, one row per image (the CLI's `scan --csv` columns)."""
    allow(caller, "admin", "reviewer")
    scans.get(job_id)
    root = settings.scan_root.resolve() if settings.scan_root else None

    def chunks() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, CSV_COLUMNS)
        writer.writeheader()
        for row in _rows(scans, job_id):
            writer.writerow(_as_named(root, row))
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        yield buf.getvalue()

    disposition = f'attachment; filename="{job_id}.csv"'
    return StreamingResponse(
        chunks(), media_type="text/csv", headers={"Content-Disposition": disposition}
    )


def _rows(scans: ScanJobs, job_id: str) -> Iterator[dict[str, Any]]:
    out = scans.results(job_id)
    return flat_rows(out) if out.exists() else iter(())
