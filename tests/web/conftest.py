"""Browser fixtures: the real app (real models, a few bundled gallery works) served by uvicorn
on 127.0.0.1 in a background thread, one per test module, and Debian's chromium driven by
Playwright, one per session. No browser is ever downloaded: without a chromium executable
(or without the playwright package) the tests skip and say what to install."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI

from models.embedder import Embedder
from service.api.app import create_app
from service.bulk import register_sources
from service.registration import from_directory
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from tests.conftest import ADMIN_KEY

if TYPE_CHECKING:  # playwright may be missing: then the browser fixture skips
    from playwright.sync_api import Browser, Page

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCREENSHOTS = Path(__file__).parent / "screenshots"  # ignored by git: look at them after a run
SEED = {  # a small real library: three works of two bundled artists
    "andy-fitzsimon": ("four-wheel-drive.png", "seal.png", "dolphin.png"),
    "juliane-krug": ("gold-envelope.png", "gold-house.png", "gold-pencil.png"),
}
WAIT_MS = 30_000  # a real match takes seconds on a busy CPU
NO_CHROMIUM = (
    "web tests skipped: no chromium executable found; install Debian's chromium "
    "(`apt-get install chromium`, or `make browser` as root) or set CHROMIUM to one. "
    "The tests never download a browser (no `playwright install`)"
)
NO_PLAYWRIGHT = (
    "web tests skipped: the playwright package is missing; install the dev extra "
    "(`pip install -e '.[dev]'`)"
)


def chromium_executable() -> str | None:
    """The system chromium: $CHROMIUM, else `chromium` or `chromium-browser` on the PATH."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


@dataclass(frozen=True)
class Live:
    """A running app: its base URL and the runtime behind it."""

    url: str
    runtime: Runtime

    def key(self, role: str, creator_id: str | None = None) -> str:
        """A new API key made straight in the catalog."""
        return self.runtime.library.keys.create(role, creator_id, "web test", "test")[1]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Embedder, Embedder]:
    """A data dir with the seed works registered by the real models, and those models."""
    data = tmp_path_factory.mktemp("web-seed") / "data"
    runtime = build_runtime(Settings(data_dir=data, _env_file=None))  # type: ignore[call-arg]
    wanted = {f"{c}/{name}" for c, names in SEED.items() for name in names}
    sources = [s for s in from_directory(EXAMPLES / "gallery") if s.work_id in wanted]
    summary = register_sources(runtime.library, runtime.settings, sources)
    assert summary["registered"] == len(wanted), summary
    runtime.library.save()
    embedders = runtime.library.embedders
    return data, embedders["content"], embedders["style"]


@pytest.fixture(scope="module")
def live(
    seeded: tuple[Path, Embedder, Embedder], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """The app on a copy of the seed library (each module changes its own) with a scan root
    of two images, served live."""
    seed, content, style = seeded
    data = tmp_path_factory.mktemp("web") / "data"
    shutil.copytree(seed, data)
    inbox = data.parent / "inbox" / "batch"  # the scan root: a copy and an unrelated photo
    inbox.mkdir(parents=True)
    for name in ("suspect_07.png", "suspect_03.png"):
        shutil.copy(EXAMPLES / "suspects" / name, inbox / name)
    settings = Settings(  # type: ignore[call-arg]
        data_dir=data,
        admin_key=ADMIN_KEY,
        scan_root=inbox.parent,
        rate_limit_per_minute=0,  # a page loads many previews at once; limits have their tests
        _env_file=None,
    )
    runtime = build_runtime(settings, content, style)
    with serving(create_app(settings, runtime)) as url:
        yield Live(url, runtime)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, for the whole session."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip(NO_CHROMIUM)
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip(NO_PLAYWRIGHT)
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable)
        yield chromium
        chromium.close()


@contextmanager
def fresh_page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A page with its own cookies and storage that fails the test on any script error."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh desktop-sized page."""
    with fresh_page(browser, 1280, 900) as fresh:
        yield fresh


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh page at phone width (375 px)."""
    with fresh_page(browser, 375, 800) as fresh:
        yield fresh


def sign_in(page: Page, live: Live, key: str) -> None:
    """Open the page and sign in with `key`."""
    from playwright.sync_api import expect

    page.goto(live.url)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_be_visible()


def shot(page: Page, name: str) -> None:
    """Save a full-page screenshot under tests/web/screenshots/."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
