"""Activity over time: events per hour (or day) by account or region, and errors, for the chart.

Read from ``rollup_hourly`` when the rollups cover the dataset and no window is asked for, else
from a scan of the window (the same rows either way: a test compares them).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.query.timeline import EventFilter
from trailforensics.report.model import DAY_BUCKETS_AFTER_HOURS, OTHER, SERIES, Activity, ReportOptions
from trailforensics.schema.rollups import COVERAGE_ACCOUNT_SQL

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset


def _hourly_source(ds: Dataset, opts: ReportOptions) -> tuple[str, list[Any]]:
    """Rows (hour, account, region, error, events) from the rollup, or from a scan of the window."""
    if ds.has_rollups and opts.since is None and opts.until is None:
        return (
            "SELECT hour, account, coalesce(aws_region, 'unknown') AS region, error_code, events "
            "FROM rollup_hourly WHERE hour IS NOT NULL",
            [],
        )
    where, params = EventFilter(since=opts.since, until=opts.until).where(ds)
    cond = f"{where} AND event_time IS NOT NULL" if where else " WHERE event_time IS NOT NULL"
    return (
        f"SELECT date_trunc('hour', event_time) AS hour, {COVERAGE_ACCOUNT_SQL} AS account, "
        f"coalesce(aws_region, 'unknown') AS region, error_code, 1::BIGINT AS events FROM events{cond}",
        params,
    )


def activity(ds: Dataset, opts: ReportOptions) -> Activity:
    source, params = _hourly_source(ds, opts)
    span = ds.sql(f"SELECT min(hour) AS a, max(hour) AS b, count(DISTINCT account) AS n FROM ({source})", params)
    first, last, accounts = (span.column(c)[0].as_py() for c in ("a", "b", "n"))
    bucket = "day" if first and last and (last - first).total_seconds() / 3600 > DAY_BUCKETS_AFTER_HOURS else "hour"
    series_by = "account" if (accounts or 0) > 1 else "region"
    totals = ds.sql(
        f"SELECT {series_by} AS s, sum(events)::BIGINT AS n FROM ({source}) GROUP BY ALL ORDER BY n DESC, s", params
    )
    names = [str(s) for s in totals.column("s").to_pylist()]
    kept = names if len(names) <= SERIES + 1 else names[:SERIES]  # never an "other" of one
    grouped = ds.sql(
        f"""SELECT date_trunc('{bucket}', hour) AS start, {series_by} AS s, sum(events)::BIGINT AS events,
                   coalesce(sum(events) FILTER (WHERE error_code IS NOT NULL), 0)::BIGINT AS errors
            FROM ({source}) GROUP BY ALL ORDER BY start""",
        params,
    ).to_pylist()
    counts: Counter[tuple[datetime, str]] = Counter()
    errors: Counter[datetime] = Counter()
    for row in grouped:
        series = row["s"] if row["s"] in kept else OTHER
        counts[(row["start"], series)] += row["events"]
        errors[row["start"]] += row["errors"]
    series_list = kept + ([OTHER] if len(names) > len(kept) else [])
    return Activity(
        bucket=bucket,
        series_by=series_by,
        series=series_list,
        counts=pa.Table.from_pylist(
            [{"start": t, "series": s, "events": n} for (t, s), n in sorted(counts.items())],
            schema=pa.schema(
                [("start", pa.timestamp("us", tz="UTC")), ("series", pa.string()), ("events", pa.int64())]
            ),
        ),
        errors=pa.Table.from_pylist(
            [{"start": t, "errors": n} for t, n in sorted(errors.items())],
            schema=pa.schema([("start", pa.timestamp("us", tz="UTC")), ("errors", pa.int64())]),
        ),
    )
