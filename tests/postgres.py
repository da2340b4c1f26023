"""A throwaway PostgreSQL server for tests: initdb into a temporary folder, listening only
on a Unix socket, run as the `postgres` system user when the tests run as root. Where no
server can start, `start` says why so the tests skip with that message."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PORT = 55432


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an SQLAlchemy URL of a fresh server; raise RuntimeError(why) if none starts."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("the psycopg driver is not installed") from exc
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root and there is no 'postgres' user") from exc
        prefix = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="styletrace-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if owner is not None:
        for path in (root, sock):
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-300:]}")

    try:
        run(initdb, "-D", str(data), "-U", "styletrace", "--auth=trust", "-E", "UTF8")
        options = f"-p {PORT} -k {sock} -c listen_addresses='' -c fsync=off"
        run(pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc}") from exc
    try:
        yield f"postgresql+psycopg://styletrace@/postgres?host={sock}&port={PORT}"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
