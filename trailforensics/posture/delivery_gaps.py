"""Delivery gaps in `coverage`: silences in a busy series and runs of missing copies.

A series is one delivery location (the folder holding ``AWSLogs/``: a trail's bucket) x account x
region.  Both flags read every delivered copy of every event (kept rows and dropped duplicates):

* ``gap``: a silence far longer than the series' usual ones.  Found from one aggregation of the
  copies into minute buckets (exact; see :func:`silences_by_minute`), with a window over every
  copy as the fallback;
* ``missing-copies``: consecutive management events other locations delivered and one that
  usually has them did not (a trail stopped while another kept logging).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.posture.common import LOCATION_SQL, days_filter, duration_text, iso

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

HOUR = timedelta(hours=1)
# coverage's account: the account the event was delivered to, else the one that called
ACCOUNT_SQL = "coalesce(recipient_account_id, source_account_id, user_identity_account_id, 'unknown')"


def stops_overlapping(stops: list[dict[str, Any]], account: str | None, start: datetime, end: datetime) -> str | None:
    hits = []
    for s in stops:
        s_end = s["started_at"] or datetime.max.replace(tzinfo=start.tzinfo)
        if s["stopped_at"] < end and start < s_end and (account is None or s["account"] in (account, "unknown")):
            until = iso(s["started_at"]) if s["started_at"] else "the end of the data"
            hits.append(f"{s['trail_name']} stopped {iso(s['stopped_at'])} until {until} by {s['stopped_by']}")
    return "; ".join(hits) or None


def _copies_sql(where: str) -> str:
    """Every delivered copy of every event (kept rows plus the duplicates dropped at ingest), per source.

    A source is the delivery location: the folder holding ``AWSLogs/`` (one per trail's bucket
    when buckets are synced side by side).  Counting copies per source shows one trail's silence
    even when another trail delivered the same events.
    """
    return f"""
        WITH copies AS (
            SELECT source_file, event_time, event_id, recipient_account_id, source_account_id,
                   user_identity_account_id, aws_region, event_category
            FROM events
            UNION ALL
            SELECT d.source_file, e.event_time, e.event_id, e.recipient_account_id, e.source_account_id,
                   e.user_identity_account_id, e.aws_region, e.event_category
            FROM duplicates d JOIN events e
              ON d.event_id = e.event_id
             AND d.recipient_account_id IS NOT DISTINCT FROM e.recipient_account_id
        ), series AS (
            SELECT {LOCATION_SQL} AS source,
                   {ACCOUNT_SQL} AS account, coalesce(aws_region, 'unknown') AS region, event_time, event_id,
                   recipient_account_id, coalesce(event_category, 'Management') = 'Management' AS mgmt
            FROM copies{where}
        )"""


MINUTE = timedelta(minutes=1)
SeriesKey = tuple[str, str, str]


def silences_by_scan(
    ds: Dataset, where: str, params: list[Any], min_silence: timedelta, factor: float
) -> tuple[dict[SeriesKey, dict[datetime, int]], list[dict[str, Any]]]:
    """Hourly counts per series and the long silences, from every event (a window over all of them)."""
    copies = _copies_sql(where)
    hourly = ds.sql(
        copies
        + """
        SELECT source, account, region, date_trunc('hour', event_time) AS hour, count(*) AS events
        FROM series GROUP BY ALL""",
        params,
    ).to_pylist()
    counts: dict[SeriesKey, dict[datetime, int]] = defaultdict(dict)
    for r in hourly:
        counts[(r["source"], r["account"], r["region"])][r["hour"]] = r["events"]
    silences = ds.sql(
        copies
        + f"""
        , lagged AS (
            SELECT source, account, region, event_time AS next,
                   lag(event_time) OVER (PARTITION BY source, account, region ORDER BY event_time) AS prev
            FROM series
        ), usual AS (
            SELECT source, account, region, quantile_cont(epoch(next - prev), 0.99) AS p99
            FROM lagged WHERE prev IS NOT NULL GROUP BY ALL
        )
        SELECT l.source, l.account, l.region, l.prev, l.next
        FROM lagged l JOIN usual u USING (source, account, region)
        WHERE epoch(l.next - l.prev) >= greatest({min_silence.total_seconds()}, {factor} * u.p99)
        ORDER BY l.source, l.account, l.region, l.prev""",
        params,
    ).to_pylist()
    return counts, silences


def _lerp(lo: float, hi: float, d: float) -> float:
    return lo + (hi - lo) * d  # as DuckDB's quantile_cont interpolates


def _minutes_from_rollups(ds: Dataset, account: str | None) -> pa.Table:
    """Copies per series x minute: the kept events from `rollup_minutes`, plus the dropped copies
    (joined to their kept event only on the days that have any, so that a dataset without
    duplicates never reads `events`)."""
    acct, params = ("AND account = ?", [account]) if account else ("", [])
    kept = f"""
        SELECT {LOCATION_SQL} AS source, account, coalesce(aws_region, 'unknown') AS region, minute,
               events AS n, first_time AS first, last_time AS last
        FROM rollup_minutes WHERE minute IS NOT NULL"""
    days = ds.sql("SELECT DISTINCT CAST(event_time AS DATE) AS d FROM duplicates WHERE event_time IS NOT NULL")
    parts = [kept]
    if days.num_rows:
        parts.append(
            f"""
            SELECT {LOCATION_SQL} AS source, {ACCOUNT_SQL} AS account, coalesce(aws_region, 'unknown') AS region,
                   date_trunc('minute', event_time) AS minute, count(*) AS n,
                   min(event_time) AS first, max(event_time) AS last
            FROM (SELECT d.source_file, e.event_time, e.recipient_account_id, e.source_account_id,
                         e.user_identity_account_id, e.aws_region
                  FROM duplicates d JOIN events e
                    ON d.event_id = e.event_id
                   AND d.recipient_account_id IS NOT DISTINCT FROM e.recipient_account_id
                  WHERE {days_filter(days.column("d").to_pylist(), "e.event_date")} AND e.event_time IS NOT NULL)
            GROUP BY ALL"""
        )
    return ds.sql(
        f"""SELECT source, account, region, minute, sum(n)::BIGINT AS n, min(first) AS first, max(last) AS last
            FROM ({" UNION ALL ".join(parts)}) WHERE true {acct} GROUP BY ALL""",
        params,
    )


def silences_by_minute(
    ds: Dataset,
    where: str,
    params: list[Any],
    min_silence: timedelta,
    factor: float,
    account: str | None = None,
) -> tuple[dict[SeriesKey, dict[datetime, int]], list[dict[str, Any]]] | None:
    """The same answer as :func:`_silences_by_scan` from one aggregation into minute buckets.

    Every silence inside a bucket is shorter than a minute; the silences between consecutive
    buckets (first event of one minus last event of the previous) are exact.  A flagged silence is
    at least ``min_silence`` (>= 1 min), so it always lies between buckets.  The 99th percentile
    is exact whenever its order statistics are at least a minute (they are then between-bucket
    silences, whose rank is known from the count of shorter ones); when they fall among the
    sub-minute ones it is below a minute, and the threshold is ``min_silence`` as long as
    ``factor`` times that bound is.  Returns None when a series needs the exact value (then the
    caller scans).  The minute buckets come from `rollup_minutes` when the dataset has rollups
    (``account`` is then the filter ``where`` expresses for a scan).
    """
    if ds.has_rollups:
        minutes = _minutes_from_rollups(ds, account)
    else:
        minutes = ds.sql(
            _copies_sql(where)
            + """
            SELECT source, account, region, date_trunc('minute', event_time) AS minute, count(*) AS n,
                   min(event_time) AS first, max(event_time) AS last
            FROM series GROUP BY ALL""",
            params,
        )
    ds.con.register("_coverage_minutes", minutes)
    try:
        hourly = ds.sql(
            """SELECT source, account, region, date_trunc('hour', minute) AS hour, sum(n)::BIGINT AS events,
                      count(*) AS buckets
               FROM _coverage_minutes GROUP BY ALL"""
        ).to_pylist()
        between = ds.sql(
            """SELECT * FROM (
                   SELECT source, account, region, first AS next,
                          lag(last) OVER (PARTITION BY source, account, region ORDER BY minute) AS prev
                   FROM _coverage_minutes)
               WHERE prev IS NOT NULL AND epoch(next - prev) >= 60
               ORDER BY source, account, region, prev"""
        ).to_pylist()
    finally:
        ds.con.unregister("_coverage_minutes")
    counts: dict[SeriesKey, dict[datetime, int]] = defaultdict(dict)
    totals: dict[SeriesKey, int] = defaultdict(int)
    for r in hourly:
        key = (r["source"], r["account"], r["region"])
        counts[key][r["hour"]] = r["events"]
        totals[key] += r["events"]
    long_ones: dict[SeriesKey, list[dict[str, Any]]] = defaultdict(list)
    for g in between:
        long_ones[(g["source"], g["account"], g["region"])].append(g)
    floor = min_silence.total_seconds()
    out: list[dict[str, Any]] = []
    for key in sorted(long_ones):
        gaps = long_ones[key]
        values = sorted((g["next"] - g["prev"]).total_seconds() for g in gaps)  # every silence >= 1 min
        m = totals[key] - 1  # silences in the series
        shorter = m - len(values)  # silences under a minute, values unknown
        rn = (m - 1) * 0.99
        lo, hi = math.floor(rn), math.ceil(rn)
        if lo >= shorter:
            p99 = _lerp(values[lo - shorter], values[hi - shorter], rn - lo)
        else:
            bound = 60.0 if hi < shorter else _lerp(60.0, values[hi - shorter], rn - lo)
            if factor * bound > floor:
                return None
            p99 = 0.0  # below the floor whatever its exact value
        threshold = max(floor, factor * p99)
        out.extend(g for g in gaps if (g["next"] - g["prev"]).total_seconds() >= threshold)
    return counts, out


def gap_flags(
    ds: Dataset,
    where: str,
    params: list[Any],
    min_silence: timedelta,
    min_expected: float,
    factor: float,
    stops: list[dict[str, Any]],
    account: str | None = None,
) -> list[dict[str, Any]]:
    """Silences in a busy series: no event for ``min_silence`` or more, ``factor`` times longer than the
    series' own 99th-percentile silence, where the usual rate (median events an hour over the 6 hours
    before and after) predicts ``min_expected`` events."""
    found = silences_by_minute(ds, where, params, min_silence, factor, account) if min_silence >= MINUTE else None
    counts, silences = found if found is not None else silences_by_scan(ds, where, params, min_silence, factor)
    out = []
    for g in silences:
        series = counts[(g["source"], g["account"], g["region"])]
        first, last = (
            g["prev"].replace(minute=0, second=0, microsecond=0),
            g["next"].replace(minute=0, second=0, microsecond=0),
        )
        around = [series.get(first - i * HOUR, 0) for i in range(6)] + [
            series.get(last + i * HOUR, 0) for i in range(6)
        ]
        rate = statistics.median(around)
        silence = g["next"] - g["prev"]
        expected = rate * silence / HOUR
        if expected < min_expected:
            continue
        out.append(
            {
                "kind": "gap",
                "source": g["source"],
                "account": g["account"],
                "region": g["region"],
                "start": g["prev"],
                "end": g["next"],
                "events": 0,
                "detail": f"no event for {duration_text(silence.total_seconds())} "
                f"where about {rate:g} an hour "
                f"are usual ({expected:.0f} expected): possible logging gap",
                "first_event": None,
                "first_actor": None,
                "event_id": None,
                "stopped_logging": stops_overlapping(stops, g["account"], g["prev"], g["next"]),
            }
        )
    return out


def delivery_locations(ds: Dataset) -> int:
    """How many delivery locations (trail buckets) the events and their dropped copies came from."""
    kept = "rollup_minutes" if ds.has_rollups else "events_raw"  # every event's file is in the rollup
    row = ds.sql(
        f"""SELECT count(DISTINCT {LOCATION_SQL}) AS n FROM (
                SELECT DISTINCT source_file FROM {kept} UNION SELECT DISTINCT source_file FROM duplicates)"""
    ).to_pylist()[0]
    return int(row["n"])


def missing_copy_flags(
    ds: Dataset, where: str, params: list[Any], min_run: int, min_share: float, stops: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Runs of management events that a delivery location usually has a copy of, but not these.

    With two trails over the same account (an organisation trail and an account trail, say), an
    event normally arrives through both.  ``min_run`` or more consecutive events of an account x
    region delivered by other locations only, where this location holds at least ``min_share`` of
    them overall, mean it stopped delivering: logging stopped, the trail changed, or its files
    were deleted.
    """
    rows = ds.sql(
        _copies_sql(where)
        + f"""
        , sources AS (SELECT DISTINCT source FROM series)
        , per_event AS (
            SELECT account, region, min(event_time) AS event_time, list(DISTINCT source) AS srcs
            FROM series WHERE mgmt AND event_id IS NOT NULL
            GROUP BY event_id, recipient_account_id, account, region
        ), delivered AS (  -- the account x regions each location delivered files (logs, digests) for
            SELECT DISTINCT {LOCATION_SQL} AS source, account_id AS account, region
            FROM files
            WHERE kind IN ('cloudtrail', 'cloudtrail-digest') AND status <> 'failed'
              AND account_id IS NOT NULL AND region IS NOT NULL
        ), account_shares AS (  -- a location holding most of an account's copies where it delivers
            SELECT d.source, p.account
            FROM per_event p JOIN delivered d ON p.account = d.account AND p.region = d.region
            GROUP BY ALL
            HAVING count(*) FILTER (WHERE list_contains(p.srcs, d.source)) >= {min_share} * count(*)
        ), region_shares AS (  -- a location holding most of the copies of an account x region
            SELECT s.source, p.account, p.region
            FROM per_event p CROSS JOIN sources s
            GROUP BY ALL
            HAVING count(*) FILTER (WHERE list_contains(p.srcs, s.source)) >= {min_share} * count(*)
               AND count(*) FILTER (WHERE NOT list_contains(p.srcs, s.source)) >= {min_run}
               AND count(DISTINCT p.srcs) > 1
        ), shares AS (
            SELECT source, account, region, bool_or(by_region) AS by_region FROM (
                SELECT *, true AS by_region FROM region_shares
                UNION ALL
                SELECT d.source, d.account, d.region, false
                FROM account_shares a JOIN delivered d ON a.source = d.source AND a.account = d.account
            ) GROUP BY ALL
        ), marked AS (
            SELECT sh.source, sh.by_region, p.account, p.region, p.event_time,
                   list_contains(p.srcs, sh.source) AS has,
                   sum(CASE WHEN list_contains(p.srcs, sh.source) THEN 1 ELSE 0 END) OVER (
                       PARTITION BY sh.source, p.account, p.region ORDER BY p.event_time
                       ROWS UNBOUNDED PRECEDING) AS grp
            FROM per_event p JOIN shares sh ON p.account = sh.account AND p.region = sh.region
        )
        SELECT source, by_region, account, region, grp, count(*) FILTER (WHERE NOT has) AS missing,
               max(event_time) FILTER (WHERE has) AS prev,
               min(event_time) FILTER (WHERE NOT has) AS first_missing,
               max(event_time) FILTER (WHERE NOT has) AS last_missing
        FROM marked GROUP BY ALL
        HAVING count(*) FILTER (WHERE NOT has) >= {int(min_run)}
        ORDER BY source, account, region, first_missing""",
        params,
    ).to_pylist()
    out = []
    for r in rows:
        start, end = r["first_missing"], r["last_missing"]
        out.append(
            {
                "kind": "missing-copies",
                "source": r["source"],
                "account": r["account"],
                "region": r["region"],
                "start": start,
                "end": end,
                "events": r["missing"],
                "detail": f"{r['missing']} management events from {iso(start)} to {iso(end)} "
                f"were delivered by other trails but not by {r['source']}, {_expected_because(r)}: "
                "it stopped delivering or its files were deleted "
                f"(last copy before: {iso(r['prev']) or 'none'})",
                "first_event": None,
                "first_actor": None,
                "event_id": None,
                "stopped_logging": stops_overlapping(stops, r["account"], start, end + timedelta(seconds=1)),
            }
        )
    return out


def _expected_because(row: dict[str, Any]) -> str:
    if row["by_region"]:
        return "which has a copy of most of them"
    return (
        f"which delivers files for {row['region']} and has a copy of most of the account's events "
        "in the regions it delivers for"
    )
