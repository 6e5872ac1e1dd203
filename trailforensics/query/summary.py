"""`summary`: what is in the dataset, at a glance."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa

from trailforensics.normalize.timeparse import format_time
from trailforensics.query.timeline import EventFilter

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

TOP = 10


def summary(ds: Dataset, flt: EventFilter | None = None, top: int = TOP) -> dict[str, pa.Table]:
    """Named sections, each a small table."""
    where, params = (flt or EventFilter()).where(ds)
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
        "ingest_health": ds.sql("""
            SELECT status, coalesce(reason, '') AS reason, count(*) AS files, sum(records)::BIGINT AS records
            FROM files GROUP BY ALL ORDER BY status, files DESC"""),
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
