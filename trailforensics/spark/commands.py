"""What the CLI's ``--engine spark`` runs: one function per command, the CLI only parses and prints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError

if TYPE_CHECKING:
    from trailforensics.query.timeline import EventFilter


class SparkCommandError(TrailforensicsError, ValueError):
    pass


def _session(master: str | None) -> Any:
    from trailforensics.spark.session import get_session

    return get_session(master)


def sql(dataset: Path, query: str, master: str | None = None) -> pa.Table:
    """A SELECT (DuckDB dialect, as for the local engine) run by Spark SQL over the dataset's views."""
    import sqlglot

    from trailforensics.spark import macros
    from trailforensics.spark.hunt import SparkQueries, known_accounts
    from trailforensics.spark.tables import register_views

    statements = sqlglot.parse(query, read="duckdb")
    if len(statements) != 1 or not isinstance(statements[0], sqlglot.exp.Query):
        raise SparkCommandError("--engine spark runs one SELECT statement")
    spark = _session(master)
    register_views(spark, dataset)
    macros.register(spark)
    return SparkQueries(spark, known_accounts(spark, None)).sql(query)


def timeline(
    dataset: Path, flt: EventFilter, columns: list[str] | None, limit: int | None, master: str | None = None
) -> pa.Table:
    """The timeline's own SQL (``query.timeline``), run by Spark."""
    from trailforensics.query.timeline import DEFAULT_COLUMNS
    from trailforensics.spark.hunt import SparkQueries
    from trailforensics.spark.tables import register_views

    if flt.ip:
        raise SparkCommandError("--ip is not available with --engine spark yet (it needs the local address UDF)")
    where, params = flt.where(None)
    cols = columns or list(DEFAULT_COLUMNS)
    unknown = [c for c in cols if c not in DEFAULT_COLUMNS]
    select = ", ".join(f"{DEFAULT_COLUMNS[c]} AS {c}" if c in DEFAULT_COLUMNS else c for c in cols)
    if unknown and columns:
        select = ", ".join(f"{DEFAULT_COLUMNS[c]} AS {c}" if c in DEFAULT_COLUMNS else f'"{c}"' for c in cols)
    query = f"SELECT {select} FROM events{where} ORDER BY event_time, event_id"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    spark = _session(master)
    register_views(spark, dataset)
    return SparkQueries(spark, []).sql(query, params)


def ingest(sources: Sequence[str | Path], dataset: Path, options: Any, master: str | None = None) -> Any:
    from trailforensics.spark.ingest import ingest as spark_ingest

    return spark_ingest(sources, dataset, options, master=master)


def hunt(dataset: Path, master: str | None = None, **kwargs: Any) -> Any:
    from trailforensics.spark.hunt import run_hunt

    if kwargs.pop("sigma", None):
        raise SparkCommandError("--sigma runs on the local engine only")
    kwargs["known"] = kwargs.pop("known_accounts", None)
    return run_hunt(dataset, master=master, **kwargs)
