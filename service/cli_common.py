"""What the CLI's commands share: how they get the runtime, library or catalog (the seams
tests replace with fakes), the audit actor, and the one way a command fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from indexer.catalog import Catalog
from indexer.ids import check_creator_id
from indexer.library import Library
from service.runtime import Runtime, build_runtime, open_library
from service.settings import Settings

CLI_ACTOR = "cli"  # the audit log's actor for commands run on the server's machine


def creator_filter(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --creator filter's value, refused when malformed (a typo is not 'no results')."""
    return None if value is None else check_creator_id(value)


class OutputFile(click.Path):
    """A file a command writes: not a folder, in a folder that exists, checked before the
    command does any work (a publish or a scan is not lost to a mistyped folder)."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        if not path.absolute().parent.is_dir():
            self.fail(f"{path.parent} is not an existing folder", param, ctx)
        return path


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
