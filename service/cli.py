"""The `styletrace` command line: register, match, scan, works, publish, serve, demo and
calibrate here; keys, terms, audit, claims, evidence and verify in cli_records.py. Output
contracts are in ../shared/DESIGN.md; errors go to stderr with exit status 2."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click
from pydantic import ValidationError

from indexer.errors import CatalogError
from indexer.ids import check_creator_id
from models.errors import ImageError, ModelError
from service import cli_common as common
from service.cli_records import COMMANDS
from service.consent import problems
from service.receipts import removal_receipt
from service.records import OptedOut, Removed, work_out
from service.registration import from_directory, from_manifest
from service.runtime import CalibrationMissing
from service.settings import Settings, settings_problems
from service.signing import Signer

WORKS_PAGE = 1000  # catalog rows read at a time by `works list`

if TYPE_CHECKING:
    from fastapi import FastAPI


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
    """Register DIRECTORY/<creator_id>/<file> (or a --manifest) as works. Exit status 1 when
    any file failed (the summary's `errors` name each; the others are registered)."""
    if (directory is None) == (manifest is None):
        common.fail("give either DIRECTORY or --manifest FILE")
    sources = from_manifest(manifest) if manifest else from_directory(directory or Path("."))
    from service.bulk import register_sources

    settings = Settings()
    library = common.library(settings)
    summary = register_sources(
        library, settings, sources, progress=sys.stderr.isatty(), actor=common.CLI_ACTOR
    )
    library.save()
    click.echo(json.dumps(summary))
    if summary["failed"]:  # what did register is kept; a script still learns of the rest
        sys.exit(1)


@cli.command()
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top-k", type=click.IntRange(min=1), default=None)
def match(image: Path, top_k: int | None) -> None:
    """Match one IMAGE; prints the match result JSON."""
    from models.images import load_image_file

    runtime = common.runtime()
    loaded = load_image_file(image, runtime.settings.limits)
    result = runtime.matcher.match([loaded], runtime.options(top_k))[0]
    click.echo(result.model_dump_json(indent=2))


@cli.command()
@click.argument("source")
@click.option("--out", required=True, type=common.OutputFile())
@click.option("--top-k", type=click.IntRange(min=1), default=None)
@click.option(
    "--csv",
    "csv_out",
    type=common.OutputFile(),
    default=None,
    help="Also write the results as CSV (one row per image).",
)
@click.option(
    "--runner",
    type=click.Choice(["local", "ray"]),
    default="local",
    help="local: this process (default); ray: a pool of Ray actors (pip install 'ray[data]').",
)
@click.option("--ray-address", default=None, help="A Ray cluster to join (default: start one).")
@click.option(
    "--ray-actors", type=click.IntRange(min=1), default=1, help="Actors, each with the models."
)
@click.option(
    "--ray-cpus-per-actor",
    type=click.FloatRange(min=0.01),
    default=1.0,
    help="CPUs each actor reserves; fractions keep a small machine from starving Ray.",
)
def scan(
    source: str,
    out: Path,
    top_k: int | None,
    csv_out: Path | None,
    runner: str,
    ray_address: str | None,
    ray_actors: int,
    ray_cpus_per_actor: float,
) -> None:
    """Match every image in SOURCE (folder, CSV manifest with a path column, JSONL manifest of
    {"path": ...} lines, or - for a list on stdin) into OUT as JSON lines; run again to
    resume. Writes OUT.summary.json (counts per verdict, top creators, errors with reasons,
    and this run's rate and seconds per stage) over the whole output."""
    from service.scan import run_scan, scan_inputs
    from service.scan_report import summarise, to_csv

    resume = "run the same command again to scan the rest"
    not_images: Counter[str] = Counter()
    with common.interrupt_between(f"interrupted again: stopped at once; {resume}") as check:
        try:
            if runner == "ray":
                from service.scan_ray import RayOptions, run_scan_ray

                options = RayOptions(ray_address, ray_actors, ray_cpus_per_actor)
                inputs = scan_inputs(source, not_images=not_images)
                run = run_scan_ray(Settings(), inputs, out, top_k, options, check)
            else:
                runtime = common.runtime()
                check(0)  # a Ctrl-C while the models loaded
                progress = sys.stderr.isatty()
                inputs = scan_inputs(source, not_images=not_images)
                run = run_scan(runtime, inputs, out, top_k, progress, check)
        except KeyboardInterrupt:
            done = sum(1 for _ in out.open("rb")) if out.exists() else 0
            click.echo(f"interrupted: {done} images are in {out}; {resume}", err=True)
            sys.exit(130)
    run.not_images = dict(sorted(not_images.items()))
    report = summarise(out) if out.exists() else {}
    summary_path = out.with_name(out.name + ".summary.json")
    summary_path.write_text(json.dumps({"run": run.__dict__, **report}, indent=1))
    if csv_out is not None:
        to_csv(out, csv_out)
    brief = {k: v for k, v in run.__dict__.items() if k != "stage_seconds"}
    click.echo(json.dumps(brief | {"summary": str(summary_path)}))


@cli.group()
def works() -> None:
    """List or remove registered works."""


@works.command("list")
@click.option("--creator", default=None, callback=common.creator_filter)
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many works.")
def works_list(creator: str | None, limit: int | None) -> None:
    """One JSON line per active work, oldest first: every one (read a page at a time), or
    the first --limit."""
    catalog = common.catalog()
    shown, last = 0, None
    while limit is None or shown < limit:
        want = WORKS_PAGE if limit is None else min(WORKS_PAGE, limit - shown)
        page = catalog.works(creator, limit=want, after=last)
        for w in page:
            click.echo(work_out(w).model_dump_json(exclude={"created"}))
        shown += len(page)
        if len(page) < want:
            break
        last = page[-1].work_id


@works.command("remove")
@click.argument("work_id", required=False)
@click.option("--all-of", "creator", default=None, help="Remove every work of this creator.")
def works_remove(work_id: str | None, creator: str | None) -> None:
    """Remove WORK_ID (or --all-of CREATOR); it stops matching at once. Prints the signed
    receipt."""
    if (work_id is None) == (creator is None):
        common.fail("give either WORK_ID or --all-of CREATOR")
    library = common.library()
    if creator is not None:
        check_creator_id(creator)
        removed = library.remove_all(creator, common.CLI_ACTOR)
    else:
        removed = [library.remove(work_id or "", common.CLI_ACTOR)]
    library.save()
    owner = creator or removed[0].creator_id
    signer = Signer.load_or_create(Settings().signing_key_path)
    receipt = removal_receipt(library, signer, removed, owner, common.CLI_ACTOR)
    index = library.snapshot_id
    done = (
        OptedOut(creator_id=owner, removed=len(removed), index=index, receipt=receipt)
        if creator is not None
        else Removed(removed=removed[0].work_id, creator_id=owner, index=index, receipt=receipt)
    )
    click.echo(done.model_dump_json())


@cli.command()
@click.argument("work_id")
@click.option("--out", required=True, type=common.OutputFile())
def publish(work_id: str, out: Path) -> None:
    """Write WORK_ID's published copy (watermark, metadata, C2PA manifest) to OUT; prints
    its payload id and the fields it could not carry."""
    from service.c2pa_cert import load_or_create
    from service.publish import load_or_create_secret
    from service.publish import publish as make_copy

    settings = Settings()
    library = common.library(settings)
    work = library.catalog.get(work_id)
    secret = load_or_create_secret(settings.watermark_secret_path)
    credentials = load_or_create(*settings.c2pa_paths)
    done = make_copy(
        library, work, secret, settings.watermark_method, credentials, common.CLI_ACTOR
    )
    out.write_bytes(done.data)
    click.echo(json.dumps(done.summary(work) | {"out": str(out)}))


@cli.command()
@click.option("--host", default=None)
@click.option("--port", type=click.IntRange(1, 65535), default=None)
def serve(host: str | None, port: int | None) -> None:
    """Serve the HTTP API (and /docs)."""
    from service.api.app import create_app

    settings = Settings()
    _serve(create_app(settings), host or settings.host, port or settings.port, settings)


def _serve(app: FastAPI, host: str, port: int, settings: Settings) -> None:
    """Run uvicorn with JSON log lines and the app's own access lines instead of uvicorn's,
    which would quote query strings."""
    import uvicorn

    from service.api.tracing import configure_logging

    configure_logging(settings.log_level)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@cli.command()
@click.option("--host", default=None)
@click.option("--port", type=click.IntRange(1, 65535), default=None)
def demo(host: str | None, port: int | None) -> None:
    """Register the bundled sample gallery, print curl examples and the web page's address
    with the key to sign in with, and serve."""
    from service.bulk import register_sources

    settings = Settings()
    if not settings.admin_key:
        settings.admin_key = "demo-key"
    if settings.scan_root is None:  # the web page's scans may read the bundled examples
        settings.scan_root = settings.examples_dir
    examples = settings.examples_dir
    if not (examples / "gallery").is_dir():
        common.fail(
            f"no sample gallery at {examples / 'gallery'}: run `make demo` in the repository, "
            "or set STYLETRACE_EXAMPLES_DIR to its examples folder"
        )
    runtime = common.runtime(settings)
    summary = register_sources(runtime.library, settings, from_directory(examples / "gallery"))
    runtime.library.save()
    bind, p = host or settings.host, port or settings.port
    auth = f"-H 'Authorization: Bearer {settings.admin_key}'"
    click.echo(f"registered: {json.dumps(summary)}\nTry one of the bundled suspects:")
    for kind, path in _demo_queries(examples):
        click.echo(f"  curl -s {auth} -F image=@{path} http://{bind}:{p}/v1/match   # {kind}")
    click.echo(f"API docs: http://{bind}:{p}/docs")
    click.echo(f"Web page: http://{bind}:{p}/  (sign in with the API key {settings.admin_key})")
    from service.api.app import create_app

    _serve(create_app(settings, runtime), bind, p, settings)


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
    type=common.OutputFile(),
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


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    """Entry point: domain errors become one clear line on stderr and exit status 2."""
    try:
        cli(standalone_mode=True)
    except ValidationError as exc:  # a setting from the environment, or terms or a key
        common.fail(problems(exc) if exc.title != "Settings" else settings_problems(exc))
    except (ImageError, CatalogError, ModelError, CalibrationMissing, ValueError) as exc:
        common.fail(str(exc))
