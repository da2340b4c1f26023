"""The web page for creators, reviewers and platforms: `GET /` answers the page, `/web/*` its
scripts and styles (files in service/web/, no build step, nothing fetched from elsewhere). The
page calls the /v1 API with the key a person signs in with; it holds no secrets itself."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
PAGE_HEADERS = {
    # Only this server's own scripts, styles and images (blob: for previews fetched with the key).
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def page() -> FileResponse:
    """The single page; its sections are chosen in the browser."""
    return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


def install(app: FastAPI) -> None:
    """Serve the page at `/` and its files under `/web/`."""
    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")
