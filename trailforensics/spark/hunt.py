"""Hunting on Spark: every detection's DuckDB SQL transpiled, run by Spark SQL, hits as ``hunt.run_hunt``'s.

The detections are data: each run reads the ``.sql`` files as they are, transpiles them
(:func:`trailforensics.spark.dialect.to_dialect`, macros expanded inline) and hands the rows to
the runner's own ``run_detection`` (evidence columns, row severity), ``filter_hits``,
``sort_hits`` and ``summarize``: the result is a :class:`~trailforensics.hunt.runner.HuntResult`.
``known_accounts`` are the dataset's recipient accounts plus those given, as in ``hunt.sqlenv``.

The events are read once, as by the local hunt (:mod:`trailforensics.hunt.scope`, the same
rules): the events of every pair a scoped detection declares, only the columns the detections
name, are cached (on the executors' local disks) as ``tf_hunt_scope``, and each
scoped detection reads its pairs from it; the detections over every event (``events: *``)
read the files themselves.  Without the cache each detection was a job reading the Parquet
files again (886 s for 56 detections on 2 M events, against 54 s for the local hunt).
``main.events`` (whole-dataset baselines) stays the full view.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot

from trailforensics.hunt import scope as hunt_scope
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
from trailforensics.spark.session import parallelism
from trailforensics.spark.tables import register_views

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


SCOPE_VIEW = "tf_hunt_scope"
WHOLE_VIEW = "tf_events_whole"  # DuckDB's main.events when a CTE named events narrows a detection


class SparkQueries:
    """What ``run_detection`` needs of a dataset (``sql(query, params)``), answered by Spark."""

    def __init__(self, spark: SparkSession, known_accounts: Iterable[str], main_events: str | None = None):
        self.spark = spark
        self.known_accounts = sorted(set(known_accounts))
        self.main_events = main_events

    def transpile(self, query: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> str:
        return to_dialect(query, SPARK, params or {}, known_accounts=self.known_accounts, main_events=self.main_events)

    def sql(self, query: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> pa.Table:
        table: pa.Table = self.spark.sql(self.transpile(query, params)).toArrow()
        return table


@dataclass(frozen=True)
class SparkScope(hunt_scope.Scope):
    """The local hunt's scope (same pairs, same narrowing SQL) over a cached Spark view."""

    view: str = SCOPE_VIEW

    @property
    def source(self) -> str:
        return self.view


@dataclass
class _Caches:
    spark: SparkSession
    scope: SparkScope
    views: dict[str, Any]  # view -> its persisted DataFrame (or None), dropped when the hunt ends

    def release(self) -> None:
        for view, frame in self.views.items():
            self.spark.catalog.dropTempView(view)
            if frame is not None:
                frame.unpersist()


def _cache(spark: SparkSession, view: str, query: str) -> Any:
    from pyspark import StorageLevel

    frame = spark.sql(query)
    # On disk (the executors' local folders), never in the heap: held in memory, the 2 M-event
    # dataset's light columns overflowed a 1 GB driver in local mode.  Few, full partitions: the
    # cache is read by every detection, and an empty task costs as much as a full one.
    cores = parallelism(spark)
    if cores:
        frame = frame.coalesce(max(1, cores))
    frame = frame.persist(StorageLevel.DISK_ONLY)
    frame.createOrReplaceTempView(view)
    frame.count()  # read the Parquet files now, once
    return frame


def prepare_caches(spark: SparkSession, detections: Sequence[Detection]) -> _Caches:
    """The scope (``hunt.scope``'s rules), cached once."""
    rows = spark.sql(
        "SELECT DISTINCT event_source, event_name FROM events WHERE event_source IS NOT NULL AND event_name IS NOT NULL"
    ).collect()
    present = frozenset((r["event_source"], r["event_name"]) for r in rows)
    described = spark.table("events").columns
    scoped = [d for d in detections if hunt_scope.is_scoped(d)]
    spark.table("events").createOrReplaceTempView(WHOLE_VIEW)
    views: dict[str, Any] = {WHOLE_VIEW: None}
    # The pairs come from the logs (hostile text): sqlglot prints the literals in Spark's escaping.
    where = sqlglot.parse_one(hunt_scope.scope_filter(scoped, present), read="duckdb").sql(dialect=SPARK)
    columns = ", ".join(f"`{c}`" for c in hunt_scope.named_columns(described, scoped))
    views[SCOPE_VIEW] = _cache(spark, SCOPE_VIEW, f"SELECT {columns} FROM events WHERE {where}")
    # The `events: *` detections read the Parquet files themselves (pruned, filters pushed down):
    # a shared copy of the columns they name held every event's JSON columns (2.1 GB at 2 M events).
    return _Caches(spark, SparkScope(present, Path(SCOPE_VIEW)), views)


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
    scoped: bool = True,
) -> HuntResult:
    """``hunt.run_hunt`` on Spark (built-in detections; Sigma rules stay on the local engine).

    ``scoped``: read the events once into the caches (see the module docstring); without, each
    detection reads the dataset's files itself (the same hits)."""
    from trailforensics.spark.session import get_session

    session = spark or get_session(master)
    register_views(session, dataset)
    macros.register(session)  # for ad-hoc SQL; a detection gets the macros expanded inline
    chosen = select_detections(
        detections if detections is not None else load_detections(), min_severity=min_severity, only=only
    )
    queries = SparkQueries(session, known_accounts(session, known), main_events=WHOLE_VIEW if scoped else None)
    parts: list[pa.Table] = []
    errors: list[tuple[str, str]] = []
    timings: dict[str, float] = {}
    caches, prepare_seconds = None, 0.0
    if scoped:
        started = time.perf_counter()
        caches = prepare_caches(session, chosen)
        prepare_seconds = time.perf_counter() - started
    try:
        for det in chosen:
            started = time.perf_counter()
            try:
                if caches is None:
                    table = run_detection(queries, det, (params or {}).get(det.id))  # type: ignore[arg-type]
                else:
                    table = run_detection(
                        queries,  # type: ignore[arg-type]
                        det,
                        (params or {}).get(det.id),
                        narrowed=caches.scope,
                    )
                parts.append(table)
            except Exception as exc:  # one broken detection must not stop the hunt
                errors.append((det.id, one_line(exc)))
            timings[det.id] = time.perf_counter() - started
    finally:
        if caches is not None:
            caches.release()
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
        prepare_seconds=prepare_seconds,
    )
