"""Small previews of images: a registered work's original scaled down (for the web page and
the evidence packet's side-by-side), encoded as PNG. Nothing here knows about HTTP or keys."""

from __future__ import annotations

import io

from PIL import Image

from indexer.errors import WorkNotFound
from indexer.library import NO_LIMITS, Library
from models.images import load_image_file


def png_bytes(image: Image.Image) -> bytes:
    """The image encoded as PNG."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def thumbnail(image: Image.Image, side: int) -> Image.Image:
    """An RGB copy no larger than side x side, aspect ratio kept."""
    small = image.convert("RGB")
    small.thumbnail((side, side))
    return small


def work_image(library: Library, work_id: str) -> Image.Image | None:
    """A work's registered original, or None when it is no longer registered."""
    try:
        work = library.catalog.get(work_id)
        return load_image_file(library.blobs.path(work.sha256), NO_LIMITS).image
    except (WorkNotFound, OSError):
        return None
