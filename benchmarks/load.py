"""The served API under load (issue 6, item 5) and a soak run (issue 7, item 6): `styletrace
serve` in its own process on 127.0.0.1 with N registered works, hit by concurrent clients
posting /v1/match for a fixed time. Reports requests served, throughput, p50/p99 latency,
error rate, requests shed with 503, and the server's memory at the start and the end. Writes
the `load` (or `soak`) section of benchmarks/PERF.md.

    python -m benchmarks.load --works 10000 --seconds 120
    python -m benchmarks.load --works 30 --seconds 600 --section soak

The bundled gallery is registered with the real models; the other N-30 works get random
vectors through the one registration path (benchmarks/synthetic.py), so the index, catalog
and verification hold N works while queries go through the real models."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.report import PERF, machine, table, write_section
from benchmarks.synthetic import populate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KEY = "load-benchmark-admin-key"


@dataclass
class Tally:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)  # seconds, answered 2xx
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0  # no answer at all: connection errors, client timeouts

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def rss_mib(pid: int) -> float:
    """Resident memory of a process, MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """`styletrace serve` in its own process; returns once /readyz answers 200."""
    env = os.environ | {
        "STYLETRACE_DATA_DIR": str(data_dir),
        "STYLETRACE_ADMIN_KEY": KEY,
        "STYLETRACE_PORT": str(port),
        "STYLETRACE_RATE_LIMIT_PER_MINUTE": "0",  # capacity is measured here, not abuse limits
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "styletrace"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,  # one access-log line per request
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before it was ready")
        time.sleep(1)
    proc.kill()
    raise RuntimeError("the server was not ready within 10 minutes")


async def client(url: str, bodies: list[bytes], until: float, tally: Tally, seed: int) -> None:
    """One user: post a random suspect, wait for the answer, repeat until `until`."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(timeout=60) as http:
        while time.monotonic() < until:
            body = rng.choice(bodies)
            started = time.monotonic()
            try:
                resp = await http.post(url, files={"image": ("q.png", body)}, headers=headers)
            except httpx.HTTPError:
                tally.failures += 1
                continue
            tally.count(resp.status_code)
            if resp.status_code == 200:
                tally.latencies.append(time.monotonic() - started)
            elif resp.status_code == 503:  # shed: back off as Retry-After says
                await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))


def run_load(port: int, users: int, seconds: float) -> tuple[Tally, float]:
    """Drive `users` concurrent clients for `seconds`; returns the tally and the wall time."""
    bodies = [p.read_bytes() for p in sorted((EXAMPLES / "suspects").glob("*.png"))]
    tally = Tally()
    url = f"http://127.0.0.1:{port}/v1/match"

    async def main() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(client(url, bodies, until, tally, i) for i in range(users)))

    started = time.monotonic()
    asyncio.run(main())
    return tally, time.monotonic() - started


def measure(works: int, users: list[int], seconds: float, port: int) -> list[dict[str, Any]]:
    """Populate a fresh data dir with `works` works, serve it, and load it with each number
    of concurrent clients in turn."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        started = time.perf_counter()
        populate(data_dir, works, EXAMPLES / "gallery")
        populate_s = time.perf_counter() - started
        proc = serve(data_dir, port)
        try:
            for n in users:
                run_load(port, n, min(30.0, seconds / 10))  # warm-up: lazy set-up, arenas
                rss_start = rss_mib(proc.pid)
                tally, wall = run_load(port, n, seconds)
                rows.append(summarise(tally, wall, works, n, populate_s))
                rows[-1] |= {"rss_start_mib": rss_start, "rss_end_mib": rss_mib(proc.pid)}
                rows[-1]["rss_growth"] = rows[-1]["rss_end_mib"] / rss_start - 1
                print(rows[-1], flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=120)
    return rows


def summarise(
    tally: Tally, wall: float, works: int, users: int, populate_s: float
) -> dict[str, Any]:
    """One row of the results table."""
    answered = sum(tally.statuses.values())
    ok = tally.statuses.get(200, 0)
    shed = tally.statuses.get(503, 0)
    errors = answered - ok - shed + tally.failures
    ms = np.asarray(tally.latencies) * 1000 if tally.latencies else np.asarray([np.nan])
    return {
        "works": works,
        "users": users,
        "seconds": round(wall, 1),
        "populate_s": round(populate_s, 1),
        "requests": answered + tally.failures,
        "served_200": ok,
        "throughput_per_s": ok / wall,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "shed_503": shed,
        "errors": errors,
        "error_rate": errors / max(1, answered + tally.failures),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "load_average": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def render(rows: list[dict[str, Any]], section: str) -> str:
    title = {
        "load": "## API under load (issue 6, item 5)",
        "soak": "## Soak (issue 7, item 6)",
    }[section]
    return "\n\n".join(
        [
            title,
            f"{machine()}; `styletrace serve` (default settings: 2 inference workers, at most "
            "64 requests queued or 10 s of expected wait; no rate limits) on 127.0.0.1, "
            "clients posting the bundled suspects to "
            "/v1/match. Errors count every answer other than 200 and 503 (shed with "
            "Retry-After, which clients honour), and requests with no answer. Memory is the "
            "server's resident set after a warm-up with the same clients (a tenth of the run, "
            "at most 30 s) and at the end. Load average at the end of each run: "
            + "; ".join(
                f"{r['works']} works, {r['users']} users: {r['load_average']}" for r in rows
            )
            + ".",
            table(
                [
                    "works",
                    "users",
                    "seconds",
                    "requests",
                    "served/s",
                    "p50 ms",
                    "p99 ms",
                    "shed 503",
                    "error rate",
                    "RSS start MiB",
                    "RSS end MiB",
                    "RSS growth",
                ],
                [
                    [
                        r["works"],
                        r["users"],
                        r["seconds"],
                        r["requests"],
                        r["throughput_per_s"],
                        f"{r['p50_ms']:.0f}",
                        f"{r['p99_ms']:.0f}",
                        r["shed_503"],
                        r["error_rate"],
                        f"{r['rss_start_mib']:.0f}",
                        f"{r['rss_end_mib']:.0f}",
                        f"{r['rss_growth']:+.1%}",
                    ]
                    for r in rows
                ],
            ),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--works", type=int, nargs="+", default=[10_000])
    parser.add_argument("--users", type=int, nargs="+", default=[8])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--section", choices=("load", "soak"), default="load")
    args = parser.parse_args(argv)
    rows = []
    for works in args.works:
        rows += measure(works, args.users, args.seconds, args.port)
    write_section(args.section, render(rows, args.section), {"rows": rows}, PERF)
    print(render(rows, args.section))


if __name__ == "__main__":
    main()
