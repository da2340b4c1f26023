"""What the CLI's commands share: how they get the runtime, library or catalog (the seams
tests replace with fakes), the audit actor, and the one way a command fails."""

from __future__ import annotations

import sys

import click

from indexer.catalog import Catalog
from indexer.library import Library
from service.runtime import Runtime, build_runtime, open_library
from service.settings import Settings

CLI_ACTOR = "cli"  # the audit log's actor for commands run on the server's machine


def runtime(settings: Settings | None = None) -> Runtime:
    """Library and matcher for commands that match (tests replace this seam with fakes)."""
    return build_runtime(settings or Settings())


def library(settings: Settings | None = None) -> Library:
    """The library alone, for commands that register or remove: no calibration needed."""
    return open_library(settings or Settings())


def catalog() -> Catalog:
    """The catalog alone (keys, terms, audit, claims): no models loaded."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Catalog(settings.db_url)


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
