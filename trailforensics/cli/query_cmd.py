"""`sql`, `timeline`, `summary`, `identities` and `query`: thin skins over trailforensics.query."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from trailforensics.cli import app
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


def sql_error(exc: Exception) -> str:
    """DuckDB errors as one line (they carry the position as `LINE n:` plus a caret)."""
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    where = next((ln.strip() for ln in lines[1:] if ln.strip().startswith("LINE")), "")
    return f"{first} ({where})" if where else first


@app.command("sql")
def sql_command(
    query: str = typer.Argument(None, help="SQL (SELECT/EXPLAIN only). Omit to read --file or stdin."),
    file: Path = typer.Option(None, "--file", help="Read the SQL from this file."),
    dataset: Path = DatasetOption,
    fmt: str = FormatOption,
    out: Path = OutOption,
    json_as_text: bool = JsonAsTextOption,
    engine: str = EngineOption,
    spark_master: str = SparkMasterOption,
) -> None:
    """Run read-only SQL against the dataset (views: events, files, manifest, duplicates, ...)."""
    fmt = output_format(fmt, out)
    if query is None:
        try:
            query = file.read_text(encoding="utf-8") if file else sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}")
    if use_spark(engine):
        from trailforensics.spark import commands

        emit(commands.sql(dataset, query, spark_master), fmt, out)
        return
    import duckdb

    ds = open_dataset(dataset)
    try:
        table = ds.user_sql(query)
    except duckdb.OutOfMemoryException:
        raise  # said once, with the memory limit, by the command group
    except duckdb.Error as exc:
        fail(sql_error(exc))
    if table is not None:
        emit(table, fmt, out, json_as_text=json_as_text)


@app.command("timeline")
def timeline_command(
    dataset: Path = DatasetOption,
    since: str = typer.Option(None, help="From this time (ISO 8601, or relative: -7d, 2h, 30m)."),
    until: str = typer.Option(None, help="Until this time (exclusive)."),
    actor: str = typer.Option(None, help="Actor (substring, or a glob with * ?)."),
    arn: str = typer.Option(None, help="Exact principal or role ARN."),
    access_key: str = typer.Option(None, "--access-key", help="Access key id (glob allowed)."),
    ip: str = typer.Option(None, help="Source IP or network (10.0.0.0/8, 2001:db8::/32)."),
    event_name: str = typer.Option(None, "--event-name", help="Event name glob, e.g. 'Create*'."),
    event_source: str = typer.Option(None, "--event-source", help="Service: iam or iam.amazonaws.com."),
    region: str = typer.Option(None, help="Region (glob)."),
    account: str = typer.Option(None, help="Account id (recipient or caller)."),
    errors_only: bool = typer.Option(False, "--errors-only", help="Only failed calls."),
    writes_only: bool = typer.Option(False, "--writes-only", help="Only calls that are not read-only."),
    limit: int = typer.Option(None, help="At most this many events."),
    columns: str = typer.Option(None, help="Comma-separated columns instead of the defaults."),
    fmt: str = FormatOption,
    out: Path = OutOption,
    json_as_text: bool = JsonAsTextOption,
    engine: str = EngineOption,
    spark_master: str = SparkMasterOption,
) -> None:
    """Events in time order, with the filters responders pivot on."""
    from trailforensics.query.timeline import EventFilter, timeline

    fmt = output_format(fmt, out)
    flt = EventFilter(
        since=time_option(since, "--since"),
        until=time_option(until, "--until"),
        actor=actor,
        arn=arn,
        access_key=access_key,
        ip=ip,
        event_name=event_name,
        event_source=event_source,
        region=region,
        account=account,
        errors_only=errors_only,
        writes_only=writes_only,
    )
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if use_spark(engine):
        from trailforensics.spark import commands

        emit(commands.timeline(dataset, flt, cols, limit, spark_master), fmt, out, title="timeline")
        return
    ds = open_dataset(dataset)
    table = timeline(ds, flt, columns=cols, limit=limit)
    emit(table, fmt, out, title="timeline", json_as_text=json_as_text, max_rows=limit)


@app.command("summary")
def summary_command(
    dataset: Path = DatasetOption,
    since: str = typer.Option(None, help="From this time."),
    until: str = typer.Option(None, help="Until this time (exclusive)."),
    top: int = typer.Option(10, help="Rows in each top-N section."),
    fmt: str = FormatOption,
    out: Path = OutOption,
) -> None:
    """Time range, accounts, regions, categories, top events/actors/IPs, errors, ingest health."""
    from trailforensics.output.formats import plain
    from trailforensics.output.provenance import with_version
    from trailforensics.query.summary import flatten, summary
    from trailforensics.query.timeline import EventFilter

    fmt = output_format(fmt, out)
    ds = open_dataset(dataset)
    flt = EventFilter(since=time_option(since, "--since"), until=time_option(until, "--until"))
    sections = summary(ds, flt, top=top)
    if fmt == "table" and out is None:
        for name, table in sections.items():
            emit(table, "table", None, title=name.replace("_", " "))
        return
    if fmt == "json":
        with out_sink(out) as sink:
            sink.json(with_version({name: [plain(r) for r in t.to_pylist()] for name, t in sections.items()}))
        return
    emit(flatten(sections), fmt, out)


@app.command("identities")
def identities_command(
    dataset: Path = DatasetOption,
    keys: str = typer.Option(None, help="Only access keys matching this glob, e.g. 'ASIA*'."),
    actor: str = typer.Option(None, help="Actor (substring or glob)."),
    since: str = typer.Option(None, help="From this time."),
    until: str = typer.Option(None, help="Until this time (exclusive)."),
    by_principal: bool = typer.Option(False, "--by-principal", help="One row per principal (keys merged)."),
    fmt: str = FormatOption,
    out: Path = OutOption,
) -> None:
    """One row per principal and access key: first/last seen, IPs, user agents, regions, errors."""
    from trailforensics.query.identities import identities
    from trailforensics.query.timeline import EventFilter

    fmt = output_format(fmt, out)
    ds = open_dataset(dataset)
    flt = EventFilter(since=time_option(since, "--since"), until=time_option(until, "--until"), actor=actor)
    emit(identities(ds, flt, keys=keys, by_key=not by_principal), fmt, out, title="identities")


@app.command("query")
def query_command(
    name: str = typer.Argument(None, help="Named query to run."),
    params: list[str] = typer.Option([], "--param", "-p", help="Parameter as key=value (repeatable)."),
    list_: bool = typer.Option(False, "--list", help="List the named queries and their parameters."),
    queries_dir: list[Path] = typer.Option([], "--queries-dir", help="Also load queries from this folder."),
    dataset: Path = DatasetOption,
    fmt: str = FormatOption,
    out: Path = OutOption,
    json_as_text: bool = JsonAsTextOption,
) -> None:
    """Run a named query from queries/ (and --queries-dir); parameters are bound, never pasted."""
    import duckdb

    from trailforensics.query.named import load_queries, run_query

    fmt = output_format(fmt, out)
    queries = load_queries(list(queries_dir))
    if list_ or not name:
        for q in sorted(queries.values(), key=lambda q: q.name):
            plist = " ".join(f"{p.name}:{p.type}" + ("" if p.required else f"={p.default}") for p in q.params)
            say(f"{q.name:28} {q.title}" + (f"  [{plist}]" if plist else ""))
        return
    if name not in queries:
        fail(f"no named query {name!r} (see `trailforensics query --list`)")
    given: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--param expects key=value, got {item!r}")
        given[key.strip()] = value
    ds = open_dataset(dataset)
    try:
        table = run_query(ds, queries[name], given)
    except duckdb.OutOfMemoryException:
        raise  # said once, with the memory limit, by the command group
    except duckdb.Error as exc:
        fail(f"{name}: {sql_error(exc)}")
    emit(table, fmt, out, title=queries[name].title, json_as_text=json_as_text)
