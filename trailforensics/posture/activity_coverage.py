"""`coverage`: events per account x region x day (or hour), and the holes and oddities in it.

    >>> report = coverage(ds, by="hour")
    >>> report.counts   # long table: account, region, bucket_start, events
    >>> report.flags    # unusual regions and empty hours between busy ones, cross-checked
    >>>                 # against the StopLogging periods reconstructed by `trails`

Global services (IAM, STS, CloudFront, Organizations, Route 53...) log in us-east-1, so
us-east-1 is judged on its other events only: it is never flagged for global services alone.
Counts and region flags come from the rollups when they cover the dataset; the delivery gaps
(silences, missing copies) are in :mod:`trailforensics.posture.delivery_gaps`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.output.sanitize import terminal_safe
from trailforensics.posture.common import (
    GLOBAL_REGION,
    GLOBAL_SOURCES,
    duration_text,
    head_text,
    ranked,
)
from trailforensics.posture.delivery_gaps import (
    ACCOUNT_SQL,
    delivery_locations,
    gap_flags,
    missing_copy_flags,
    stops_overlapping,
)
from trailforensics.posture.trails import TrailReport, trails
from trailforensics.schema import TIMESTAMP

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

BUCKETS = ("day", "hour")
ACTORS_SHOWN = 5  # actors named in a region flag's detail (the ``actors`` column has every one)
SHADES = "░▒▓█"

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
        conds.append(f"{ACCOUNT_SQL} = ?")
        params.append(account)
    return " WHERE " + " AND ".join(conds), params


def _global_sql() -> str:
    listed = ", ".join(f"'{s}'" for s in sorted(GLOBAL_SOURCES))
    return f"(aws_region = '{GLOBAL_REGION}' AND event_source IN ({listed}))"


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
    flags += gap_flags(ds, base, base_params, gap_min, gap_expected, gap_factor, stops, account)
    if missing_share <= 0 or delivery_locations(ds) > 1:  # one location cannot miss its own copies
        flags += missing_copy_flags(ds, base, base_params, missing_run, missing_share, stops)
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
        SELECT {ACCOUNT_SQL} AS account, coalesce(aws_region, 'unknown') AS region,
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
    first = "(event_time, event_id)"  # ties at the same second: the lowest event id, as from the rollups
    total_row = ds.sql(f"SELECT count(*) AS n, min(event_time) AS lo FROM events{where}", params).to_pylist()[0]
    total, data_start = total_row["n"], total_row["lo"]
    if not total:
        return []
    rows = ds.sql(
        f"""
        SELECT coalesce(aws_region, 'unknown') AS region, count(*) AS events,
               min(event_time) AS first_seen, max(event_time) AS last_seen,
               arg_min(event_name, {first}) AS first_event, arg_min(actor, {first}) AS first_actor,
               arg_min(event_id, {first}) AS first_event_id,
               list_sort(list(DISTINCT {ACCOUNT_SQL})) AS accounts,
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
                "stopped_logging": stops_overlapping(
                    stops,
                    accounts[0] if len(accounts) == 1 else None,
                    r["first_seen"],
                    r["last_seen"] + timedelta(seconds=1),
                ),
                "actors": actors,
            }
        )
    return out


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
