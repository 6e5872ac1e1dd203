"""`timeline`: events in time order, filtered the way responders pivot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.query.ipmatch import ip_condition

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

# The default columns, chosen for a responder: who, with which key, from where, did what.
DEFAULT_COLUMNS: dict[str, str] = {
    "event_time": "event_time",
    "actor": "actor",
    "access_key": "user_identity_access_key_id",
    "source_ip": "source_ip_address",
    "region": "aws_region",
    "service": "service",
    "event_name": "event_name",
    "error": "error_code",
    "request": "tf_param_summary(request_parameters)",
}


class BadColumn(TrailforensicsError, ValueError):
    pass


@dataclass
class EventFilter:
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    arn: str | None = None
    access_key: str | None = None
    ip: str | None = None
    event_name: str | None = None
    event_source: str | None = None
    region: str | None = None
    account: str | None = None
    errors_only: bool = False
    writes_only: bool = False
    extra_sql: list[str] = field(default_factory=list)  # trusted SQL fragments from our own callers

    def where(self, ds: Dataset | None = None) -> tuple[str, list[Any]]:
        """A WHERE clause with positional parameters (values are always bound, never pasted)."""
        conds: list[str] = []
        params: list[Any] = []

        def add(sql: str, *values: Any) -> None:
            conds.append(sql)
            params.extend(values)

        if self.since:
            add("event_time >= ?", self.since)
        if self.until:
            add("event_time < ?", self.until)
        if self.actor:
            if _is_glob(self.actor):  # globs ignore case, like the substring form
                add("lower(actor) GLOB lower(?)", self.actor)
            else:
                add("(actor = ? OR contains(lower(actor), lower(?)))", self.actor, self.actor)
        if self.arn:
            add("(user_identity_arn = ? OR session_issuer_arn = ?)", self.arn, self.arn)
        if self.access_key:
            add("upper(user_identity_access_key_id) GLOB upper(?)", self.access_key)
        if self.ip:
            sql, values = ip_condition("source_ip_address", self.ip, ds.con if ds else None)
            add(sql, *values)
        if self.event_name:
            add("lower(event_name) GLOB lower(?)", self.event_name)
        if self.event_source:
            src = self.event_source if "." in self.event_source else f"{self.event_source}.amazonaws.com"
            add("event_source = ?", src)
        if self.region:
            add("lower(aws_region) GLOB lower(?)", self.region)
        if self.account:
            add("(recipient_account_id = ? OR user_identity_account_id = ?)", self.account, self.account)
        if self.errors_only:
            add("error_code IS NOT NULL")
        if self.writes_only:
            add("NOT coalesce(read_only, false)")
        conds.extend(self.extra_sql)
        return (" WHERE " + " AND ".join(conds)) if conds else "", params


def _is_glob(value: str) -> bool:
    return any(c in value for c in "*?[")


def available_columns(ds: Dataset) -> list[str]:
    return [r[0] for r in ds.con.execute("DESCRIBE events").fetchall()]


def select_list(ds: Dataset, columns: list[str] | None) -> str:
    if not columns:
        return ", ".join(f"{expr} AS {name}" if expr != name else name for name, expr in DEFAULT_COLUMNS.items())
    known = set(available_columns(ds))
    parts = []
    for col in columns:
        if col in DEFAULT_COLUMNS:
            expr = DEFAULT_COLUMNS[col]
            parts.append(f"{expr} AS {col}" if expr != col else col)
        elif col in known:
            parts.append(f'"{col}"')
        else:
            raise BadColumn(f"unknown column {col!r}; columns are: {', '.join(sorted(known | set(DEFAULT_COLUMNS)))}")
    return ", ".join(parts)


def timeline(
    ds: Dataset, flt: EventFilter | None = None, *, columns: list[str] | None = None, limit: int | None = None
) -> pa.Table:
    flt = flt or EventFilter()
    where, params = flt.where(ds)
    sql = f"SELECT {select_list(ds, columns)} FROM events{where} ORDER BY event_time, event_id"
    if limit is not None:
        if limit < 0:
            raise BadColumn(f"--limit must be 0 or more, not {limit}")
        sql += f" LIMIT {int(limit)}"
    return ds.sql(sql, params)
