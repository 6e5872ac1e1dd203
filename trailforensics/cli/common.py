"""Helpers shared by the commands: the dataset option, safe printing, exiting."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import typer

from trailforensics.output.sanitize import terminal_safe
from trailforensics.query.when import BadTime, parse_when
from trailforensics.store.layout import is_dataset

ENV_DATASET = "TRAILFORENSICS_DATASET"

DatasetOption = typer.Option(
    None,
    "-d",
    "--dataset",
    envvar=ENV_DATASET,
    show_envvar=True,
    help="Dataset folder (default: $TRAILFORENSICS_DATASET, else the current folder if it is a dataset).",
)


def resolve_dataset(value: Path | None, *, must_exist: bool = True) -> Path:
    if value is not None:
        path = value
    elif is_dataset(Path.cwd()):
        path = Path.cwd()
    else:
        fail(f"no dataset given: pass -d DIR or set {ENV_DATASET} (or run from inside a dataset folder)")
    if must_exist and not is_dataset(path):
        fail(f"no trailforensics dataset at {path} (create one with `trailforensics ingest SRC -d {path}`)")
    return path


def say(text: str = "", *, err: bool = False) -> None:
    """Print a line of possibly attacker-controlled text, control characters escaped."""
    stream = sys.stderr if err else sys.stdout
    stream.write(terminal_safe(text) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    say(f"error: {message}", err=True)
    raise typer.Exit(code)


def cpu_count() -> int:
    return os.cpu_count() or 1


def time_option(value: str | None, option: str = "") -> datetime | None:
    """A --since/--until value (ISO 8601 or relative), or exit with the parse error."""
    if value is None:
        return None
    try:
        return parse_when(value)
    except BadTime as exc:
        fail(f"{option}: {exc}" if option else str(exc))
