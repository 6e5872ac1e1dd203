"""CREATE statements for the dataset's tables on Athena, Trino (Hive connector) and Spark, and
the detections and named queries exported in those dialects.

The column lists come from :mod:`trailforensics.schema` (the one definition of every table), so the
DDL cannot drift from what ingest writes.  ``events`` is partitioned by ``event_date``: Athena gets
partition projection (no ``MSCK REPAIR``), Trino and Spark read the hive layout.  Other tables are
plain Parquet folders.  Only the files a snapshot lists are live: a table over a folder also sees
files of a run being committed or removed by ``compact``; query a dataset that no writer is
changing (copy it to S3 after the last ingest, or sync the snapshot's files only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.schema import DUPLICATES_SCHEMA, EVENT_SCHEMA, MANIFEST_SCHEMA, PARTITION_COLUMN
from trailforensics.schema.rollups import ROLLUPS
from trailforensics.spark.dialect import ATHENA, SPARK, TRINO, to_dialect

ENGINES = (ATHENA, TRINO, SPARK)
_HIVE_TYPES = {  # Athena DDL is Hive DDL
    pa.string(): "string",
    pa.bool_(): "boolean",
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.timestamp("us", tz="UTC"): "timestamp",
    pa.date32(): "date",
}
_TRINO_TYPES = {
    pa.string(): "varchar",
    pa.bool_(): "boolean",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.timestamp("us", tz="UTC"): "timestamp(3) with time zone",
    pa.date32(): "date",
}
_SPARK_TYPES = {**_HIVE_TYPES, pa.timestamp("us", tz="UTC"): "timestamp"}


@dataclass(frozen=True)
class StoredTable:
    name: str
    folder: str  # under the dataset root
    schema: pa.Schema
    partitioned: bool = False
    file_prefix: str | None = None  # tables sharing a folder (the rollups): only their files


def stored_tables() -> list[StoredTable]:
    """Every Parquet table of a dataset (the rollups share the ``rollups/`` folder, one file prefix each)."""
    tables = [
        StoredTable("events", "events", EVENT_SCHEMA, partitioned=True),
        StoredTable("manifest", "manifest", MANIFEST_SCHEMA),
        StoredTable("duplicates", "duplicates", DUPLICATES_SCHEMA),
    ]
    tables += [StoredTable(r.name, "rollups", r.table.schema, file_prefix=f"{r.name}-") for r in ROLLUPS]
    return tables


class DdlError(TrailforensicsError, ValueError):
    pass


def _location(base: str, folder: str) -> str:
    return base.rstrip("/") + "/" + folder + "/"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_statements(
    engine: str,
    location: str,
    *,
    database: str | None = None,
    only: Iterable[str] | None = None,
    first_day: str = "2010-01-01",
) -> list[str]:
    """The CREATE statements of the tables (all, or ``only``) at ``location`` (``s3://bucket/prefix/``)."""
    if engine not in ENGINES:
        raise DdlError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    wanted = set(only) if only else None
    tables = [t for t in stored_tables() if wanted is None or t.name in wanted]
    if engine != SPARK:  # Athena and Trino cannot select a folder's files by name: no rollups there
        tables = [t for t in tables if t.file_prefix is None or (wanted is not None and t.name in wanted)]
        shared = [t.name for t in tables if t.file_prefix is not None]
        if shared:
            raise DdlError(f"{', '.join(shared)}: {engine} cannot read one table of a shared folder (Spark can)")
    if wanted and len(tables) != len(wanted):
        known = ", ".join(t.name for t in stored_tables())
        raise DdlError(f"unknown table(s) {', '.join(sorted(wanted - {t.name for t in tables}))} (tables: {known})")
    prefix = f"{database}." if database else ""
    return [_create(engine, t, location, prefix, first_day) for t in tables]


def _create(engine: str, t: StoredTable, base: str, prefix: str, first_day: str) -> str:
    name = f"{prefix}{t.name}"
    loc = _location(base, t.folder)
    if engine == TRINO:
        cols = ",\n  ".join(f"{f.name} {_TRINO_TYPES[f.type]}" for f in t.schema)
        with_props = [f"external_location = {_quote(loc)}", "format = 'PARQUET'"]
        if t.partitioned:
            cols += f",\n  {PARTITION_COLUMN} date"
            with_props.append(f"partitioned_by = ARRAY['{PARTITION_COLUMN}']")
        return f"CREATE TABLE IF NOT EXISTS {name} (\n  {cols}\n)\nWITH (\n  " + ",\n  ".join(with_props) + "\n)"
    types = _HIVE_TYPES if engine == ATHENA else _SPARK_TYPES
    cols = ",\n  ".join(f"`{f.name}` {types[f.type]}" for f in t.schema)
    if engine == SPARK:
        if t.partitioned:
            cols += f",\n  `{PARTITION_COLUMN}` date"
        part = f"\nPARTITIONED BY ({PARTITION_COLUMN})" if t.partitioned else ""
        options = f"\nOPTIONS (pathGlobFilter {_quote(t.file_prefix + '*.parquet')})" if t.file_prefix else ""
        return f"CREATE TABLE IF NOT EXISTS {name} (\n  {cols}\n)\nUSING PARQUET{options}{part}\nLOCATION {_quote(loc)}"
    part = f"\nPARTITIONED BY (`{PARTITION_COLUMN}` date)" if t.partitioned else ""
    props = ""
    if t.partitioned:
        props = (
            "\nTBLPROPERTIES (\n  'projection.enabled' = 'true',\n"
            f"  'projection.{PARTITION_COLUMN}.type' = 'date',\n"
            f"  'projection.{PARTITION_COLUMN}.format' = 'yyyy-MM-dd',\n"
            f"  'projection.{PARTITION_COLUMN}.range' = '{first_day},NOW',\n"
            f"  'projection.{PARTITION_COLUMN}.interval' = '1',\n"
            f"  'projection.{PARTITION_COLUMN}.interval.unit' = 'DAYS',\n"
            f"  'storage.location.template' = {_quote(loc + PARTITION_COLUMN + '=${' + PARTITION_COLUMN + '}/')}\n)"
        )
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {name} (\n  {cols}\n){part}\n"
        f"STORED AS PARQUET\nLOCATION {_quote(loc)}{props}"
    )


def events_view(engine: str, database: str | None = None) -> str:
    """The ``events`` view with the helper columns (``actor``, ``service``...) over the stored rows."""
    from trailforensics.schema import HELPER_COLUMNS

    prefix = f"{database}." if database else ""
    helpers = ", ".join(f"{to_dialect(c.sql_unverified or c.sql, engine)} AS {c.name}" for c in HELPER_COLUMNS)
    return f"CREATE OR REPLACE VIEW {prefix}events_view AS SELECT e.*, {helpers} FROM {prefix}events e"


def export_queries(engine: str, out: Path, problems: dict[str, str] | None = None) -> list[Path]:
    """Each detection and named query transpiled for ``engine``, parameters at their defaults,
    macros expanded, one ``<id>.sql`` per query (detections under ``detections/``).

    Queries reference ``events`` (the view with helper columns: see :func:`events_view`).
    A query that cannot be expressed in ``engine`` is not written: it is listed in
    ``NOT-EXPORTED.txt`` with the reason (and in ``problems`` when given).
    """
    from trailforensics.hunt.loader import load_detections
    from trailforensics.query.named import load_queries
    from trailforensics.spark.dialect import TranspileError

    if engine not in ENGINES:
        raise DdlError(f"unknown dialect {engine!r} (choose from {', '.join(ENGINES)})")
    written: list[Path] = []
    failures: dict[str, str] = {}
    items: list[tuple[str, str, dict[str, Any] | None, str]] = [
        (f"detections/{d.id}.sql", d.sql, d.bind(), d.title) for d in load_detections()
    ]
    for q in load_queries().values():
        try:
            params = q.bind({})
        except Exception:  # a required parameter: exported with a placeholder the engine's client binds
            params = None
        title = q.meta.get("title", q.name)
        if params is None:
            title += " (parameters to bind: " + ", ".join(p.name for p in q.params) + ")"
        items.append((f"{q.name}.sql", q.sql, params, title))
    for rel, sql, params, title in items:
        try:
            text = to_dialect(sql, engine, params, pretty=True)
        except TranspileError as exc:
            failures[rel] = str(exc).splitlines()[0]
            continue
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(
            f"-- {title.replace(chr(10), ' ')}\n-- transpiled from DuckDB by trailforensics for {engine}\n{text}\n",
            encoding="utf-8",
        )
        written.append(dest)
    if failures:
        (out / "NOT-EXPORTED.txt").write_text(
            "".join(f"{rel}: {why}\n" for rel, why in sorted(failures.items())), encoding="utf-8"
        )
    if problems is not None:
        problems.update(failures)
    return written
