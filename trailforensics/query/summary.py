"""`summary`: what is in the dataset, at a glance."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.normalize.timeparse import format_time
from trailforensics.query.timeline import EventFilter
from trailforensics.schema import SERVICE_SQL

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

TOP = 10


def summary(ds: Dataset, flt: EventFilter | None = None, top: int = TOP) -> dict[str, pa.Table]:
    """Named sections, each a small table.

    Without a filter the answer comes from the rollups (a few thousand rows whatever the
    number of events) when the dataset has them; with one, from a scan of the events.  Both
    give the same tables (tests compare them).
    """
    where, params = (flt or EventFilter()).where(ds)
    if not where and ds.has_rollups:
        return summary_from_rollups(ds, top)
    return summary_from_events(ds, where, params, top)


def summary_from_events(ds: Dataset, where: str, params: list[Any], top: int = TOP) -> dict[str, pa.Table]:
    ev = f"(SELECT * FROM events{where})"

    def q(sql: str) -> pa.Table:
        return ds.sql(sql, params if "?" in sql or params else None) if params else ds.sql(sql)

    return {
        "overview": q(f"""
            SELECT count(*) AS events, min(event_time) AS first_event, max(event_time) AS last_event,
                   count(DISTINCT recipient_account_id) AS accounts, count(DISTINCT aws_region) AS regions,
                   count(DISTINCT actor) AS actors, count(DISTINCT source_ip_address) AS source_ips,
                   count(error_code) AS errors,
                   round(100.0 * count(error_code) / nullif(count(*), 0), 2) AS error_rate_pct,
                   (SELECT count(*) FROM duplicates) AS duplicates_dropped
            FROM {ev}"""),
        "accounts": q(f"""
            SELECT recipient_account_id AS account, count(*) AS events, min(event_time) AS first_event,
                   max(event_time) AS last_event
            FROM {ev} GROUP BY ALL ORDER BY events DESC, account"""),
        "regions": q(f"""
            SELECT aws_region AS region, count(*) AS events, count(DISTINCT actor) AS actors,
                   min(event_time) AS first_event, max(event_time) AS last_event
            FROM {ev} GROUP BY ALL ORDER BY events DESC, region"""),
        "categories": q(f"""
            SELECT event_category AS category, event_type AS type, count(*) AS events
            FROM {ev} GROUP BY ALL ORDER BY events DESC, category, type"""),
        "top_events": q(f"""
            SELECT event_name, service, count(*) AS events, count(error_code) AS errors
            FROM {ev} GROUP BY ALL ORDER BY events DESC, event_name LIMIT {int(top)}"""),
        "top_actors": q(f"""
            SELECT actor, any_value(user_identity_type) AS type, count(*) AS events, count(error_code) AS errors,
                   count(DISTINCT source_ip_address) AS source_ips
            FROM {ev} GROUP BY actor ORDER BY events DESC, actor LIMIT {int(top)}"""),
        "top_source_ips": q(f"""
            SELECT source_ip_address AS source_ip, count(*) AS events, count(DISTINCT actor) AS actors,
                   count(error_code) AS errors
            FROM {ev} GROUP BY ALL ORDER BY events DESC, source_ip LIMIT {int(top)}"""),
        "errors": q(f"""
            SELECT error_code, count(*) AS events, count(DISTINCT actor) AS actors
            FROM {ev} WHERE error_code IS NOT NULL GROUP BY ALL ORDER BY events DESC, error_code LIMIT {int(top)}"""),
        "ingest_health": ds.sql(INGEST_HEALTH_SQL),
    }


INGEST_HEALTH_SQL = """
    SELECT status, coalesce(reason, '') AS reason, count(*) AS files, sum(records)::BIGINT AS records
    FROM files GROUP BY ALL ORDER BY status, files DESC, reason"""

# The summary's sections from the rollups: `rollup_hourly` for counts by time, account, region
# and API; `rollup_principals` for anything about actors and addresses.  Region and IP joins
# use IS NOT DISTINCT FROM because the scan groups NULLs together.
_BY_REGION_ACTORS = """
    SELECT aws_region, count(DISTINCT actor) AS actors FROM rollup_principals GROUP BY ALL"""


def summary_from_rollups(ds: Dataset, top: int = TOP) -> dict[str, pa.Table]:
    top = int(top)
    return {
        "overview": ds.sql("""
            WITH h AS (
                SELECT coalesce(sum(events), 0)::BIGINT AS events, min(first_time) AS first_event,
                       max(last_time) AS last_event, count(DISTINCT recipient_account_id) AS accounts,
                       count(DISTINCT aws_region) AS regions,
                       coalesce(sum(events) FILTER (WHERE error_code IS NOT NULL), 0)::BIGINT AS errors
                FROM rollup_hourly),
            p AS (
                SELECT count(DISTINCT actor) AS actors, count(DISTINCT source_ip_address) AS source_ips
                FROM rollup_principals)
            SELECT events, first_event, last_event, accounts, regions, actors, source_ips, errors,
                   round(100.0 * errors / nullif(events, 0), 2) AS error_rate_pct,
                   (SELECT count(*) FROM duplicates) AS duplicates_dropped
            FROM h, p"""),
        "accounts": ds.sql("""
            SELECT recipient_account_id AS account, sum(events)::BIGINT AS events, min(first_time) AS first_event,
                   max(last_time) AS last_event
            FROM rollup_hourly GROUP BY ALL ORDER BY events DESC, account"""),
        "regions": ds.sql(f"""
            WITH h AS (
                SELECT aws_region, sum(events)::BIGINT AS events, min(first_time) AS first_event,
                       max(last_time) AS last_event
                FROM rollup_hourly GROUP BY ALL)
            SELECT h.aws_region AS region, h.events, coalesce(a.actors, 0) AS actors, h.first_event, h.last_event
            FROM h LEFT JOIN ({_BY_REGION_ACTORS}) a ON a.aws_region IS NOT DISTINCT FROM h.aws_region
            ORDER BY events DESC, region"""),
        "categories": ds.sql("""
            SELECT event_category AS category, event_type AS type, sum(events)::BIGINT AS events
            FROM rollup_hourly GROUP BY ALL ORDER BY events DESC, category, type"""),
        "top_events": ds.sql(f"""
            SELECT event_name, {SERVICE_SQL} AS service, sum(events)::BIGINT AS events,
                   coalesce(sum(events) FILTER (WHERE error_code IS NOT NULL), 0)::BIGINT AS errors
            FROM rollup_hourly GROUP BY ALL ORDER BY events DESC, event_name LIMIT {top}"""),
        "top_actors": ds.sql(f"""
            SELECT actor, any_value(user_identity_type) AS type, sum(events)::BIGINT AS events,
                   coalesce(sum(events) FILTER (WHERE error_code IS NOT NULL), 0)::BIGINT AS errors,
                   count(DISTINCT source_ip_address) AS source_ips
            FROM rollup_principals GROUP BY actor ORDER BY events DESC, actor LIMIT {top}"""),
        "top_source_ips": ds.sql(f"""
            SELECT source_ip_address AS source_ip, sum(events)::BIGINT AS events, count(DISTINCT actor) AS actors,
                   coalesce(sum(events) FILTER (WHERE error_code IS NOT NULL), 0)::BIGINT AS errors
            FROM rollup_principals GROUP BY ALL ORDER BY events DESC, source_ip LIMIT {top}"""),
        "errors": ds.sql(f"""
            SELECT error_code, sum(events)::BIGINT AS events, count(DISTINCT actor) AS actors
            FROM rollup_principals WHERE error_code IS NOT NULL
            GROUP BY ALL ORDER BY events DESC, error_code LIMIT {top}"""),
        "ingest_health": ds.sql(INGEST_HEALTH_SQL),
    }


def _text(value: object) -> str | None:
    """A cell as text: times in ISO 8601 UTC with Z (never Python's `2026-03-09 00:00:00+00:00`)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_time(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value)


def flatten(sections: dict[str, pa.Table]) -> pa.Table:
    """One long table (section, row, column, value) for csv/jsonl/parquet output."""
    rows = []
    for name, table in sections.items():
        for i, row in enumerate(table.to_pylist()):
            for col, value in row.items():
                rows.append({"section": name, "row": i, "column": col, "value": _text(value)})
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [("section", pa.string()), ("row", pa.int32()), ("column", pa.string()), ("value", pa.string())]
        ),
    )
