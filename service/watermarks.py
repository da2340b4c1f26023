"""Watermarks found in a query, as `provenance.watermarks` entries: the styletrace payload
traced to its work through the catalog (a removed work is reported as removed, an id never
issued is not reported), and generators' watermarks as an AI-generation signal. Payloads are
read with the configured method and with every other method the catalog has issued payload
ids under, so copies published before a change of method are still traced. Also the query's
provenance with them, and the works whose watermark it carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from indexer.published import PublishedStore
from models import marks
from models.images import LoadedImage
from models.stages import stage
from models.watermark import METHODS

REMOVED_SUFFIX = "#removed-"  # catalog.add renames a tombstone whose id is reused


@dataclass(frozen=True)
class WatermarkReader:
    """Reads every watermark of a query with the service's secret and method."""

    published: PublishedStore
    secret: bytes
    method: str

    def methods(self) -> list[str]:
        """The configured method first, then the others published copies were made with."""
        issued = sorted(m for m in self.published.methods() if m in METHODS)
        return list(dict.fromkeys([self.method, *issued]))

    def read(self, image: Image.Image) -> list[dict[str, Any]]:
        """One entry per watermark found, styletrace's first."""
        methods = self.methods()
        with stage("watermarks"):
            found = marks.read(image, self.secret, methods)
        rate = marks.false_positive_rate(methods)
        out = []
        for f in found:
            if f.kind != "styletrace":
                out.append(
                    {
                        "kind": f.kind,
                        "generator": f.kind,
                        "ai_generated": True,
                        "confidence": f.confidence,
                        "bit_errors": f.bit_errors,
                        "detail": f.detail,
                    }
                )
                continue
            work = self.published.work_of(f.payload_id) if f.payload_id is not None else None
            if work is None:
                continue  # a valid checksum on an id never issued: chance, not a mark
            out.append(
                {
                    "kind": "styletrace",
                    "work_id": work.work_id.split(REMOVED_SUFFIX)[0],
                    "creator_id": work.creator_id,
                    "payload_id": f.payload_id,
                    "removed": work.removed_at is not None,
                    "confidence": f.confidence,
                    "false_positive_rate": rate,
                    "method": f.method,
                    "bit_errors": f.bit_errors,
                }
            )
        return out


def provenance_of(
    query: LoadedImage, watermarks: list[dict[str, Any]] | None = None
) -> dict[str, Any] | None:
    """The query's own provenance facts, with the watermarks found in its pixels."""
    if query.provenance is None and not watermarks:
        return None
    return {"watermarks": watermarks or [], **(query.provenance or {})}


def watermarked_works(watermarks: list[dict[str, Any]]) -> dict[str, float]:
    """Active works whose styletrace watermark the query carries, with the chance that an
    unwatermarked image would read as carrying one."""
    return {
        w["work_id"]: w["false_positive_rate"]
        for w in watermarks
        if w["kind"] == "styletrace" and not w["removed"]
    }
