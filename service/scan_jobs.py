"""Scan jobs for the HTTP API: a folder under the configured scan root (or a list of paths
under it) scanned in the background by service/scan.py, one job at a time, into
DATA_DIR/scans/<job_id>/results.jsonl. A job's record (job.json) and what it reads
(inputs.json) survive restarts; a job cut off by one is reported as interrupted, and an
interrupted or failed job resumes where its results end. Paths are checked to stay inside
the scan root: no absolute paths, no '..', no symlinks leading out."""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from indexer.blobs import atomic_write
from service.registration import csv_rows, utf8_lines
from service.runtime import Runtime
from service.scan import run_scan, scan_inputs, unique
from service.scan_report import RowIndex, Show, summarise

log = logging.getLogger(__name__)
Status = Literal["queued", "running", "done", "failed", "interrupted"]
MAX_MANIFEST_ROWS = 1_000_000


class ScanPathError(ValueError):
    """A path that is not inside the scan root, or names nothing there."""


class ScanNotFound(LookupError):
    """No scan job with this id."""


class ScanNotResumable(ValueError):
    """The job is not interrupted or failed, or what it read was not kept."""


class ScanNotCancellable(ValueError):
    """The job is not queued or running."""


class ScanCancelled(Exception):
    """Raised between batches of a running job someone cancelled."""


def under_root(root: Path, relative: str) -> Path:
    """`relative` resolved inside `root`, its backslashes read as Windows' separators unless a
    file is named with them; ScanPathError for absolute paths, '..' or a path that leaves the
    root through a symlink."""
    literal = _inside(root, relative.strip(), relative)
    if "\\" not in relative or literal.exists():
        return literal
    return _inside(root, relative.strip().replace("\\", "/"), relative)


def _inside(root: Path, text: str, relative: str) -> Path:
    rel = PurePosixPath(text)
    if "\x00" in relative or rel.is_absolute() or ".." in rel.parts:
        raise ScanPathError(
            f"{relative[:200]!r}: give a path relative to the scan root, without '..'"
        )
    resolved = (root / rel).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ScanPathError(f"{relative[:200]!r} leads outside the scan root")
    return resolved


def _manifest_line(line: int) -> str:
    return f"manifest line {line}"


def manifest_paths(data: bytes, root: Path) -> list[Path]:
    """The `path` column of an uploaded CSV manifest (UTF-8), each resolved inside the scan
    root."""
    paths: list[Path] = []
    try:
        rows = csv_rows(utf8_lines([data], _manifest_line), {"path"}, _manifest_line)
        for line, row in rows:
            if len(paths) == MAX_MANIFEST_ROWS:
                raise ScanPathError(f"a scan manifest may list at most {MAX_MANIFEST_ROWS} paths")
            try:
                paths.append(under_root(root, row["path"] or ""))
            except ScanPathError as exc:
                raise ScanPathError(f"manifest line {line}: {exc}") from exc
    except ScanPathError:
        raise
    except ValueError as exc:  # not a CSV with a path column
        raise ScanPathError(str(exc)) from exc
    if not paths:
        raise ScanPathError("the manifest lists no paths")
    return paths


@dataclass
class ScanJob:
    """One scan: what it reads, who asked, and how far it got."""

    job_id: str
    source: str  # what the person asked for: "folder <relative path>" or "manifest <name>"
    created_by: str
    created_at: str
    top_k: int | None = None
    status: Status = "queued"
    total: int | None = None  # known once the inputs are listed
    scanned: int = 0
    finished_at: str | None = None
    message: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    not_images: dict[str, int] = field(default_factory=dict)  # a folder's other files, by suffix
    outside_root: int = 0  # a folder's links to files outside the scan root, left out
    repeated: int = 0  # a list's paths naming a file it named before, left out


def _complete_lines(path: Path) -> int:
    """How many whole lines a results file holds (0 when there is none)."""
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


INDEXED_JOBS = 8  # jobs whose row offsets are kept for paging (8 bytes a row and list)


class ScanJobs:
    """The jobs of one data directory, run by one background thread, oldest first."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.dir = runtime.settings.data_dir / "scans"
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[ScanJob, list[Path] | Path, object]] = queue.Queue()
        self._tickets: dict[str, object] = {}  # job -> its queue entry that may still run
        self._cancelled: dict[str, str] = {}  # running job -> who cancelled it
        self._worker: threading.Thread | None = None
        self._jobs = {job.job_id: job for job in self._load()}
        self._indexes: OrderedDict[str, RowIndex] = OrderedDict()  # the jobs paged lately

    def _load(self) -> list[ScanJob]:
        jobs = []
        for record in sorted(self.dir.glob("s_*/job.json")):
            job = ScanJob(**json.loads(record.read_text()))
            if job.status in ("queued", "running"):  # its process ended before it did
                when = "before this scan started" if job.status == "queued" else "during this scan"
                job.status, job.message = "interrupted", f"the server stopped {when}; resume it"
                job.scanned = _complete_lines(self.results(job.job_id))  # written before
            jobs.append(job)
        return jobs

    def submit(
        self, inputs: list[Path] | Path, source: str, actor: str, top_k: int | None
    ) -> ScanJob:
        """Queue a scan of a folder (a Path) or of listed files."""
        job = ScanJob(f"s_{secrets.token_hex(6)}", source, actor, _now(), top_k)
        kept = (
            {"folder": str(inputs)}
            if isinstance(inputs, Path)
            else {"paths": list(map(str, inputs))}
        )
        atomic_write(self.dir / job.job_id / "inputs.json", json.dumps(kept).encode())
        with self._lock:
            self._jobs[job.job_id] = job
            self._save(job)
            self._enqueue(job, inputs)
        return job

    def resume(self, job_id: str) -> ScanJob:
        """Queue an interrupted or failed job again: it scans what its results lack."""
        record = self.dir / job_id / "inputs.json"
        with self._lock:
            job = self._held(job_id, ("interrupted", "failed"), ScanNotResumable, "resumes")
            if not record.is_file():
                raise ScanNotResumable(
                    f"scan {job_id} was started before scans kept their inputs; start it again"
                )
            kept = json.loads(record.read_text())
            inputs = Path(kept["folder"]) if "folder" in kept else [Path(p) for p in kept["paths"]]
            job.status, job.message, job.finished_at = "queued", "", None
            self._save(job)
            self._enqueue(job, inputs)
            return ScanJob(**asdict(job))

    def cancel(self, job_id: str, actor: str) -> ScanJob:
        """Stop a queued job, or a running one after the batch in hand: it ends interrupted,
        its results kept, and resumes as an interrupted job does."""
        with self._lock:
            job = self._held(job_id, ("queued", "running"), ScanNotCancellable, "cancels")
            if job.status == "queued":
                self._tickets.pop(job_id, None)  # its queue entry is passed over
                when = "before it resumed" if job.scanned else "before it started"
                job.status, job.finished_at = "interrupted", _now()
                job.message = f"cancelled by {actor} {when}; resume it to scan"
            else:
                self._cancelled[job_id] = actor
                job.message = f"cancelled by {actor}: it stops after the images in hand"
            self._save(job)
            return ScanJob(**asdict(job))

    def _held(
        self, job_id: str, statuses: tuple[str, str], refused: type[ValueError], does: str
    ) -> ScanJob:
        """The job (the lock held) when it is in one of `statuses`; else `refused` says so."""
        job = self._jobs.get(job_id)
        if job is None:
            raise ScanNotFound(f"no scan job with id {job_id[:40]!r}")
        if job.status not in statuses:
            which = f"{'an' if statuses[0][0] in 'aeiou' else 'a'} {' or '.join(statuses)}"
            raise refused(f"scan {job_id} is {job.status}; only {which} scan {does}")
        return job

    def _enqueue(self, job: ScanJob, inputs: list[Path] | Path) -> None:
        """Queue a job (the lock held), starting the worker thread on first use."""
        ticket = self._tickets[job.job_id] = object()
        self._queue.put((job, inputs, ticket))
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="scans", daemon=True)
            self._worker.start()

    def get(self, job_id: str) -> ScanJob:
        with self._lock:
            if job_id not in self._jobs:
                raise ScanNotFound(f"no scan job with id {job_id[:40]!r}")
            return ScanJob(**asdict(self._jobs[job_id]))

    def all(self) -> list[ScanJob]:
        """Every job, newest first."""
        with self._lock:
            jobs = [ScanJob(**asdict(j)) for j in self._jobs.values()]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)

    def results(self, job_id: str) -> Path:
        return self.dir / job_id / "results.jsonl"

    def rows(
        self, job_id: str, show: Show, offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many result rows so far `show` holds, and `limit` of them from `offset`."""
        self.get(job_id)  # ScanNotFound
        out = self.results(job_id)
        if not out.exists():
            return 0, []
        with self._lock:
            index = self._indexes.pop(job_id, None) or RowIndex()
            self._indexes[job_id] = index  # the latest last
            while len(self._indexes) > INDEXED_JOBS:
                self._indexes.popitem(last=False)
        return index.page(out, show, offset, limit)

    def _save(self, job: ScanJob) -> None:
        atomic_write(self.dir / job.job_id / "job.json", json.dumps(asdict(job)).encode())

    def _update(self, job: ScanJob, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(job, name, value)
            self._save(job)

    def _work(self) -> None:
        while True:
            job, inputs, ticket = self._queue.get()
            with self._lock:
                if self._tickets.get(job.job_id) is not ticket:  # cancelled while queued
                    continue
                del self._tickets[job.job_id]
            try:
                self._run(job, inputs)
            except ScanCancelled:
                with self._lock:
                    actor = self._cancelled.pop(job.job_id, "someone")
                message = f"cancelled by {actor}; resume it to scan the rest"
                self._update(job, status="interrupted", message=message, finished_at=_now())
            except Exception as exc:  # recorded on the job for the person who asked
                log.exception("scan %s failed", job.job_id)
                self._update(job, status="failed", message=str(exc), finished_at=_now())
            finally:
                with self._lock:  # a cancel that came as it ended
                    self._cancelled.pop(job.job_id, None)

    def _run(self, job: ScanJob, inputs: list[Path] | Path) -> None:
        self._update(job, status="running")
        not_images: Counter[str] = Counter()
        found = self._listed(inputs, not_images) if isinstance(inputs, Path) else (inputs, 0)
        paths, outside = [p for p, _ in unique(found[0])], found[1]
        out = self.results(job.job_id)
        listed = {
            "total": len(paths),
            "repeated": len(found[0]) - len(paths),
            "not_images": dict(sorted(not_images.items())),
            "outside_root": outside,
        }
        self._update(job, **listed, scanned=_complete_lines(out))  # a resume: its lines

        def advanced(n: int) -> None:
            with self._lock:
                job.scanned += n
                if job.job_id in self._cancelled:
                    raise ScanCancelled

        run_scan(self.runtime, paths, out, job.top_k, on_batch=advanced)
        done = {"summary": summarise(out), "finished_at": _now(), "message": ""}  # a late cancel's
        self._update(job, status="done", **done)

    def _listed(self, folder: Path, not_images: Counter[str]) -> tuple[list[Path], int]:
        """The folder's images, and how many it left out as reached through a symlink out of
        the scan root (its other files are counted in `not_images`)."""
        inside = (self.runtime.settings.scan_root or folder).resolve()
        listed = list(scan_inputs(str(folder), not_images=not_images))
        kept = [p for p in listed if p.resolve().is_relative_to(inside)]
        return kept, len(listed) - len(kept)
