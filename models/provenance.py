"""What an image file says about itself: creator, rights and software from EXIF, XMP, IPTC
and PNG text; a C2PA manifest (c2pa-python) when one is embedded; and whether any of them
declares AI generation (C2PA or IPTC digital source type, generator parameters in PNG text).
Reading never fails a load: unreadable metadata is reported as such. Facts only; whether a
named creator agrees with a registration is decided elsewhere."""

from __future__ import annotations

import io
import json
import logging
import struct
from typing import Any

from PIL import ImageFile, IptcImagePlugin

log = logging.getLogger(__name__)
MAX_TEXT = 500  # characters kept of any one metadata value
# What Pillow's metadata parsers raise on malformed input (recorded as unreadable, not fatal).
METADATA_ERRORS = (OSError, SyntaxError, ValueError, KeyError, TypeError, IndexError, struct.error)
AI_SOURCE_TYPES = ("trainedalgorithmicmedia", "compositewithtrainedalgorithmicmedia")
EXIF_TAGS = {315: "creator", 33432: "rights", 305: "software", 270: "description"}
IPTC_TAGS = {(2, 80): "creator", (2, 116): "rights", (2, 110): "credit", (2, 120): "description"}
XMP_KEYS = {  # local name in the XMP tree -> fact
    "creator": "creator",
    "rights": "rights",
    "Credit": "credit",
    "CreatorTool": "software",
    "description": "description",
    "DigitalSourceType": "digital_source_type",
}
PNG_TEXT = {"Author": "creator", "Copyright": "rights", "Software": "software"}
GENERATOR_TEXT = ("parameters", "prompt", "workflow", "invokeai_metadata", "sd-metadata")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:MAX_TEXT]


def _flatten(node: Any, out: dict[str, str]) -> None:
    """Collect XMP values by local name (first one wins; rdf lists become their items)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in XMP_KEYS and XMP_KEYS[key] not in out:
                leaf = _first_leaf(value)
                if leaf:
                    out[XMP_KEYS[key]] = _text(leaf)
            _flatten(value, out)
    elif isinstance(node, list):
        for item in node:
            _flatten(item, out)


def _first_leaf(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("li", "Seq", "Bag", "Alt", "text", "resource"):
            if key in value:
                return _first_leaf(value[key])
    if isinstance(value, list) and value:
        return _first_leaf(value[0])
    return ""


def _exif(opened: ImageFile.ImageFile) -> dict[str, str]:
    exif = opened.getexif()
    return {name: _text(exif[tag]) for tag, name in EXIF_TAGS.items() if exif.get(tag)}


def _iptc(opened: ImageFile.ImageFile) -> dict[str, str]:
    found = IptcImagePlugin.getiptcinfo(opened) or {}
    out = {}
    for key, name in IPTC_TAGS.items():
        raw = found.get(key)
        if raw:
            out[name] = _text(raw[0] if isinstance(raw, list) else raw)
    return out


def _xmp(opened: ImageFile.ImageFile) -> dict[str, str]:
    out: dict[str, str] = {}
    _flatten(opened.getxmp(), out)
    return out


def _png_text(opened: ImageFile.ImageFile) -> dict[str, str]:
    chunks: dict[str, Any] = getattr(opened, "text", None) or {}
    out = {name: _text(chunks[key]) for key, name in PNG_TEXT.items() if chunks.get(key)}
    for key in GENERATOR_TEXT:
        if chunks.get(key) and "generator_parameters" not in out:
            out["generator_parameters"] = f"{key}: {_text(chunks[key])}"
    return out


def metadata(opened: ImageFile.ImageFile) -> dict[str, str]:
    """Creator, rights, credit, software, description and digital source type, from EXIF,
    IPTC, XMP and PNG text (the first source naming a fact wins, in that order); a source
    that cannot be parsed is named under `unreadable_<source>`."""
    facts: dict[str, str] = {}
    readers = (("exif", _exif), ("iptc", _iptc), ("xmp", _xmp), ("png", _png_text))
    for source, reader in readers:
        try:
            found = reader(opened)
        except METADATA_ERRORS as exc:  # damaged metadata is a fact about the file
            facts[f"unreadable_{source}"] = _text(exc)
            continue
        for name, value in found.items():
            facts.setdefault(name, value)
    return facts


def c2pa_manifest(data: bytes, mime: str) -> dict[str, Any] | None:
    """The active C2PA manifest's claim generator, title, signer, validation state and
    actions; None when the file carries none; {"unreadable": why} when it cannot be read."""
    import c2pa  # type: ignore[import-untyped]

    try:
        with c2pa.Reader(mime, io.BytesIO(data)) as reader:
            store = json.loads(reader.json())
            state = reader.get_validation_state()
    except c2pa.C2paError as exc:
        if "ManifestNotFound" in type(exc).__name__:
            return None
        log.info("unreadable C2PA data: %s", exc)
        return {"unreadable": _text(exc)}
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    actions = []
    for assertion in active.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                agent = action.get("softwareAgent")
                actions.append(
                    {
                        "action": _text(action.get("action", "")),
                        "digital_source_type": _text(action.get("digitalSourceType", "")),
                        "software_agent": _text(
                            agent.get("name", "") if isinstance(agent, dict) else agent or ""
                        ),
                    }
                )
    generator = active.get("claim_generator") or ", ".join(
        _text(g.get("name", "")) for g in active.get("claim_generator_info", [])
    )
    signature = active.get("signature_info", {})
    return {
        "claim_generator": _text(generator),
        "title": _text(active.get("title", "")),
        "signed_by": _text(signature.get("issuer", "")),
        "validation_state": _text(state),
        "actions": actions,
    }


def ai_generation(facts: dict[str, str], manifest: dict[str, Any] | None) -> dict[str, Any]:
    """Whether the file declares AI generation, why, and the model it names if any."""
    signals, model = [], ""
    for action in (manifest or {}).get("actions", []):
        if action["digital_source_type"].rsplit("/", 1)[-1].lower() in AI_SOURCE_TYPES:
            signals.append(f"C2PA action {action['action']}: {action['digital_source_type']}")
            model = model or action["software_agent"]
    source = facts.get("digital_source_type", "")
    if source.rsplit("/", 1)[-1].lower() in AI_SOURCE_TYPES:
        signals.append(f"IPTC digital source type: {source}")
    if "generator_parameters" in facts:
        signals.append(f"generator parameters in PNG text ({facts['generator_parameters'][:40]})")
    return {"declared": bool(signals), "signals": signals, "model": model}


MIME = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
}


def read(data: bytes, opened: ImageFile.ImageFile) -> dict[str, Any]:
    """Everything the file says about itself, as `provenance` of a match or registration."""
    facts = metadata(opened)
    manifest = c2pa_manifest(data, MIME.get(str(opened.format), "application/octet-stream"))
    return {"metadata": facts, "c2pa": manifest, "ai_generated": ai_generation(facts, manifest)}
