"""Who and where: user agents and the identities first seen during the incident window.

Read from ``rollup_principals`` when the rollups cover the dataset and no window is asked for,
else from a scan of the window, like ``summary``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.query.timeline import EventFilter
from trailforensics.report.model import NEW_IDENTITIES_CAP, ReportOptions

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset


def _principal_source(ds: Dataset, opts: ReportOptions | None) -> tuple[str, list[Any]]:
    """Rows (actor, key, address, user agent, region, events, first/last time) from the rollup or a scan."""
    since = opts.since if opts else None
    until = opts.until if opts else None
    if ds.has_rollups and since is None and until is None:
        return "rollup_principals", []
    where, params = EventFilter(since=since, until=until).where(ds)
    return (
        "(SELECT actor, user_identity_type, user_identity_access_key_id, source_ip_address, user_agent, "
        "aws_region, recipient_account_id, error_code, 1::BIGINT AS events, event_time AS first_time, "
        f"event_time AS last_time FROM events{where})",
        params,
    )


def user_agents(ds: Dataset, opts: ReportOptions) -> pa.Table:
    source, params = _principal_source(ds, opts)
    return ds.sql(
        f"""SELECT user_agent, sum(events)::BIGINT AS events, count(DISTINCT actor) AS actors,
                   min(first_time) AS first_seen, max(last_time) AS last_seen
            FROM {source} GROUP BY ALL ORDER BY events DESC, user_agent LIMIT {int(opts.top)}""",
        params,
    )


def new_identities(ds: Dataset, incident: tuple[datetime, datetime] | None) -> tuple[pa.Table, int]:
    """Principals and keys whose first event in the whole dataset falls in the incident window."""
    source, params = _principal_source(ds, None)
    if incident is None:
        return pa.table({"actor": pa.array([], pa.string())}), 0
    sql = f"""
        SELECT actor, user_identity_access_key_id AS access_key, min(first_time) AS first_seen,
               max(last_time) AS last_seen, sum(events)::BIGINT AS events,
               list_sort(list(DISTINCT source_ip_address) FILTER (WHERE source_ip_address IS NOT NULL)) AS ips
        FROM {source} WHERE actor IS NOT NULL GROUP BY ALL
        HAVING min(first_time) >= ? AND min(first_time) <= ?"""
    params = [*params, incident[0], incident[1]]
    total = int(ds.sql(f"SELECT count(*) AS n FROM ({sql})", params).column("n")[0].as_py())
    rows = ds.sql(f"{sql} ORDER BY first_seen, actor, access_key LIMIT {NEW_IDENTITIES_CAP}", params)
    return rows, total
