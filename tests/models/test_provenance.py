"""Provenance read on load: EXIF, IPTC-in-XMP, PNG text and C2PA facts, AI-generation
declarations, and damaged metadata that never fails a load."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from models.errors import ImageError
from models.images import load_image_bytes
from tests.c2pa_signing import AI_SOURCE, with_manifest

XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">
<rdf:Description rdf:about=""
 Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia">
<dc:creator><rdf:Seq><rdf:li>Jean-Victor Balin</rdf:li></rdf:Seq></dc:creator>
<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">CC0</rdf:li></rdf:Alt></dc:rights>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def _image() -> Image.Image:
    return Image.new("RGB", (48, 32), (200, 40, 40))


def _jpeg(**save: object) -> bytes:
    buf = io.BytesIO()
    _image().save(buf, "JPEG", **save)
    return buf.getvalue()


def _png(text: dict[str, str]) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value)
    buf = io.BytesIO()
    _image().save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def test_plain_files_say_nothing() -> None:
    facts = load_image_bytes(_jpeg()).provenance
    assert facts == {
        "metadata": {},
        "c2pa": None,
        "ai_generated": {"declared": False, "signals": [], "model": ""},
    }


def test_exif_creator_rights_and_software() -> None:
    exif = Image.Exif()
    exif[315], exif[33432], exif[305] = "Alice Liddell", "(c) 2024 Alice", "Krita 5"
    facts = load_image_bytes(_jpeg(exif=exif)).provenance or {}
    assert facts["metadata"] == {
        "creator": "Alice Liddell",
        "rights": "(c) 2024 Alice",
        "software": "Krita 5",
    }


def test_xmp_creator_and_an_iptc_ai_source_type() -> None:
    facts = load_image_bytes(_png({"XML:com.adobe.xmp": XMP})).provenance or {}
    assert facts["metadata"]["creator"] == "Jean-Victor Balin"
    assert facts["metadata"]["rights"] == "CC0"
    assert facts["ai_generated"]["declared"]
    assert facts["ai_generated"]["signals"][0].startswith("IPTC digital source type")


def test_generator_parameters_in_png_text_declare_ai() -> None:
    params = "a castle at dusk\nSteps: 30, Sampler: Euler a, Model: sd_xl_base_1.0"
    facts = load_image_bytes(_png({"parameters": params, "Author": "someone"})).provenance or {}
    assert facts["metadata"]["creator"] == "someone"
    assert facts["ai_generated"]["declared"]


def test_a_c2pa_manifest_is_read_and_its_ai_source_declared() -> None:
    facts = load_image_bytes(with_manifest(_jpeg())).provenance or {}
    manifest = facts["c2pa"]
    assert manifest["claim_generator"].startswith("test-generator")
    assert manifest["signed_by"] == "styletrace tests"
    assert manifest["actions"][0]["action"] == "c2pa.created"
    assert facts["ai_generated"] == {
        "declared": True,
        "signals": [f"C2PA action c2pa.created: {AI_SOURCE}"],
        "model": "ImageGen 3",
    }
    human = (
        load_image_bytes(
            with_manifest(
                _jpeg(), source="http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
            )
        ).provenance
        or {}
    )
    assert human["c2pa"] is not None and not human["ai_generated"]["declared"]


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(0, 400))
def test_damaged_metadata_never_fails_a_load(junk: bytes, at: int) -> None:
    """Garbage spliced into the EXIF segment of a JPEG: the image still loads."""
    exif = Image.Exif()
    exif[315] = "x" * 40
    data = _jpeg(exif=exif)
    start = data.find(b"Exif")
    spliced = data[: start + at % 60] + junk + data[start + at % 60 + len(junk) :]
    try:
        loaded = load_image_bytes(spliced)
    except ImageError:  # the loader may refuse a damaged file, with its own clear error
        return
    assert loaded.provenance is not None
