"""What the CLI's commands share: how they get the runtime, library or catalog (the seams
tests replace with fakes), the audit actor, and the one way a command fails."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
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


@contextmanager
def interrupt_between(message: str) -> Iterator[Callable[[int], None]]:
    """Ctrl-C asks a long command to stop: the check this yields (called between batches)
    raises KeyboardInterrupt once asked, so it stops in good order, not inside a worker or
    a progress bar; a second Ctrl-C ends the process at once (exit 130) with `message`."""
    asked = threading.Event()

    def first(signum: int, frame: FrameType | None) -> None:
        asked.set()
        signal.signal(signal.SIGINT, again)
        os.write(2, b"\nstopping after the images in hand; Ctrl-C again to stop at once\n")

    def again(signum: int, frame: FrameType | None) -> None:
        os.write(2, f"\n{message}\n".encode())
        os._exit(130)

    def check(_: int) -> None:
        if asked.is_set():
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, first)
    yield check
    signal.signal(signal.SIGINT, previous)  # only here: while a command exits, a second stops it


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
