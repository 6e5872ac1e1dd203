"""`hunt` and `detections`: options in, ``trailforensics.hunt.run_hunt`` (detections and Sigma), output out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from trailforensics.cli import app, interrupted
from trailforensics.cli.common import (
    DatasetOption,
    EngineOption,
    FormatOption,
    JsonAsTextOption,
    OutOption,
    SparkMasterOption,
    emit,
    fail,
    open_dataset,
    out_sink,
    output_format,
    say,
    time_option,
    use_spark,
)
from trailforensics.cli.progress import Steps
from trailforensics.errors import TrailforensicsError
from trailforensics.output.choices import FORMATS
from trailforensics.output.sink import Sink

if TYPE_CHECKING:  # the hunt (DuckDB, Arrow) loads when a command runs, not for --help
    from trailforensics.hunt.model import Detection
    from trailforensics.hunt.runner import HuntResult

TABLE_COLUMNS = (
    "event_time",
    "actor",
    "access_key",
    "source_ip",
    "region",
    "event_name",
    "details",
    "author",
    "event_id",
)
EXIT_HELP = (
    "Exit status: 0 when the hunt ran, whether or not anything was found; 1 on errors (bad options, "
    "unreadable dataset or files, a detection that failed: its error is printed and the other "
    "detections' results are still written)."
)


def _load(dirs: list[Path]) -> list[Detection]:
    from trailforensics.hunt.loader import load_detections
    from trailforensics.hunt.model import DetectionError

    try:
        return load_detections(list(dirs))
    except DetectionError as exc:
        fail(str(exc))


class _HuntBar(Steps):
    def step(self, name: str = "") -> None:
        if interrupted():  # Ctrl-C during the last detection, reported by DuckDB as its failure: stop here
            raise KeyboardInterrupt
        super().step(name)


def _bar(detections: list[Detection], min_severity: str, only: list[str] | None) -> Steps:
    """The progress bar over the detections to run (on a terminal); it also stops the hunt after Ctrl-C."""
    from trailforensics.hunt.runner import select_detections

    try:
        total: int | None = len(select_detections(detections, min_severity=min_severity, only=only))
    except TrailforensicsError:  # an unknown id: run_hunt says so
        total = None
    return _HuntBar("hunt", total)


def _params(items: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        det, dot, name = key.strip().partition(".")
        if not sep or not dot or not det or not name:
            fail(f"--param expects DETECTION.NAME=VALUE, got {item!r}")
        out.setdefault(det, {})[name] = value
    return out


def _write_table_output(result: HuntResult, out: Path | None) -> None:
    import pyarrow.compute as pc

    from trailforensics.output.formats import write_table

    with out_sink(out) as fh:
        write_table(
            result.summary.filter(pc.or_(pc.greater(result.summary["hits"], 0), pc.is_valid(result.summary["note"])))
            if result.hits.num_rows
            else result.summary,
            "table",
            None,
            title="hunt summary",
            stream=fh,
        )
        # The terminal is narrow: the columns responders pivot on; the other formats carry them all.
        shown = [c for c in TABLE_COLUMNS if c in result.hits.column_names]
        for row in result.summary.to_pylist():
            if not row["hits"]:
                continue
            hits = result.hits.filter(pc.equal(result.hits.column("detection_id"), row["detection_id"]))
            attack = row["attack"] or "no ATT&CK id"
            title = f"[{row['severity']}] {row['detection_id']}: {row['title']} ({attack})"
            write_table(
                hits.select(shown + (["severity"] if len(set(hits.column("severity").to_pylist())) > 1 else [])),
                "table",
                None,
                title=title,
                stream=fh,
            )


def timing_lines(timings: dict[str, float], wall: float) -> list[str]:
    """``--timings``: seconds per detection, most expensive first, their total and the hunt's wall time
    (which also counts what the detections share: reading the events once, the baselines)."""
    width = max((len(name) for name in timings), default=5)
    lines = ["timings (seconds, most expensive first):"]
    for name, seconds in sorted(timings.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {name:<{width}}  {seconds:9.3f}")
    lines.append(f"  {'total':<{width}}  {sum(timings.values()):9.3f}")
    lines.append(f"  {'wall clock':<{width}}  {wall:9.3f}")
    return lines


def _write_json(result: HuntResult, out: Path | None, json_as_text: bool = False) -> None:
    from trailforensics.output.formats import nest_json, plain
    from trailforensics.output.provenance import with_version

    nest = (lambda row: row) if json_as_text else nest_json
    doc = with_version(
        {
            "summary": [plain(r) for r in result.summary.to_pylist()],
            "hits": [nest(plain(r)) for r in result.hits.to_pylist()],
            "errors": [{"detection": d, "error": e} for d, e in result.errors],
        }
    )
    with out_sink(out) as sink:
        sink.json(doc)


@app.command("hunt", epilog=EXIT_HELP)
def hunt_command(
    dataset: Path = DatasetOption,
    min_severity: str = typer.Option("info", "--min-severity", help="info, low, medium, high or critical."),
    only: str = typer.Option(None, "--only", help="Comma-separated detection ids to run."),
    since: str = typer.Option(
        None,
        help="Only hits from this time (ISO 8601 or relative: -7d, 2h). Baselines still use the whole dataset.",
    ),
    until: str = typer.Option(None, help="Only hits before this time (exclusive)."),
    known_accounts: Path = typer.Option(
        None,
        "--known-accounts",
        help="File of trusted account ids (one per line, # comments), besides the dataset's own accounts.",
    ),
    sigma: list[Path] = typer.Option([], "--sigma", help="Sigma rule file or folder (repeatable)."),
    params: list[str] = typer.Option(
        [],
        "--param",
        "-p",
        help="Detection parameter as ID.NAME=VALUE, e.g. recon_burst.min_distinct_calls=15 (repeatable).",
    ),
    detections_dir: list[Path] = typer.Option([], "--detections-dir", help="Also load detections from this folder."),
    timings: bool = typer.Option(
        False, "--timings", help="Then print the seconds each detection took, most expensive first (stderr)."
    ),
    fmt: str = FormatOption,
    out: Path = OutOption,
    json_as_text: bool = JsonAsTextOption,
    engine: str = EngineOption,
    spark_master: str = SparkMasterOption,
) -> None:
    """Run the built-in detections (and Sigma rules): a summary per detection, then the hits as evidence."""
    from trailforensics.hunt import runner
    from trailforensics.hunt.model import DetectionError, normalize_severity
    from trailforensics.hunt.sigma_bridge import SigmaPathError
    from trailforensics.hunt.sqlenv import read_known_accounts

    fmt = output_format(fmt, out, formats=FORMATS)
    try:
        min_severity = normalize_severity(min_severity)
    except DetectionError as exc:
        fail(f"--min-severity: {exc}")
    detections = _load(detections_dir)
    overrides = _params(params)
    only_ids = [o.strip() for o in only.split(",") if o.strip()] if only else None
    since_t, until_t = time_option(since, "--since"), time_option(until, "--until")
    accounts = read_known_accounts(known_accounts) if known_accounts else []
    options = dict(
        min_severity=min_severity,
        only=only_ids,
        since=since_t,
        until=until_t,
        known_accounts=accounts,
        detections=detections,
        params=overrides,
        sigma=sigma or None,
    )
    started = time.perf_counter()
    try:
        if use_spark(engine):
            from trailforensics.spark import commands

            result = commands.hunt(dataset, spark_master, **options)
        else:
            ds = open_dataset(dataset)
            if not ds.sql("SELECT 1 FROM events LIMIT 1").num_rows:  # not a summary of zeros for every detection
                say(
                    f"the dataset {ds.path} is empty: no events to hunt in (ingest CloudTrail logs into it first)",
                    err=True,
                )
                return
            with _bar(detections, min_severity, only_ids) as bar:
                result = runner.run_hunt(ds, **options, before_each=bar.step)  # type: ignore[arg-type]
    except SigmaPathError as exc:
        fail(f"--sigma: {exc}")
    wall = time.perf_counter() - started
    if interrupted():  # DuckDB reported Ctrl-C as a failed detection: stop, say it once
        raise KeyboardInterrupt
    for file, error in result.sigma.skipped if result.sigma else []:
        say(f"warning: Sigma rule {file} skipped: {error}", err=True)
    if fmt == "table":
        _write_table_output(result, out)
    elif fmt == "json":
        _write_json(result, out, json_as_text)
    else:
        emit(result.hits, fmt, out, title="hunt hits", json_as_text=json_as_text)
    with_hits = sum(1 for n in result.summary.column("hits").to_pylist() if n)
    say(
        f"{result.hits.num_rows} hit(s) from {with_hits} of {result.summary.num_rows} detection(s)"
        + (f" ({len(result.sigma.rules)} Sigma rule(s) loaded)" if result.sigma else ""),
        err=True,
    )
    if timings:
        Sink.stderr().lines(timing_lines(result.timings, wall))
    for det_id, error in result.errors:
        say(f"error: detection {det_id} failed: {error}", err=True)
    if result.errors:
        raise typer.Exit(1)


@app.command("detections")
def detections_command(
    detections_dir: list[Path] = typer.Option([], "--detections-dir", help="Also load detections from this folder."),
    fmt: str = FormatOption,
    out: Path = OutOption,
    dialect: str = typer.Option(None, "--dialect", help="With --export: athena, trino or spark."),
    export: Path = typer.Option(
        None, "--export", help="Write each detection and named query, transpiled, to this folder."
    ),
) -> None:
    """List the detections `hunt` runs, with their severity, ATT&CK ids and parameters."""
    import pyarrow as pa

    if export is not None or dialect is not None:
        from trailforensics.spark.ddl import DdlError, export_queries

        if export is None or dialect is None:
            fail("--export DIR and --dialect athena|trino|spark go together")
        problems: dict[str, str] = {}
        try:
            written = export_queries(dialect, export, problems)
        except DdlError as exc:
            fail(str(exc))
        say(f"{len(written)} statement(s) written to {export}", err=True)
        for rel, why in sorted(problems.items()):
            say(f"not exported: {rel}: {why}", err=True)
        return

    fmt = output_format(fmt, out)
    rows = [d.metadata() for d in _load(detections_dir)]
    if fmt == "table":
        keep = ("id", "severity", "attack", "attack_v19", "title", "params")
        rows = [{k: r[k] for k in keep} for r in rows]
    emit(pa.Table.from_pylist(rows), fmt, out, title="detections")


@app.command("ddl")
def ddl_command(
    engine: str = typer.Option(..., "--engine", help="athena, trino or spark."),
    location: str = typer.Option(..., "--location", help="Where the dataset folder is, e.g. s3://bucket/prefix/."),
    table: list[str] = typer.Option([], "--table", help="Only this table (repeatable; default: every table)."),
    database: str = typer.Option(None, "--database", help="Qualify the tables with this database/schema."),
) -> None:
    """Print CREATE statements for the dataset's tables on Athena (partition projection), Trino or Spark."""
    from trailforensics.spark.ddl import DdlError, create_statements, events_view

    try:
        statements = create_statements(engine, location, database=database, only=table or None)
    except DdlError as exc:
        fail(str(exc))
    if not table or "events" in table:
        statements.append(events_view(engine, database))
    with out_sink(None) as sink:
        sink.write(";\n\n".join(statements) + ";\n")
