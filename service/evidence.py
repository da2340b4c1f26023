"""Evidence packets: a zip anyone can check offline. It holds the query's bytes and a
thumbnail, a side-by-side image of the query and its top matches, the match result (scores,
calibrated false-match rates, verdicts, thresholds, consent terms in force), and a
`manifest.json` signed with the service's Ed25519 key that lists every file's sha256 with the
model ids (each naming its weights' hash), index snapshot, calibration, audit log head and
times. `styletrace verify PACKET.zip` checks it; `--rematch` re-runs the match."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PIL import Image, ImageDraw

from indexer import audit
from indexer.errors import WorkNotFound
from indexer.library import Library
from models.images import LoadedImage
from service.schemas import MatchResult, WorkMatch
from service.signing import Signer, canonical, check
from service.thumbnails import png_bytes, thumbnail, work_image

VERSION = 1
THUMB = 256
TILE = 200  # side-by-side tile size
SIDE_BY_SIDE_WORKS = 4  # top content matches and top style works shown next to the query
MANIFEST = "manifest.json"
QUERY = "query.bin"


@dataclass(frozen=True)
class Packet:
    """A built packet: its bytes and the sha256 of those bytes."""

    data: bytes
    sha256: str


def side_by_side(library: Library, query: Image.Image, result: MatchResult) -> Image.Image:
    """The query, then its top content matches, then its top style works, labelled; on the
    query, the outline of where verification placed its first content match that has a
    verdict (the copy's place in the picture)."""
    tiles: list[tuple[str, Image.Image | None]] = [("query", query)]
    shown: list[tuple[str, WorkMatch]] = [
        ("content", m) for m in result.content.matches[:SIDE_BY_SIDE_WORKS]
    ] + [("style", m) for m in result.style.matches[:SIDE_BY_SIDE_WORKS]]
    for role, m in shown:
        label = f"{role} {m.verdict}: {m.work_id[:28]}"
        tiles.append((label, work_image(library, m.work_id)))
    canvas = Image.new("RGB", (TILE * len(tiles), TILE + 24), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (label, image) in enumerate(tiles):
        if image is not None:
            small = thumbnail(image, TILE - 8)
            if i == 0 and (placed := _placed(result)):  # drawn on the tile: clipped to it
                f = small.width / image.width
                ImageDraw.Draw(small).polygon(
                    [(x * f, y * f) for x, y in placed], outline="red", width=2
                )
            canvas.paste(small, (i * TILE + (TILE - small.width) // 2, 4))
        else:
            draw.text((i * TILE + 8, TILE // 2), "(no longer registered)", fill="grey")
        draw.text((i * TILE + 4, TILE + 6), label, fill="black")
    return canvas


def _placed(result: MatchResult) -> list[tuple[float, float]]:
    """The placement of the first content match with a verdict, if verification made one."""
    for m in result.content.matches:
        if m.verdict != "none" and m.placement:
            return m.placement
    return []


def build_packet(
    library: Library,
    signer: Signer,
    query: LoadedImage,
    query_bytes: bytes,
    result: MatchResult,
    context: dict[str, Any] | None = None,
) -> Packet:
    """Zip the evidence for one match; `context` (e.g. the claim) goes into the manifest."""
    files = {
        QUERY: query_bytes,
        "query_thumbnail.png": png_bytes(thumbnail(query.image, THUMB)),
        "side_by_side.png": png_bytes(side_by_side(library, query.image, result)),
        "result.json": result.model_dump_json(indent=2).encode(),
    }
    body = {
        "packet_version": VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "query": {
            "sha256": query.sha256,
            "width": query.width,
            "height": query.height,
            "bytes": len(query_bytes),
        },
        "verdicts": {  # upper: the rate on the calibration's measured counts alone (95%)
            part: {"verdict": r.verdict, "calibrated": r.calibrated, "upper": r.upper}
            for part, r in (("content", result.content), ("style", result.style))
        },
        "thresholds": result.thresholds.model_dump(),
        "models": result.models.model_dump(),
        "policy": result.policy.model_dump() if result.policy else None,
        "provenance": result.provenance or {},  # what the query file says about itself
        # works whose styletrace watermark the query carries: content evidence by itself
        "watermarked_works": [m.work_id for m in result.content.matches if m.watermark],
        "audit_head": audit.head(library.catalog.engine),
        "context": context or {},
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(MANIFEST, json.dumps(signer.signed(body), indent=1))
    data = buf.getvalue()
    return Packet(data, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class PacketCheck:
    """What verifying a packet found: the signed manifest body (when readable), the query
    bytes and result, the manifest's signature, and the problems (none: it holds)."""

    problems: list[str]
    body: dict[str, Any]
    query: bytes
    result: dict[str, Any]
    signature: dict[str, Any] = field(default_factory=dict)  # the manifest's, as it reads


def verify_packet(data: bytes, trusted_pem: str | None = None) -> PacketCheck:
    """Check the signature over the manifest, every listed file's sha256, that nothing is
    missing or added, and that the query's hash is the one the manifest and result name."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
        signed = json.loads(zf.read(MANIFEST))
    except (zipfile.BadZipFile, zlib.error, KeyError, ValueError) as exc:
        return PacketCheck([f"not an evidence packet: {exc}"], {}, b"", {})
    signed = signed if isinstance(signed, dict) else {}
    body, signature = part(signed, "body"), part(signed, "signature")
    if not signature or not isinstance(body.get("files"), dict):
        return PacketCheck(["manifest.json is not a signed manifest"], {}, b"", {})
    listed: dict[str, Any] = body["files"]
    problems = []
    if problem := check(canonical(body), signature, trusted_pem):
        problems.append(f"manifest: {problem}")
    for name in sorted(names - set(listed) - {MANIFEST}):
        problems.append(f"{name}: not listed in the signed manifest")
    contents = {}
    for name, digest in sorted(listed.items()):
        if name not in names:
            problems.append(f"{name}: listed but missing")
            continue
        try:
            contents[name] = zf.read(name)
        except (zipfile.BadZipFile, zlib.error) as exc:  # damaged inside the zip
            problems.append(f"{name}: unreadable ({exc})")
            continue
        if hashlib.sha256(contents[name]).hexdigest() != digest:
            problems.append(f"{name}: its sha256 is not the signed one (altered)")
    query = contents.get(QUERY, b"")
    named = query_sha256(body)
    if hashlib.sha256(query).hexdigest() != named:
        problems.append("query.bin: not the query the manifest names")
    try:
        result = json.loads(contents.get("result.json", b"{}"))
    except ValueError:
        result = {}
        problems.append("result.json: not JSON")
    if not isinstance(result, dict):
        result = {}
        problems.append("result.json: not a match result")
    if query_sha256(result) != named:
        problems.append("result.json: about another query than the manifest")
    return PacketCheck(problems, body, query, result, signature)


def query_sha256(doc: dict[str, Any]) -> object:
    """The query's sha256 a manifest body or a result names (None where it names none)."""
    return part(doc, "query").get("sha256")


def part(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """doc[key] where it is an object, else {}: a packet's JSON is read, not trusted."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def rematch_problems(packet: PacketCheck, rerun: MatchResult, tolerance: float = 1e-4) -> list[str]:
    """Differences between the packet's scores and a re-run: every content and style match
    still registered must score the same; the snapshot id says whether the index changed."""
    problems = []
    models = part(packet.result, "models")
    if rerun.models.content != models.get("content"):
        problems.append("the content model differs from the one in the packet")
    if rerun.models.style != models.get("style"):
        problems.append("the style model differs from the one in the packet")
    for role in ("content", "style"):
        now = {m.work_id: m.score for m in getattr(rerun, role).matches}
        for work_id, score in listed_matches(packet, role):
            if score is None:
                problems.append(f"result.json: a {role} match without a score")
            elif work_id in now and abs(now[work_id] - score) > tolerance:
                problems.append(
                    f"{role} score of {work_id}: {now[work_id]:.6f} now, {score:.6f} in the packet"
                )
    return problems


def listed_matches(packet: PacketCheck, role: str) -> list[tuple[str | None, float | None]]:
    """(work id, score) of each `role` match the packet's result lists, None where the
    entry lacks a well-typed one: a packet's JSON is read, not trusted."""
    listed = part(packet.result, role).get("matches")
    out: list[tuple[str | None, float | None]] = []
    for m in listed if isinstance(listed, list) else []:
        m = m if isinstance(m, dict) else {}
        work_id, score = m.get("work_id"), m.get("score")
        if isinstance(score, bool) or not isinstance(score, int | float):
            score = None
        out.append((work_id if isinstance(work_id, str) else None, score))
    return out


def unreached(library: Library, checked: PacketCheck, rerun: MatchResult) -> list[str]:
    """The packet's matches still registered that the re-run did not reach, so whose scores
    it could not check (a removed work is expected to be missing: see `removed_since`)."""
    reached = {m.work_id for m in rerun.content.matches + rerun.style.matches}
    gone = set(removed_since(library, checked))
    return [
        f"{work_id} is still registered but the re-run did not reach it"
        for work_id in sorted(listed_work_ids(checked) - reached - gone)
    ]


def removed_since(library: Library, checked: PacketCheck) -> list[str]:
    """The packet's matched works no longer registered: a re-run cannot check them."""
    gone = []
    for work_id in sorted(listed_work_ids(checked)):
        try:
            library.catalog.get(work_id)
        except WorkNotFound:
            gone.append(work_id)
    return gone


def listed_work_ids(checked: PacketCheck) -> set[str]:
    """Every work id the packet's result lists, content and style."""
    return {
        work_id
        for role in ("content", "style")
        for work_id, _ in listed_matches(checked, role)
        if work_id is not None
    }
