"""`coverage`: events per account x region x day (or hour), and the holes and oddities in it.

    >>> report = coverage(ds, by="hour")
    >>> report.counts   # long table: account, region, bucket_start, events
    >>> report.flags    # unusual regions and empty hours between busy ones, cross-checked
    >>>                 # against the StopLogging periods reconstructed by `trails`

Global services (IAM, STS, CloudFront, Organizations, Route 53...) log in us-east-1, so
us-east-1 is judged on its other events only: it is never flagged for global services alone.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.output.sanitize import terminal_safe
from trailforensics.posture.common import (
    GLOBAL_REGION,
    GLOBAL_SOURCES,
    LOCATION_SQL,
    duration_text,
    head_text,
    iso,
    ranked,
)
from trailforensics.posture.trails import TrailReport, trails
from trailforensics.schema import TIMESTAMP

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

BUCKETS = ("day", "hour")
ACTORS_SHOWN = 5  # actors named in a region flag's detail (the ``actors`` column has every one)
SHADES = "░▒▓█"
HOUR = timedelta(hours=1)

COUNTS_SCHEMA = pa.schema(
    [("account", pa.string()), ("region", pa.string()), ("bucket_start", TIMESTAMP), ("events", pa.int64())]
)
FLAGS_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("source", pa.string()),
        ("account", pa.string()),
        ("region", pa.string()),
        ("start", TIMESTAMP),
        ("end", TIMESTAMP),
        ("events", pa.int64()),
        ("detail", pa.string()),
        ("first_event", pa.string()),
        ("first_actor", pa.string()),
        ("event_id", pa.string()),
        ("stopped_logging", pa.string()),
        ("actors", pa.list_(pa.string())),  # region flags: every actor, the most active first
    ]
)


@dataclass
class CoverageReport:
    by: str
    counts: pa.Table
    flags: pa.Table

    def sections(self) -> dict[str, pa.Table]:
        return {"counts": self.counts, "flags": self.flags}


_ACCOUNT = "coalesce(recipient_account_id, source_account_id, user_identity_account_id, 'unknown')"


def _where(since: datetime | None, until: datetime | None, account: str | None) -> tuple[str, list[Any]]:
    conds: list[str] = ["event_time IS NOT NULL"]
    params: list[Any] = []
    if since:
        conds.append("event_time >= ?")
        params.append(since)
    if until:
        conds.append("event_time < ?")
        params.append(until)
    if account:
        conds.append(f"{_ACCOUNT} = ?")
        params.append(account)
    return " WHERE " + " AND ".join(conds), params


def _global_sql() -> str:
    listed = ", ".join(f"'{s}'" for s in sorted(GLOBAL_SOURCES))
    return f"(aws_region = '{GLOBAL_REGION}' AND event_source IN ({listed}))"


def _stops_overlapping(stops: list[dict[str, Any]], account: str | None, start: datetime, end: datetime) -> str | None:
    hits = []
    for s in stops:
        s_end = s["started_at"] or datetime.max.replace(tzinfo=start.tzinfo)
        if s["stopped_at"] < end and start < s_end and (account is None or s["account"] in (account, "unknown")):
            until = iso(s["started_at"]) if s["started_at"] else "the end of the data"
            hits.append(f"{s['trail_name']} stopped {iso(s['stopped_at'])} until {until} by {s['stopped_by']}")
    return "; ".join(hits) or None


def coverage(
    ds: Dataset,
    *,
    by: str = "day",
    since: datetime | None = None,
    until: datetime | None = None,
    account: str | None = None,
    rare_share: float = 0.01,
    new_after: timedelta = timedelta(hours=24),
    gap_min: timedelta = timedelta(minutes=20),
    gap_expected: float = 10.0,
    gap_factor: float = 3.0,
    missing_run: int = 5,
    missing_share: float = 0.8,
    trail_report: TrailReport | None = None,
) -> CoverageReport:
    """Counts per account x region x ``by`` bucket, plus flags.

    ``since``/``until`` only choose what is shown: the counts in the window, and the flags whose
    span overlaps it.  The baselines a flag is judged against (a region's share and first
    appearance, a series' usual rate and silences, a location's share of the copies) always come
    from the whole dataset (of ``account``, when given), so narrowing the window never adds,
    drops or changes a flag.

    * ``region``: a region (us-east-1 judged without global services) holding less than
      ``rare_share`` of the events, or whose first event comes more than ``new_after`` after
      the data starts;
    * ``gap``: a silence of at least ``gap_min`` (and ``gap_factor`` times the series' own
      99th-percentile silence) in one delivery location (trail bucket) x account x region where
      the usual rate predicts at least ``gap_expected`` events;
    * ``missing-copies``: ``missing_run`` consecutive management events of an account x region that
      other delivery locations have and one location, which normally has ``missing_share`` of them,
      lacks (one trail stopped while another kept logging).  A location that delivered files
      of the account for a region (its digests, say) and holds ``missing_share`` of the account's
      copies in the regions it delivers for is expected to have that region's events too, even
      when the region was never used before.
    """
    if by not in BUCKETS:
        raise ValueError(f"--by must be one of {', '.join(BUCKETS)}")
    counts = _counts(ds, by, since, until, account).cast(COUNTS_SCHEMA)
    report = trail_report or trails(ds)
    stops = report.stops.to_pylist()
    base, base_params = _where(None, None, account)  # the baselines: never the display window
    if ds.has_rollups and account is None:
        flags = _region_flags_from_rollups(ds, rare_share, new_after, stops)
    else:
        flags = _region_flags(ds, base, base_params, rare_share, new_after, stops)
    flags += _gap_flags(ds, base, base_params, gap_min, gap_expected, gap_factor, stops)
    if missing_share <= 0 or _delivery_locations(ds) > 1:  # one location cannot miss its own copies
        flags += _missing_copy_flags(ds, base, base_params, missing_run, missing_share, stops)
    flags = [f for f in flags if _overlaps(f, since, until)]
    flags.sort(key=lambda f: (f["kind"], f["start"], f["account"] or "", f["region"] or ""))
    return CoverageReport(by, counts, pa.Table.from_pylist(flags, schema=FLAGS_SCHEMA))


def _on_the_hour(t: datetime | None) -> bool:
    return t is None or (t.minute == 0 and t.second == 0 and t.microsecond == 0)


def _counts(ds: Dataset, by: str, since: datetime | None, until: datetime | None, account: str | None) -> pa.Table:
    """Events per account x region x bucket: from `rollup_hourly` when it can answer exactly (the
    window starts and ends on the hour), else from a scan of the events."""
    if ds.has_rollups and _on_the_hour(since) and _on_the_hour(until):
        conds, params = ["hour IS NOT NULL"], []
        for cond, value in (("hour >= ?", since), ("hour < ?", until), ("account = ?", account)):
            if value is not None:
                conds.append(cond)
                params.append(value)
        return ds.sql(
            f"""
            SELECT account, coalesce(aws_region, 'unknown') AS region,
                   date_trunc('{by}', hour) AS bucket_start, sum(events)::BIGINT AS events
            FROM rollup_hourly WHERE {" AND ".join(conds)}
            GROUP BY ALL ORDER BY account, region, bucket_start""",
            params,
        )
    where, params = _where(since, until, account)
    return ds.sql(
        f"""
        SELECT {_ACCOUNT} AS account, coalesce(aws_region, 'unknown') AS region,
               date_trunc('{by}', event_time) AS bucket_start, count(*) AS events
        FROM events{where} GROUP BY ALL ORDER BY account, region, bucket_start""",
        params,
    )


def _overlaps(flag: dict[str, Any], since: datetime | None, until: datetime | None) -> bool:
    """Whether a flag's span [start, end] meets the window [since, until)."""
    start, end = flag["start"], flag["end"] or flag["start"]
    return (since is None or end >= since) and (until is None or start < until)


def _region_flags(
    ds: Dataset,
    where: str,
    params: list[Any],
    rare_share: float,
    new_after: timedelta,
    stops: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    glob = _global_sql()
    total_row = ds.sql(f"SELECT count(*) AS n, min(event_time) AS lo FROM events{where}", params).to_pylist()[0]
    total, data_start = total_row["n"], total_row["lo"]
    if not total:
        return []
    rows = ds.sql(
        f"""
        SELECT coalesce(aws_region, 'unknown') AS region, count(*) AS events,
               min(event_time) AS first_seen, max(event_time) AS last_seen,
               arg_min(event_name, event_time) AS first_event, arg_min(actor, event_time) AS first_actor,
               arg_min(event_id, event_time) AS first_event_id,
               list_sort(list(DISTINCT {_ACCOUNT})) AS accounts,
               histogram(actor) FILTER (WHERE actor IS NOT NULL) AS actor_counts
        FROM events{where} AND NOT {glob}
        GROUP BY ALL""",
        params,
    ).to_pylist()
    return _region_flag_rows(rows, total, data_start, rare_share, new_after, stops)


def _region_flags_from_rollups(
    ds: Dataset, rare_share: float, new_after: timedelta, stops: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The same flags from the rollups; only the first event of a flagged region is read from `events`
    (one row group or two, found by its time)."""
    glob = _global_sql()
    total_row = ds.sql(
        "SELECT sum(events)::BIGINT AS n, min(first_time) AS lo FROM rollup_hourly WHERE hour IS NOT NULL"
    ).to_pylist()[0]
    total, data_start = total_row["n"], total_row["lo"]
    if not total:
        return []
    rows = ds.sql(
        f"""
        WITH h AS (
            SELECT coalesce(aws_region, 'unknown') AS region, sum(events)::BIGINT AS events,
                   min(first_time) AS first_seen, max(last_time) AS last_seen,
                   list_sort(list(DISTINCT account)) AS accounts
            FROM rollup_hourly WHERE hour IS NOT NULL AND NOT {glob} GROUP BY ALL
        ), a AS (
            SELECT region, list(struct_pack(k := actor, v := n)) AS actor_counts FROM (
                SELECT coalesce(aws_region, 'unknown') AS region, actor, sum(events)::BIGINT AS n
                FROM rollup_actor_apis WHERE first_time IS NOT NULL AND actor IS NOT NULL AND NOT {glob}
                GROUP BY ALL
            ) GROUP BY ALL
        )
        SELECT h.*, a.actor_counts FROM h LEFT JOIN a USING (region)"""
    ).to_pylist()
    for r in rows:
        r["actor_counts"] = [(kv["k"], kv["v"]) for kv in r["actor_counts"] or ()]
    flagged = _region_flag_rows(rows, total, data_start, rare_share, new_after, stops, first=None)
    for f in flagged:
        first = ds.sql(
            f"""
            SELECT event_name, actor, event_id FROM events
            WHERE event_time = ? AND coalesce(aws_region, 'unknown') = ? AND NOT {glob}
            ORDER BY event_id LIMIT 1""",
            [f["start"], f["region"]],
        ).to_pylist()
        if first:
            f["first_event"], f["first_actor"], f["event_id"] = (
                first[0]["event_name"],
                first[0]["actor"],
                first[0]["event_id"],
            )
    return flagged


def _region_flag_rows(
    rows: list[dict[str, Any]],
    total: int,
    data_start: datetime,
    rare_share: float,
    new_after: timedelta,
    stops: list[dict[str, Any]],
    first: bool | None = True,
) -> list[dict[str, Any]]:
    """Flag rows for the regions that are rare or new (``first=None``: the first-event columns are
    filled in by the caller)."""
    out = []
    for r in rows:
        share = r["events"] / total
        late = r["first_seen"] - data_start
        reasons = []
        if share < rare_share:
            reasons.append(f"rare: {r['events']} events, {share:.2%} of all")
        if late > new_after:
            reasons.append(
                f"new: first event ever seen in this region, {duration_text(late.total_seconds())} "
                "after the data starts"
            )
        if not reasons:
            continue
        accounts = [a for a in r["accounts"] if a]
        actors = ranked(dict(r["actor_counts"] or ()))
        detail = (
            "; ".join(reasons)
            + f"; accounts {', '.join(accounts)}; {len(actors)} actor(s): "
            + head_text(actors, ACTORS_SHOWN)
        )
        if r["region"] == GLOBAL_REGION:
            detail += " (global-service events not counted)"
        out.append(
            {
                "kind": "region",
                "account": accounts[0] if len(accounts) == 1 else None,
                "region": r["region"],
                "start": r["first_seen"],
                "end": r["last_seen"],
                "events": r["events"],
                "detail": detail,
                "first_event": r["first_event"] if first else None,
                "first_actor": r["first_actor"] if first else None,
                "event_id": r["first_event_id"] if first else None,
                "stopped_logging": _stops_overlapping(
                    stops,
                    accounts[0] if len(accounts) == 1 else None,
                    r["first_seen"],
                    r["last_seen"] + timedelta(seconds=1),
                ),
                "actors": actors,
            }
        )
    return out


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
                   {_ACCOUNT} AS account, coalesce(aws_region, 'unknown') AS region, event_time, event_id,
                   recipient_account_id, coalesce(event_category, 'Management') = 'Management' AS mgmt
            FROM copies{where}
        )"""


MINUTE = timedelta(minutes=1)
SeriesKey = tuple[str, str, str]


def _silences_by_scan(
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


def _silences_by_minute(
    ds: Dataset, where: str, params: list[Any], min_silence: timedelta, factor: float
) -> tuple[dict[SeriesKey, dict[datetime, int]], list[dict[str, Any]]] | None:
    """The same answer as :func:`_silences_by_scan` from one aggregation into minute buckets.

    Every silence inside a bucket is shorter than a minute; the silences between consecutive
    buckets (first event of one minus last event of the previous) are exact.  A flagged silence is
    at least ``min_silence`` (>= 1 min), so it always lies between buckets.  The 99th percentile
    is exact whenever its order statistics are at least a minute (they are then between-bucket
    silences, whose rank is known from the count of shorter ones); when they fall among the
    sub-minute ones it is below a minute, and the threshold is ``min_silence`` as long as
    ``factor`` times that bound is.  Returns None when a series needs the exact value (then the
    caller scans).
    """
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


def _gap_flags(
    ds: Dataset,
    where: str,
    params: list[Any],
    min_silence: timedelta,
    min_expected: float,
    factor: float,
    stops: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Silences in a busy series: no event for ``min_silence`` or more, ``factor`` times longer than the
    series' own 99th-percentile silence, where the usual rate (median events an hour over the 6 hours
    before and after) predicts ``min_expected`` events."""
    found = _silences_by_minute(ds, where, params, min_silence, factor) if min_silence >= MINUTE else None
    counts, silences = found if found is not None else _silences_by_scan(ds, where, params, min_silence, factor)
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
                "stopped_logging": _stops_overlapping(stops, g["account"], g["prev"], g["next"]),
            }
        )
    return out


def _delivery_locations(ds: Dataset) -> int:
    """How many delivery locations (trail buckets) the events and their dropped copies came from."""
    row = ds.sql(
        f"""SELECT count(DISTINCT {LOCATION_SQL}) AS n FROM (
                SELECT DISTINCT source_file FROM events_raw UNION SELECT DISTINCT source_file FROM duplicates)"""
    ).to_pylist()[0]
    return int(row["n"])


def _missing_copy_flags(
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
                "stopped_logging": _stops_overlapping(stops, r["account"], start, end + timedelta(seconds=1)),
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


# -- terminal heat map ---------------------------------------------------------------------------
def _shade(n: int, top: int) -> str:
    if n <= 0:
        return "·"
    level = 1 + int((len(SHADES) - 1) * math.log1p(n) / math.log1p(top)) if top > 1 else len(SHADES)
    return SHADES[min(level, len(SHADES)) - 1]


def heatmap_lines(report: CoverageReport) -> list[str]:
    """The counts as a compact heat map: one row per account/region (per day with --by hour)."""
    rows = report.counts.to_pylist()
    if not rows:
        return ["no events"]
    top = max(r["events"] for r in rows)
    cells: dict[tuple[str, ...], dict[Any, int]] = defaultdict(dict)
    if report.by == "day":
        days = sorted({r["bucket_start"] for r in rows})
        span = [days[0] + timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)]
        for r in rows:
            cells[(r["account"], r["region"])][r["bucket_start"]] = r["events"]
        label_w = max(len(f"{a} {g}") for a, g in cells)
        lines = [f"{'':{label_w}}  {span[0]:%Y-%m-%d} .. {span[-1]:%Y-%m-%d} (one column per day)"]
        for (acct, region), row in sorted(cells.items()):
            bar = "".join(_shade(row.get(d, 0), top) for d in span)
            lines.append(f"{terminal_safe(f'{acct} {region}'):{label_w}}  {bar}  {sum(row.values()):,}")
    else:
        for r in rows:
            b = r["bucket_start"]
            cells[(r["account"], r["region"], f"{b:%Y-%m-%d}")][b.hour] = r["events"]
        label_w = max(len(" ".join(k)) for k in cells)
        lines = [
            f"{'':{label_w}}  " + "".join(str(h // 10) for h in range(24)),
            f"{'':{label_w}}  " + "".join(str(h % 10) for h in range(24)) + "  hour (UTC)",
        ]
        for key, row in sorted(cells.items()):
            bar = "".join(_shade(row.get(h, 0), top) for h in range(24))
            lines.append(f"{terminal_safe(' '.join(key)):{label_w}}  {bar}  {sum(row.values()):,}")
    lines.append(f"scale: · none  {'  '.join(SHADES)}  (log scale up to {top:,} events per {report.by})")
    return lines
