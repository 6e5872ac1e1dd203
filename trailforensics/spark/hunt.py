"""Hunting on Spark: every detection's DuckDB SQL transpiled, run by Spark SQL, hits as ``hunt.run_hunt``'s.

The detections are data: each run reads the ``.sql`` files as they are, transpiles them
(:func:`trailforensics.spark.dialect.to_dialect`, macros expanded inline) and hands the rows to
the runner's own ``run_detection`` (evidence columns, row severity), ``filter_hits``,
``sort_hits`` and ``summarize``: the result is a :class:`~trailforensics.hunt.runner.HuntResult`.
``known_accounts`` are the dataset's recipient accounts plus those given, as in ``hunt.sqlenv``.
There is no event narrowing (``hunt.scope``): Spark prunes columns and pushes the filters
down into the Parquet scan of each detection itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.hunt.loader import load_detections
from trailforensics.hunt.model import HITS_SCHEMA, Detection
from trailforensics.hunt.runner import (
    HuntResult,
    filter_hits,
    one_line,
    run_detection,
    select_detections,
    sort_hits,
    summarize,
)
from trailforensics.spark import macros
from trailforensics.spark.dialect import SPARK, to_dialect
from trailforensics.spark.tables import register_views

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkQueries:
    """What ``run_detection`` needs of a dataset (``sql(query, params)``), answered by Spark."""

    def __init__(self, spark: SparkSession, known_accounts: Iterable[str]):
        self.spark = spark
        self.known_accounts = sorted(set(known_accounts))

    def transpile(self, query: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> str:
        return to_dialect(query, SPARK, params or {}, known_accounts=self.known_accounts)

    def sql(self, query: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> pa.Table:
        table: pa.Table = self.spark.sql(self.transpile(query, params)).toArrow()
        return table


def known_accounts(spark: SparkSession, extra: Iterable[str] | None) -> list[str]:
    """The dataset's recipient accounts and ``extra`` (views registered)."""
    rows = spark.sql(
        "SELECT DISTINCT recipient_account_id AS a FROM events WHERE recipient_account_id IS NOT NULL "
        "AND recipient_account_id <> ''"
    ).collect()
    given = {a.strip() for a in (extra or []) if a and a.strip()}
    return sorted({r["a"] for r in rows} | given)


def run_hunt(
    dataset: str | Path,
    *,
    spark: SparkSession | None = None,
    master: str | None = None,
    min_severity: str = "info",
    only: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    known: Iterable[str] | None = None,
    detections: list[Detection] | None = None,
    params: dict[str, dict[str, str]] | None = None,
) -> HuntResult:
    """``hunt.run_hunt`` on Spark (built-in detections; Sigma rules stay on the local engine)."""
    from trailforensics.spark.session import get_session

    session = spark or get_session(master)
    register_views(session, dataset)
    macros.register(session)  # the Arrow UDF; the SQL macros are expanded inline
    chosen = select_detections(
        detections if detections is not None else load_detections(), min_severity=min_severity, only=only
    )
    queries = SparkQueries(session, known_accounts(session, known))
    parts: list[pa.Table] = []
    errors: list[tuple[str, str]] = []
    timings: dict[str, float] = {}
    for det in chosen:
        started = time.perf_counter()
        try:
            parts.append(run_detection(queries, det, (params or {}).get(det.id)))  # type: ignore[arg-type]
        except Exception as exc:  # one broken detection must not stop the hunt
            errors.append((det.id, one_line(exc)))
        timings[det.id] = time.perf_counter() - started
    hits = pa.concat_tables(parts) if parts else HITS_SCHEMA.empty_table()
    hits = sort_hits(filter_hits(hits, min_severity=min_severity, since=since, until=until))
    ran = [d for d in chosen if d.id not in {e[0] for e in errors}]
    summary = summarize(hits, ran)
    return HuntResult(
        summary=summary.drop_columns(["author"]),
        hits=hits.drop_columns(["author"]),
        errors=errors,
        timings=timings,
        detections=ran,
    )
