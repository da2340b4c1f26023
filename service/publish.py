"""Published copies: a registered work with an invisible watermark naming its registration
(models/payload.py) and persistent metadata in the file's own format (XMP with creator,
credit, rights and licence from the consent terms and the registration id, EXIF, and text
chunks in PNG), then a C2PA manifest signed with the service's certificate. The
stored original is never changed; every publication is recorded in the catalog and audited.
GIF, BMP and TIFF works are published as PNG. What a copy cannot carry is listed in
`skipped`, with the reason."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, PngImagePlugin

from indexer.blobs import atomic_write
from indexer.catalog import Work
from indexer.library import NO_LIMITS, Library
from models import payload
from models.images import load_image_bytes
from models.provenance import MIME
from models.watermark import METHODS, CannotCarry
from service.c2pa_cert import C2paCredentials
from service.consent import Terms, effective

KEEP_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "MPO": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
JPEG_QUALITY = 95  # the copy is re-encoded once; the watermark must survive that
SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """The watermark secret (32 random bytes, mode 0600), created on first use."""
    if path.is_file():
        secret = path.read_bytes()
        if len(secret) < 16:
            raise ValueError(f"{path} holds {len(secret)} bytes; a watermark secret needs 16+")
        return secret
    secret = secrets.token_bytes(SECRET_BYTES)
    atomic_write(path, secret)
    os.chmod(path, 0o600)
    return secret


@dataclass(frozen=True)
class Published:
    """A published copy: its bytes, type, payload id and the fields it could not carry."""

    data: bytes
    media_type: str
    payload_id: int
    filename: str
    skipped: dict[str, str] = field(default_factory=dict)  # field -> why

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def summary(self, work: Work) -> dict[str, Any]:
        """What the CLI prints and the audit log records."""
        return {
            "work_id": work.work_id,
            "creator_id": work.creator_id,
            "payload_id": self.payload_id,
            "media_type": self.media_type,
            "sha256": self.sha256,
            "skipped": [{"field": k, "reason": v} for k, v in self.skipped.items()],
        }


def rights_of(work: Work, terms: Terms) -> dict[str, str]:
    """The persistent facts of a published copy, from the consent terms in force."""
    rights = terms.licence or f"All rights reserved by {work.creator_id}"
    return {
        "creator": work.creator_id,
        "credit": terms.credit or work.creator_id,
        "rights": rights,
        "licence_url": terms.licence_url,
        "work_id": work.work_id,
    }


def xmp_packet(facts: dict[str, str], payload_id: int) -> bytes:
    """An XMP packet: Dublin Core creator and rights, IPTC credit line (photoshop:Credit),
    XMP rights (usage terms, web statement) and the styletrace registration."""
    e = {k: escape(v) for k, v in facts.items()}
    web = (
        f"<xmpRights:WebStatement>{e['licence_url']}</xmpRights:WebStatement>"
        if e["licence_url"]
        else ""
    )
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/"
    xmlns:styletrace="https://styletrace.dev/ns/1.0/">
   <dc:creator><rdf:Seq><rdf:li>{e["creator"]}</rdf:li></rdf:Seq></dc:creator>
   <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{e["rights"]}</rdf:li></rdf:Alt></dc:rights>
   <photoshop:Credit>{e["credit"]}</photoshop:Credit>
   <xmpRights:Marked>True</xmpRights:Marked>
   <xmpRights:UsageTerms><rdf:Alt>
    <rdf:li xml:lang="x-default">{e["rights"]}</rdf:li>
   </rdf:Alt></xmpRights:UsageTerms>
   {web}
   <styletrace:RegistrationId>{e["work_id"]}</styletrace:RegistrationId>
   <styletrace:PayloadId>{payload_id}</styletrace:PayloadId>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def _exif(facts: dict[str, str]) -> Image.Exif:
    exif = Image.Exif()
    exif[315] = facts["creator"]  # Artist
    exif[33432] = facts["rights"]  # Copyright
    exif[270] = f"styletrace registration {facts['work_id']}"  # ImageDescription
    return exif


def encode(image: Image.Image, media_type: str, facts: dict[str, str], xmp: bytes) -> bytes:
    """The pixels in the copy's format with its metadata."""
    buf = io.BytesIO()
    if media_type == "image/png":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        info.add_text("Author", facts["creator"])
        info.add_text("Copyright", facts["rights"])
        image.save(buf, format="PNG", pnginfo=info, exif=_exif(facts))
    elif media_type == "image/jpeg":
        image.save(buf, format="JPEG", quality=JPEG_QUALITY, exif=_exif(facts), xmp=xmp)
    else:
        image.save(buf, format="WEBP", lossless=True, exif=_exif(facts), xmp=xmp)
    return buf.getvalue()


def c2pa_sign(
    data: bytes,
    media_type: str,
    original: tuple[bytes, str],
    registration: dict[str, Any],
    credentials: C2paCredentials,
) -> bytes:
    """The file with a C2PA manifest: the registered original as its parent ingredient,
    opened and published by styletrace, and the registration the watermark names."""
    import c2pa  # type: ignore[import-untyped]

    manifest = {
        "claim_generator_info": [{"name": "styletrace", "version": "0.1.0"}],
        "title": registration["work_id"],
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}},
                        {"action": "c2pa.published", "softwareAgent": {"name": "styletrace"}},
                    ]
                },
            },
            {"label": "com.styletrace.registration", "data": registration},
        ],
    }
    parent = {"title": registration["work_id"], "relationship": "parentOf", "label": "original"}
    out = io.BytesIO()
    with c2pa.Builder(json.dumps(manifest)) as builder:
        builder.add_ingredient(json.dumps(parent), original[1], io.BytesIO(original[0]))
        builder.sign(credentials.signer(), media_type, io.BytesIO(data), out)
    return out.getvalue()


def publish(
    library: Library,
    work: Work,
    secret: bytes,
    method: str,
    credentials: C2paCredentials,
    actor: str,
) -> Published:
    """Make, record and audit the published copy of an active work."""
    original = library.blobs.get(work.sha256)
    loaded = load_image_bytes(original, NO_LIMITS)
    media_type = KEEP_FORMATS.get(loaded.format, "image/png")
    creator_terms, work_terms = library.catalog.terms_for([work.creator_id], [work.work_id])
    facts = rights_of(work, effective(creator_terms[work.creator_id], work_terms[work.work_id]))
    payload_id = library.published.payload_id(work, method)
    skipped: dict[str, str] = {}
    try:
        image = METHODS[method].embed(loaded.image, payload.encode(secret, payload_id))
    except CannotCarry as exc:
        image, skipped["watermark"] = loaded.image, f"image too small to carry one ({exc})"
    data = encode(image, media_type, facts, xmp_packet(facts, payload_id))
    registration = {
        "work_id": work.work_id,
        "creator_id": work.creator_id,
        "payload_id": payload_id,
        "watermark": "none" if "watermark" in skipped else method,
    }
    parent_type = MIME.get(loaded.format, media_type)
    data = c2pa_sign(data, media_type, (original, parent_type), registration, credentials)
    stem = Path(work.work_id).stem or "work"
    done = Published(data, media_type, payload_id, f"{stem}{EXTENSIONS[media_type]}", skipped)
    library.published.record(work, actor, done.summary(work) | {"method": method})
    return done
