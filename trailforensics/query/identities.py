"""`identities`: one row per principal and access key, the responder's pivot table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from trailforensics.query.timeline import EventFilter

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset


def identities(
    ds: Dataset, flt: EventFilter | None = None, *, keys: str | None = None, by_key: bool = True
) -> pa.Table:
    """Per (actor, access key): first/last seen, counts and the distinct values to pivot on.

    ``keys`` filters access key ids with a glob (``ASIA*``); ``by_key=False`` rolls every
    key of a principal into one row.  The lists are whole (never cut: the one address that
    matters is often the odd one); the terminal table marks where it shortens a cell.
    """
    flt = flt or EventFilter()
    if keys:
        flt.access_key = keys
    where, params = flt.where(ds)
    key_col = "user_identity_access_key_id" if by_key else "NULL::VARCHAR"
    if not where and ds.has_rollups:
        return _from_rollups(ds, key_col)
    sql = f"""
        SELECT actor, any_value(user_identity_type) AS type, any_value(user_identity_account_id) AS account,
               {key_col} AS access_key,
               min(event_time) AS first_seen, max(event_time) AS last_seen, count(*) AS events,
               count(error_code) AS errors,
               count(*) FILTER (WHERE event_name = 'ConsoleLogin') AS console_logins,
               count(DISTINCT source_ip_address) AS source_ips,
               list_sort(list(DISTINCT source_ip_address) FILTER (WHERE source_ip_address IS NOT NULL)) AS ip_list,
               count(DISTINCT user_agent) AS user_agents,
               list_sort(list(DISTINCT user_agent) FILTER (WHERE user_agent IS NOT NULL)) AS user_agent_list,
               list_sort(list(DISTINCT aws_region) FILTER (WHERE aws_region IS NOT NULL)) AS regions,
               count(DISTINCT event_name) AS event_names
        FROM events{where}
        GROUP BY actor, {key_col}
        ORDER BY first_seen, actor, access_key"""
    return ds.sql(sql, params)


def _from_rollups(ds: Dataset, key_col: str) -> pa.Table:
    """The same table from `rollup_principals` (+ `rollup_actor_apis` for the distinct APIs)."""
    return ds.sql(f"""
        WITH p AS (
            SELECT actor, any_value(user_identity_type) AS type, any_value(user_identity_account_id) AS account,
                   {key_col} AS access_key,
                   min(first_time) AS first_seen, max(last_time) AS last_seen, sum(events)::BIGINT AS events,
                   coalesce(sum(events) FILTER (WHERE error_code IS NOT NULL), 0)::BIGINT AS errors,
                   sum(console_logins)::BIGINT AS console_logins,
                   count(DISTINCT source_ip_address) AS source_ips,
                   list_sort(list(DISTINCT source_ip_address) FILTER (WHERE source_ip_address IS NOT NULL))
                       AS ip_list,
                   count(DISTINCT user_agent) AS user_agents,
                   list_sort(list(DISTINCT user_agent) FILTER (WHERE user_agent IS NOT NULL)) AS user_agent_list,
                   list_sort(list(DISTINCT aws_region) FILTER (WHERE aws_region IS NOT NULL)) AS regions
            FROM rollup_principals GROUP BY actor, {key_col}
        ), a AS (
            SELECT actor, {key_col} AS access_key, count(DISTINCT event_name) AS event_names
            FROM rollup_actor_apis GROUP BY actor, {key_col}
        )
        SELECT p.*, a.event_names
        FROM p JOIN a ON p.actor IS NOT DISTINCT FROM a.actor AND p.access_key IS NOT DISTINCT FROM a.access_key
        ORDER BY first_seen, actor, access_key""")
