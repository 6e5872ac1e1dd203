"""`trailforensics ingest` and `trailforensics compact`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer

from trailforensics.cli import app
from trailforensics.cli.common import (
    ENV_DATASET,
    EngineOption,
    SparkMasterOption,
    dataset_option,
    fail,
    out_sink,
    say,
    time_option,
    use_spark,
)
from trailforensics.cli.progress import Steps


@app.command("ingest")
def ingest_command(
    sources: list[str] = typer.Argument(
        ...,
        help="Folders (any level of an AWSLogs tree), files, archives (zip, tar, tgz), or - for stdin; "
        "with --engine spark also Hadoop filesystem URIs read by the cluster "
        "(s3a://bucket/AWSLogs/..., hdfs://, gs://, abfss://, file:///abs/path).",
    ),
    dataset: Path = dataset_option("Dataset folder to create or add to (never inside the evidence)."),
    workers: int = typer.Option(0, "-j", "--workers", help="Worker processes (default: the CPU count)."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first failed file; commit nothing."),
    rehash: bool = typer.Option(
        False,
        "--rehash",
        help="Hash every already-ingested file again, even when its size and times are unchanged "
        "(catches edits made with the times put back by someone able to change the file system's clock).",
    ),
    quiet: bool = typer.Option(
        False, "-q", "--quiet", help="No progress and no report; problems (failed files, an abort) still show."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    input_format: str = typer.Option(
        None,
        "--input-format",
        help="Force one input shape instead of detecting it: cloudtrail, lookup-events, "
        "jsonl, cloudwatch-logs, json-array, eventbridge, event-history-csv.",
    ),
    engine: str = EngineOption,
    spark_master: str = SparkMasterOption,
) -> None:
    """Ingest CloudTrail logs into a deduplicated, incremental Parquet dataset.

    Exit codes: 0 everything ingested or skipped; 1 nothing committed (error, lock held,
    --strict); 2 some files failed (the rest was ingested), or nothing at all in the sources
    was CloudTrail (an empty folder, another kind of file); 4 files already ingested have
    changed on disk (possible tampering); 6 both 2 and 4.
    """
    from trailforensics.cli.progress import make_progress
    from trailforensics.ingest import IngestOptions, ingest
    from trailforensics.ingest.summary import PROBLEM_PREFIXES

    if dataset is None:
        fail(f"name the dataset with -d DIR (or set {ENV_DATASET})")
    spark = use_spark(engine)
    for src in sources:
        remote = None if spark else remote_source_message(src)
        if remote:
            fail(remote)
    progress = None if (quiet or as_json) else make_progress(sys.stderr)
    options = IngestOptions(
        workers=workers or None, strict=strict, progress=progress, input_format=input_format, rehash=rehash
    )
    if spark:
        from trailforensics.spark import commands

        summary = commands.ingest(sources, dataset, options, spark_master)
    else:
        summary = ingest(sources, dataset, options)
    if as_json:
        with out_sink(None) as sink:
            sink.write(json.dumps(summary.to_json(), indent=1) + "\n")  # ASCII: json escapes the rest
    elif quiet:
        for line in summary.problem_lines():
            say(line, err=True)
    else:
        for line in summary.lines():
            say(line, err=line.startswith(PROBLEM_PREFIXES))
    raise typer.Exit(summary.exit_code)


# A URL given as a source ("s3a://bucket/key"; a Path folds its "//" to "s3a:/bucket/key").
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/+(.*)$")


def remote_source_message(src: str | Path) -> str | None:
    """What the local engine says about a source that is a URL (it reads local files); None for a local path."""
    text = src.as_posix() if isinstance(src, Path) else src
    match = _URL.match(text)
    if match is None or Path(text).exists():
        return None
    scheme, rest = match.group(1).lower(), match.group(2).rstrip("/")
    url = f"{scheme}://{rest}" if isinstance(src, Path) else text.rstrip("/")  # a Path lost the "//"
    if scheme in ("s3", "s3a", "s3n"):
        return (
            f"{url}: S3 is not read directly: copy it first (`aws s3 sync s3://{rest} ./evidence`, then "
            "`trailforensics ingest ./evidence`), or use the Spark engine (--engine spark), which reads s3a:// URLs"
        )
    if scheme == "file":
        return f"{url}: the local engine takes the path itself (/{rest}); file:// URIs are for --engine spark"
    return (
        f"{url}: the local engine reads local files and folders: download it first and ingest the copy, "
        f"or use the Spark engine (--engine spark), which reads {scheme}:// through the cluster's Hadoop connectors"
    )


@app.command("compact")
def compact_command(
    folder: Path = typer.Argument(None, metavar="[DATASET]", help="Dataset folder (the same as -d)."),
    dataset: Path = dataset_option("Dataset folder (default: $TRAILFORENSICS_DATASET)."),
    since: str = typer.Option(
        None, help="Only the days (partitions) from this time, UTC (ISO 8601, or relative: -7d, 2h)."
    ),
    until: str = typer.Option(None, help="Only the days before this time (exclusive)."),
    quiet: bool = typer.Option(False, "-q", "--quiet"),
) -> None:
    """Rewrite partitions grown from many incremental runs into few large sorted files.

    With --since/--until only the events partitions of those days are rewritten (a daily job can
    compact yesterday); the small tables are merged by a compaction of the whole dataset.
    """
    from trailforensics.store.compact import compact

    dataset = folder or dataset  # the positional form, kept from before -d existed here, wins
    if dataset is None:
        fail(f"name the dataset (or set {ENV_DATASET})")
    # Passed only when given, so that the command works with a library that predates the window.
    window: dict[str, Any] = {
        name: value
        for name, value in (("since", time_option(since, "--since")), ("until", time_option(until, "--until")))
        if value is not None
    }
    try:
        with Steps("compact", quiet=quiet):
            report = compact(dataset, **window)
    except Exception as exc:
        fail(str(exc))
    if not quiet:
        for line in report:
            say(line)
