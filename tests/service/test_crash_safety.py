"""Registration and removal killed with SIGKILL mid-run: after a restart every acknowledged
registration is matchable, every acknowledged removal is gone, and catalog and indexes hold
exactly the same works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from service.calibration import Calibration
from service.runtime import build_runtime
from service.settings import Settings
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing

REPO = Path(__file__).resolve().parents[2]
WORKS = 40
SCRIPT = textwrap.dedent(
    """
    import hashlib, io, sys, time
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from indexer.spaces import Submission
    from service.runtime import open_library
    from service.settings import Settings
    from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing

    class Slow(PixelEmbedder):
        def _embed(self, images):
            time.sleep(0.05)
            return super()._embed(images)

    settings = Settings(data_dir=Path({data!r}), _env_file=None)
    library = open_library(settings, Slow(), HistogramEmbedder())
    for i in range({works}):
        creator = "alice" if i % 2 else "bob"
        work_id = f"{{creator}}/{{i}}.png"
        if {remove!r}:
            library.remove(work_id)
            time.sleep(0.05)  # so the kill can land between or inside removals
        else:
            img = drawing(i, PALETTES[creator])
            buf = io.BytesIO()
            img.save(buf, "PNG")
            data = buf.getvalue()
            sha = hashlib.sha256(data).hexdigest()
            library.register_one(Submission(creator, work_id, img, data, sha, "test"))
        print(work_id, flush=True)  # acknowledged: the call returned
    """
)


def _run_until_killed(tmp_path: Path, remove: bool, after: int) -> list[str]:
    """Start the script, SIGKILL it once `after` works are acknowledged; the acknowledged."""
    script = SCRIPT.format(repo=str(REPO), data=str(tmp_path / "data"), works=WORKS, remove=remove)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 180
    while len(acknowledged) < after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acknowledged += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    assert after <= len(acknowledged) < WORKS, "the kill came after the run finished"
    return acknowledged


def _consistent(settings: Settings, cal: Calibration) -> dict[str, int]:
    """Reopen as a restarted server would; check catalog and indexes agree; active works."""
    library = build_runtime(settings, PixelEmbedder(), HistogramEmbedder(), cal).library
    active = {w.work_id: w.pk for w in library.catalog.active().values()}
    for space, index in library.indexes.items():
        assert set(index.ids().tolist()) == set(active.values()), space
    for work_id, pk in active.items():  # each one is found by its own image
        creator, name = work_id.split("/")
        image = drawing(int(name.removesuffix(".png")), PALETTES[creator])
        vec = library.embedders["content"].embed([image])
        assert library.search("content", vec, 1)[0][0].work.pk == pk
    return active


def test_killed_registration_and_removal_lose_nothing_acknowledged(
    tmp_path: Path, fake_cal: Calibration
) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    registered = _run_until_killed(tmp_path, remove=False, after=12)
    active = _consistent(settings, fake_cal)
    assert set(registered) <= set(active)  # the unacknowledged last one may have committed
    assert len(active) <= len(registered) + 1
    removed = _run_until_killed(tmp_path, remove=True, after=6)
    left = _consistent(settings, fake_cal)
    assert not set(removed) & set(left)  # every acknowledged removal is gone
    assert set(left) <= set(active) and len(left) >= len(active) - len(removed) - 1
