"""What every command shares: the options ``-d``, ``-f`` and ``-o`` (declared here only), opening
the dataset, writing output, printing messages and exiting.

Output never goes to ``sys.stdout`` directly: :func:`emit` (row formats), :func:`out_sink` (any
other text or JSON) and :func:`say` (messages) all write through a :class:`~trailforensics.output.sink.Sink`,
so every format is safe on a terminal by construction.  Errors are raised, not printed: a
:class:`~trailforensics.errors.TrailforensicsError` leaving a command becomes ``error: <message>``
and its exit code in :mod:`trailforensics.cli` (one place); :func:`fail` is for the CLI's own usage
errors.

Nothing here imports DuckDB, Arrow or the library's heavy modules at import time: every command
module is imported to build ``--help``, so those load inside the functions that need them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from trailforensics.engine import resources  # the memory settings only: no DuckDB
from trailforensics.output.choices import FORMATS
from trailforensics.output.sink import Sink

if TYPE_CHECKING:
    import pyarrow as pa

    from trailforensics.engine.dataset import Dataset

ENV_DATASET = "TRAILFORENSICS_DATASET"
DATASET_HELP = "Dataset folder (default: $TRAILFORENSICS_DATASET, else the current folder if it is a dataset)."


def dataset_option(help: str = DATASET_HELP, *, show_envvar: bool = True) -> Any:
    """``-d/--dataset`` (also $TRAILFORENSICS_DATASET); `help` says what the command does with it."""
    return typer.Option(None, "-d", "--dataset", envvar=ENV_DATASET, show_envvar=show_envvar, help=help)


def format_option(default: str = "table", formats: tuple[str, ...] = FORMATS) -> Any:
    """``-f/--format``, one of `formats`; None when not given (see :func:`output_format`)."""
    return typer.Option(
        None,
        "-f",
        "--format",
        help=f"Output format: {', '.join(formats)} (default: from the -o file's extension, else {default}).",
    )


def output_format(fmt: str | None, out: Path | None, default: str = "table", formats: tuple[str, ...] = FORMATS) -> str:
    """The format a command writes: -f, else the -o file's extension (t.csv, t.jsonl, t.parquet), else
    `default`; a contradiction (-f table -o t.csv) is a usage error."""
    from trailforensics.output.choices import format_for
    from trailforensics.output.sink import OutputError

    try:
        return format_for(fmt, None if out is None else str(out), default, formats)
    except OutputError as exc:  # an unknown format (1), or one the file name contradicts (2)
        fail(str(exc), code=exc.exit_code)


def _memory_limit_help() -> str:
    here = resources.format_size(resources.default_memory_limit())
    return (
        "Memory limit of every DuckDB connection (queries spill to DATASET/.scratch beyond it), "
        f"e.g. 1GB, 512MiB, 25% (of RAM). Default: the smaller of 4 GiB and half the RAM ({here} here)."
    )


MemoryLimitOption = typer.Option(
    None,
    "--memory-limit",
    envvar=resources.ENV_MEMORY_LIMIT,
    show_envvar=True,
    metavar="SIZE",
    help=_memory_limit_help(),
)

DatasetOption = dataset_option()
FormatOption = format_option()
OutOption = typer.Option(
    None, "-o", "--output", help="Write to this file instead of the terminal (its extension names the format)."
)
JsonAsTextOption = typer.Option(
    False,
    "--json-as-text",
    help="json/jsonl: JSON columns (request_parameters, user_identity, ...) as strings, not nested JSON.",
)
# --engine spark dispatches into trailforensics.spark (docs/SCALE-OUT.md).
EngineOption = typer.Option(
    "local", "--engine", help="local (DuckDB on this machine) or spark (Apache Spark: needs the spark extra)."
)
SparkMasterOption = typer.Option(
    None, "--spark-master", help="Spark master URL with --engine spark (default local[*]; SPARK_REMOTE: Spark Connect)."
)


def resolve_dataset(value: Path | None, *, must_exist: bool = True) -> Path:
    from trailforensics.store.layout import is_dataset

    if value is not None:
        path = value
    elif is_dataset(Path.cwd()):
        path = Path.cwd()
    else:
        fail(f"no dataset given: pass -d DIR or set {ENV_DATASET} (or run from inside a dataset folder)")
    if must_exist and not is_dataset(path):
        fail(f"no trailforensics dataset at {path} (create one with `trailforensics ingest SRC -d {path}`)")
    return path


_opened: list[Dataset] = []


def open_dataset(dataset: Path | None) -> Dataset:
    """The command's dataset, closed by :func:`close_datasets` when the command ends."""
    from trailforensics.engine.dataset import Dataset

    path = resolve_dataset(dataset)
    try:
        ds = Dataset(path)
    except Exception as exc:
        fail(f"cannot open dataset {path}: {exc}")
    _opened.append(ds)
    return ds


def close_datasets() -> None:
    """Close what :func:`open_dataset` opened: the connections and their spill folders."""
    while _opened:
        with suppress(Exception):  # closing must not hide the command's own outcome
            _opened.pop().close()


def emit(
    table: pa.Table,
    fmt: str,
    out: Path | None,
    title: str | None = None,
    *,
    json_as_text: bool = False,
    max_rows: int | None = None,
) -> None:
    """Rows in any of the row formats, to the -o file or standard output (OutputError on failure).
    `max_rows`: a table on a terminal shows this many rows (default: see formats.TERMINAL_ROWS)."""
    from trailforensics.output.formats import check_format, write_table

    check_format(fmt)
    write_table(table, fmt, out, title=title, json_as_text=json_as_text, max_rows=max_rows)


@contextmanager
def out_sink(out: Path | None) -> Iterator[Sink]:
    """Where a command's text goes: the -o file (exact), else standard output (guarded on a terminal)."""
    with Sink.open(out) as sink:
        yield sink


def say(text: str = "", *, err: bool = False) -> None:
    """Print a line of possibly attacker-controlled text, control characters escaped."""
    (Sink.stderr() if err else Sink.stdout()).line(text)


def fail(message: str, code: int = 1) -> NoReturn:
    say(f"error: {message}", err=True)
    raise typer.Exit(code)


def apply_memory_limit(value: str | None) -> None:
    """Check a --memory-limit size and hand it to every Dataset and writer of this process (and its
    workers) through the environment (BadMemoryLimit: one line and its exit code)."""
    if value is None:
        return
    try:
        resources.memory_limit(value)
    except resources.BadMemoryLimit as exc:
        fail(f"--memory-limit ({resources.ENV_MEMORY_LIMIT}): {exc}", exc.exit_code)
    os.environ[resources.ENV_MEMORY_LIMIT] = value


def cpu_count() -> int:
    return os.cpu_count() or 1


def time_option(value: str | None, option: str = "") -> datetime | None:
    """A --since/--until value (ISO 8601 or relative), or exit with the parse error naming the option."""
    if value is None:
        return None
    from trailforensics.query.when import BadTime, parse_when

    try:
        return parse_when(value)
    except BadTime as exc:
        fail(f"{option}: {exc}" if option else str(exc))


def use_spark(engine: str) -> bool:
    """``--engine``: True for spark, False for local; anything else is a usage error."""
    if engine not in ("local", "spark"):
        fail(f"--engine must be local or spark, not {engine!r}")
    return engine == "spark"
