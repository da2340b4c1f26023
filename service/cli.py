"""The `styletrace` command line: register, match, scan, works, keys, terms, audit, serve,
demo, calibrate.
Output contracts are in ../shared/DESIGN.md; errors go to stderr with exit status 2."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from indexer import audit
from indexer.catalog import Catalog
from indexer.errors import CatalogError
from indexer.ids import check_creator_id
from indexer.keys import ROLES, KeyStore
from indexer.library import Library
from models.errors import ImageError, ModelError
from service.consent import Terms, effective
from service.receipts import removal_receipt
from service.registration import from_directory, from_manifest
from service.runtime import CalibrationMissing, Runtime, build_runtime, open_library
from service.settings import Settings
from service.signing import Signer


def _runtime(settings: Settings | None = None) -> Runtime:
    """Library and matcher for commands that match (tests replace this seam with fakes)."""
    return build_runtime(settings or Settings())


def _library(settings: Settings | None = None) -> Library:
    """The library alone, for commands that register or remove: no calibration needed."""
    return open_library(settings or Settings())


CLI_ACTOR = "cli"  # the audit log's actor for commands run on the server's machine


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
def cli() -> None:
    """styletrace: is this image a copy of a registered work, or does it imitate a registered
    creator's style? State lives under STYLETRACE_DATA_DIR (default ./data)."""


@cli.command()
@click.argument(
    "directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with columns creator_id,work_id,path (+ optional metadata).",
)
def register(directory: Path | None, manifest: Path | None) -> None:
    """Register DIRECTORY/<creator_id>/<file> (or a --manifest) as works."""
    if (directory is None) == (manifest is None):
        _fail("give either DIRECTORY or --manifest FILE")
    sources = from_manifest(manifest) if manifest else from_directory(directory or Path("."))
    from service.bulk import register_sources

    settings = Settings()
    library = _library(settings)
    summary = register_sources(
        library, settings, sources, progress=sys.stderr.isatty(), actor=CLI_ACTOR
    )
    library.save()
    click.echo(json.dumps(summary))


@cli.command()
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top-k", type=click.IntRange(min=1), default=None)
def match(image: Path, top_k: int | None) -> None:
    """Match one IMAGE; prints the match result JSON."""
    from models.images import load_image_file

    runtime = _runtime()
    loaded = load_image_file(image, runtime.settings.limits)
    result = runtime.matcher.match([loaded], runtime.options(top_k))[0]
    click.echo(result.model_dump_json(indent=2))


@cli.command()
@click.argument("source")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--top-k", type=click.IntRange(min=1), default=None)
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the results as CSV (one row per image).",
)
def scan(source: str, out: Path, top_k: int | None, csv_out: Path | None) -> None:
    """Match every image in SOURCE (folder, CSV manifest with a path column, or - for a list
    on stdin) into OUT as JSON lines; run again to resume. Writes OUT.summary.json (counts
    per verdict, top creators, errors with reasons) over the whole output."""
    from service.scan import run_scan, scan_inputs
    from service.scan_report import summarise, to_csv

    runtime = _runtime()
    run = run_scan(runtime, scan_inputs(source), out, top_k, progress=sys.stderr.isatty())
    report = summarise(out) if out.exists() else {}
    summary_path = out.with_name(out.name + ".summary.json")
    summary_path.write_text(json.dumps({"run": run.__dict__, **report}, indent=1))
    if csv_out is not None:
        to_csv(out, csv_out)
    click.echo(json.dumps(run.__dict__ | {"summary": str(summary_path)}))


@cli.group()
def works() -> None:
    """List or remove registered works."""


@works.command("list")
@click.option("--creator", default=None)
@click.option("--limit", type=click.IntRange(1), default=1000)
def works_list(creator: str | None, limit: int) -> None:
    """One JSON line per active work."""
    catalog = _catalog()
    for w in catalog.works(creator, limit=limit):
        click.echo(
            json.dumps(
                {
                    "work_id": w.work_id,
                    "creator_id": w.creator_id,
                    "sha256": w.sha256,
                    "registered_at": w.registered_at.isoformat(),
                }
            )
        )


@works.command("remove")
@click.argument("work_id", required=False)
@click.option("--all-of", "creator", default=None, help="Remove every work of this creator.")
def works_remove(work_id: str | None, creator: str | None) -> None:
    """Remove WORK_ID (or --all-of CREATOR); it stops matching at once. Prints the signed
    receipt."""
    if (work_id is None) == (creator is None):
        _fail("give either WORK_ID or --all-of CREATOR")
    library = _library()
    if creator is not None:
        check_creator_id(creator)
        removed = library.remove_all(creator, CLI_ACTOR)
    else:
        removed = [library.remove(work_id or "", CLI_ACTOR)]
    library.save()
    owner = creator or removed[0].creator_id
    signer = Signer.load_or_create(Settings().signing_key_path)
    receipt = removal_receipt(library, signer, removed, owner, CLI_ACTOR)
    what = {"removed": work_id} if work_id else {"removed_count": len(removed)}
    click.echo(json.dumps(what | {"creator_id": owner, "receipt": receipt}))


def _catalog() -> Catalog:
    """The catalog alone (keys, terms, audit): no models loaded."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Catalog(settings.db_url)


@cli.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The service's public key (PEM) to trust; default: the one the file carries.",
)
@click.option(
    "--rematch", is_flag=True, help="Evidence packets: re-run the match here and compare scores."
)
def verify_cmd(path: Path, public_key: Path | None, rematch: bool) -> None:
    """Check an evidence packet (.zip) or a removal receipt (JSON) offline: signature and
    hashes. Exit status 1 when it does not hold."""
    trusted = public_key.read_text() if public_key else None
    data = path.read_bytes()
    if data[:2] == b"PK":
        report = _verify_packet(data, trusted, rematch)
    else:
        from service.verify import verify_receipt

        try:
            signed = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is neither an evidence packet nor a receipt") from exc
        signed = signed.get("receipt", signed)  # the CLI's removal output wraps it
        problems = verify_receipt(signed, trusted)
        key = signed.get("signature", {}).get("key_id")
        report = {"ok": not problems, "kind": "receipt", "key_id": key, "problems": problems}
    click.echo(json.dumps(report, indent=1))
    if not report["ok"]:
        sys.exit(1)


def _verify_packet(data: bytes, trusted: str | None, rematch: bool) -> dict[str, object]:
    from models.images import load_image_bytes
    from service.evidence import rematch_problems, verify_packet

    checked = verify_packet(data, trusted)
    report: dict[str, object] = {
        "kind": "evidence packet",
        "query_sha256": checked.body.get("query", {}).get("sha256"),
        "models": checked.body.get("models"),
        "problems": checked.problems,
    }
    if rematch and not checked.problems:
        runtime = _runtime()
        query = load_image_bytes(checked.query, runtime.settings.limits)
        rerun = runtime.matcher.match([query], runtime.options())[0]
        report["rematch"] = {
            "same_snapshot": rerun.models.index == checked.body.get("models", {}).get("index"),
            "problems": rematch_problems(checked, rerun),
        }
        checked.problems.extend(rematch_problems(checked, rerun))
    report["ok"] = not checked.problems
    return report


@cli.command("evidence")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def evidence_cmd(image: Path, out: Path) -> None:
    """Match IMAGE and write a signed evidence packet of the result to OUT (.zip)."""
    from models.images import load_image_bytes
    from service.evidence import build_packet

    runtime = _runtime()
    data = image.read_bytes()
    query = load_image_bytes(data, runtime.settings.limits)
    result = runtime.matcher.match([query], runtime.options())[0]
    context = {"requested_by": CLI_ACTOR}
    packet = build_packet(runtime.library, runtime.signer, query, data, result, context)
    out.write_bytes(packet.data)
    click.echo(json.dumps({"packet": str(out), "sha256": packet.sha256}))


@cli.command("claim")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(["revshare", "takedown"]))
@click.option("--creator", required=True, help="The creator whose works it copies or imitates.")
def claim_cmd(image: Path, kind: str, creator: str) -> None:
    """File a claim for CREATOR from IMAGE (it must match their works); prints the claim."""
    from models.images import load_image_bytes
    from service.claims import file_claim

    check_creator_id(creator)
    runtime = _runtime()
    data = image.read_bytes()
    query = load_image_bytes(data, runtime.settings.limits)
    claim, packet = file_claim(runtime, query, data, kind, creator, CLI_ACTOR)  # type: ignore[arg-type]
    click.echo(json.dumps(_claim_json(claim) | {"packet_sha256": packet.sha256}))


def _claim_json(claim: Any) -> dict[str, object]:
    return {
        "claim_id": claim.claim_id,
        "kind": claim.kind,
        "status": claim.status,
        "creator_id": claim.creator_id,
        "claimant": claim.claimant,
        "dispute_until": claim.dispute_until.isoformat() + "Z",
        "matched": claim.matched,
        "events": [{**e.__dict__, "at": e.at.isoformat() + "Z"} for e in claim.events],
    }


@cli.group()
def claims() -> None:
    """List claims, act on them, export decisions as labelled data."""


@claims.command("list")
@click.option(
    "--status", type=click.Choice(["open", "disputed", "upheld", "rejected", "withdrawn"])
)
@click.option("--creator", default=None)
def claims_list(status: str | None, creator: str | None) -> None:
    """One JSON line per claim, newest first."""
    from indexer.claims import ClaimStore

    for claim in ClaimStore(_catalog().engine).find(creator, status, limit=10_000):
        click.echo(json.dumps(_claim_json(claim)))


@claims.command("act")
@click.argument("claim_id")
@click.argument("action", type=click.Choice(["dispute", "withdraw", "uphold", "reject"]))
@click.option("--reason", required=True)
def claims_act(claim_id: str, action: str, reason: str) -> None:
    """Move a claim, as an admin on the server's machine (the audit log names `cli`)."""
    from indexer.claims import ClaimStore
    from service.claims import move_claim

    store = ClaimStore(_catalog().engine)
    moved = move_claim(store, store.get(claim_id), action, "admin", CLI_ACTOR, reason)
    click.echo(json.dumps(_claim_json(moved)))


@claims.command("labels")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def claims_labels(out: Path) -> None:
    """Write upheld and rejected claims as labelled JSON lines for recalibration."""
    from indexer.claims import ClaimStore
    from service.claims import labelled

    rows = labelled(ClaimStore(_catalog().engine).find(limit=1_000_000))
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    click.echo(json.dumps({"labels": len(rows), "out": str(out)}))


@cli.group()
def keys() -> None:
    """Create, list and revoke API keys (roles: admin, reviewer, platform, creator)."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--creator", default=None, help="The creator a creator key belongs to.")
@click.option("--label", default="", help="What the key is for.")
def keys_create(role: str, creator: str | None, label: str) -> None:
    """Create a key; the secret is printed once and never stored."""
    key, secret = KeyStore(_catalog().engine).create(role, creator, label, CLI_ACTOR)
    click.echo(json.dumps({"key_id": key.key_id, "role": key.role, "key": secret}))


@keys.command("list")
@click.option("--creator", default=None)
def keys_list(creator: str | None) -> None:
    """One JSON line per key (never the secret)."""
    for k in KeyStore(_catalog().engine).list(creator):
        revoked = k.revoked_at.isoformat() if k.revoked_at else None
        click.echo(
            json.dumps(
                {
                    "key_id": k.key_id,
                    "role": k.role,
                    "creator_id": k.creator_id,
                    "label": k.label,
                    "created_at": k.created_at.isoformat(),
                    "revoked_at": revoked,
                }
            )
        )


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke KEY_ID; it stops working at once."""
    key = KeyStore(_catalog().engine).revoke(key_id, CLI_ACTOR)
    click.echo(json.dumps({"revoked": key.key_id}))


@cli.group()
def terms() -> None:
    """Show or set a creator's consent terms."""


@terms.command("show")
@click.argument("creator_id")
def terms_show(creator_id: str) -> None:
    """The terms in force for CREATOR_ID (defaults where none were set)."""
    stored, _ = _catalog().terms_for([creator_id], [])
    click.echo(effective(stored[creator_id]).model_dump_json())


@terms.command("set")
@click.argument("creator_id")
@click.option("--policy", type=click.Choice(["track", "revshare", "takedown"]), default=None)
@click.option("--rate", type=float, default=None, help="Revenue share for --policy revshare.")
@click.option("--training/--no-training", default=None, help="Allow AI training (opt-in).")
@click.option("--licence", default=None)
@click.option("--licence-url", default=None)
@click.option("--credit", default=None)
def terms_set(
    creator_id: str,
    policy: str | None,
    rate: float | None,
    training: bool | None,
    licence: str | None,
    licence_url: str | None,
    credit: str | None,
) -> None:
    """Change some of CREATOR_ID's terms; the others keep their values."""
    check_creator_id(creator_id)
    catalog = _catalog()
    current = effective(catalog.terms_for([creator_id], [])[0][creator_id]).model_dump()
    given: dict[str, object] = {
        "training_allowed": training,
        "licence": licence,
        "licence_url": licence_url,
        "credit": credit,
        "policy": policy,
        "revshare_rate": rate,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if policy is not None and policy != "revshare":
        changes["revshare_rate"] = None
    try:
        new = Terms.model_validate(current | changes)
    except ValidationError as exc:
        _fail(f"invalid terms: {exc.errors()[0]['msg']}")
        return
    catalog.set_creator_terms(creator_id, new.model_dump(), CLI_ACTOR)
    click.echo(new.model_dump_json())


@cli.group("audit")
def audit_group() -> None:
    """Read and verify the hash-chained audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the chain; exit status 1 names the first edited or deleted entry."""
    check = audit.verify(_catalog().engine)
    click.echo(json.dumps(check.__dict__))
    if not check.ok:
        sys.exit(1)


@audit_group.command("list")
@click.option("--after", type=click.IntRange(0), default=0)
@click.option("--limit", type=click.IntRange(1), default=100)
@click.option("--subject", default=None)
def audit_list(after: int, limit: int, subject: str | None) -> None:
    """One JSON line per entry, in order."""
    for e in audit.entries(_catalog().engine, subject, limit, after):
        click.echo(json.dumps({**e.__dict__, "at": e.at.isoformat()}))


@cli.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def serve(host: str | None, port: int | None) -> None:
    """Serve the HTTP API (and /docs)."""
    import uvicorn

    from service.api.app import create_app

    settings = Settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


@cli.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def demo(host: str | None, port: int | None) -> None:
    """Register the bundled sample gallery, print a curl example, and serve."""
    from service.bulk import register_sources

    settings = Settings()
    if not settings.admin_key:
        settings.admin_key = "demo-key"
    runtime = _runtime(settings)
    examples = settings.examples_dir
    summary = register_sources(runtime.library, settings, from_directory(examples / "gallery"))
    runtime.library.save()
    bind, p = host or settings.host, port or settings.port
    auth = f"-H 'Authorization: Bearer {settings.admin_key}'"
    click.echo(f"registered: {json.dumps(summary)}\nTry one of the bundled suspects:")
    for kind, path in _demo_queries(examples):
        click.echo(f"  curl -s {auth} -F image=@{path} http://{bind}:{p}/v1/match   # {kind}")
    click.echo(f"API docs: http://{bind}:{p}/docs")
    import uvicorn

    from service.api.app import create_app

    uvicorn.run(create_app(settings, runtime), host=bind, port=p)


def _demo_queries(examples: Path) -> list[tuple[str, Path]]:
    """(kind, path) of each suspect listed in examples/suspects.csv."""
    listing = examples / "suspects.csv"
    if not listing.is_file():
        return []
    with listing.open(newline="") as fh:
        return [
            (r["kind"], Path(os.path.relpath(examples / r["path"]))) for r in csv.DictReader(fh)
        ]


@cli.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the calibration JSON (default: the profile's file).",
)
def calibrate(directory: Path, out: Path | None) -> None:
    """Measure the model profile's non-match score distributions on background images laid
    out as DIRECTORY/<creator>/<file> (different works; several creators)."""
    from service.bulk import calibrate_from

    settings = Settings()
    path = calibrate_from(settings, from_directory(directory), out)
    click.echo(json.dumps({"calibration": str(path)}))


def main() -> None:
    """Entry point: domain errors become one clear line on stderr and exit status 2."""
    try:
        cli(standalone_mode=True)
    except (ImageError, CatalogError, ModelError, CalibrationMissing, ValueError) as exc:
        _fail(str(exc))
