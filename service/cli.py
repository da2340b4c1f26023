"""The `styletrace` command line: register, match, scan, works, keys, terms, audit, serve,
demo, calibrate.
Output contracts are in ../shared/DESIGN.md; errors go to stderr with exit status 2."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

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
    summary = register_sources(library, settings, sources, progress=sys.stderr.isatty())
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
def scan(source: str, out: Path, top_k: int | None) -> None:
    """Match every image in SOURCE (folder, CSV manifest with a path column, or - for a list
    on stdin) into OUT as JSON lines; run again to resume."""
    from service.scan import run_scan, scan_inputs

    runtime = _runtime()
    summary = run_scan(runtime, scan_inputs(source), out, top_k, progress=sys.stderr.isatty())
    click.echo(json.dumps(summary.__dict__))


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
def verify_cmd(path: Path, public_key: Path | None) -> None:
    """Check a signed removal receipt (JSON) offline; exit status 1 when it does not hold."""
    from service.verify import verify_receipt

    trusted = public_key.read_text() if public_key else None
    try:
        signed = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a JSON receipt: {exc}") from exc
    signed = signed.get("receipt", signed)  # the CLI's removal output wraps it
    problems = verify_receipt(signed, trusted)
    key = signed.get("signature", {}).get("key_id")
    click.echo(json.dumps({"ok": not problems, "key_id": key, "problems": problems}))
    if problems:
        sys.exit(1)


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
