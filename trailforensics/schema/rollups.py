"""Rollups: small aggregate tables written by ingest beside `events`, so that questions a
count can answer (`summary`, `coverage`, `identities`, `trails`, the report's charts) never scan
every event.

Each rollup is a GROUP BY over the rows an ingest run wrote (or over those of them a filter
keeps): its key columns (with the SQL that computes them from a stored row) and its measures
(how they aggregate, and how two partial rows of the same key merge).  Ingest writes one file
per rollup per run; `compact` merges them.  A key may therefore appear in several rows, one
per run until a compact: always aggregate (``sum(events)``, ``min(first_time)``,
``max(last_time)``).  The rows are exact (tests compare them with a scan of `events`); a
dataset always has rollups for all of its events or for none (a dataset written before
rollups existed gets them at its next ingest or compact), and the engine only answers from
them when they cover everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from trailforensics.schema.column import DATE, I64, TIMESTAMP, Column, S, Table, col
from trailforensics.schema.events import ACTOR_SQL

B_DOC = "Same as in `events`."


@dataclass(frozen=True)
class Measure:
    column: Column
    build: str  # aggregate over event rows
    merge: str  # aggregate over rollup rows of the same key


@dataclass(frozen=True)
class Rollup:
    table: Table
    keys: tuple[tuple[Column, str], ...]  # (column, SQL over a stored `events` row)
    measures: tuple[Measure, ...]
    where: str | None = None  # only these rows (a rollup of a few events: its own pass at ingest)

    @property
    def name(self) -> str:
        return self.table.name

    def build_sql(self, source: str) -> str:
        """SELECT that rolls up the rows of ``source`` (a FROM-able relation of stored rows)."""
        keys = ", ".join(f"{expr} AS {c.name}" for c, expr in self.keys)
        measures = ", ".join(f"{m.build} AS {m.column.name}" for m in self.measures)
        where = f" WHERE {self.where}" if self.where else ""
        return f"SELECT {keys}, {measures} FROM {source}{where} GROUP BY ALL"

    def merge_sql(self, source: str) -> str:
        """SELECT that merges rollup rows of ``source`` into one row per key."""
        keys = ", ".join(c.name for c, _ in self.keys)
        measures = ", ".join(f"{m.merge} AS {m.column.name}" for m in self.measures)
        return f"SELECT {keys}, {measures} FROM {source} GROUP BY ALL"


def _m(name: str, typ: pa.DataType, doc: str, build: str, merge: str) -> Measure:
    return Measure(col(name, typ, doc), build, merge)


_FIRST = _m("first_time", TIMESTAMP, "Earliest `event_time` of the rows.", "min(event_time)", "min(first_time)")
_LAST = _m("last_time", TIMESTAMP, "Latest `event_time` of the rows.", "max(event_time)", "max(last_time)")
_EVENTS = _m("events", I64, "Number of events.", "count(*)", "sum(events)::BIGINT")
_ERRORS = _m("errors", I64, "Events with an `error_code`.", "count(error_code)", "sum(errors)::BIGINT")

# coverage's account: the account the event was delivered to, else the one that called.
COVERAGE_ACCOUNT_SQL = "coalesce(recipient_account_id, source_account_id, user_identity_account_id, 'unknown')"

_DATE = col("event_date", DATE, "The partition (UTC date of `event_time`).")


def _same(name: str, typ: pa.DataType = S) -> tuple[Column, str]:
    return col(name, typ, B_DOC), name


ROLLUP_HOURLY = Rollup(
    Table(
        "rollup_hourly",
        (),
        "Events per hour x account x region x API x error: the activity chart, summary and coverage counts.",
    ),
    keys=(
        (_DATE, "event_date"),
        (
            col("hour", TIMESTAMP, "`event_time` truncated to the hour (NULL when the event has no time)."),
            "date_trunc('hour', event_time)",
        ),
        _same("recipient_account_id"),
        (
            col(
                "account",
                S,
                "The account coverage counts by: `recipient_account_id`, else `source_account_id`, else "
                "`user_identity_account_id`, else `unknown`.",
            ),
            COVERAGE_ACCOUNT_SQL,
        ),
        _same("aws_region"),
        _same("event_source"),
        _same("event_name"),
        _same("event_category"),
        _same("event_type"),
        _same("error_code"),
    ),
    measures=(_EVENTS, _FIRST, _LAST),
)

ROLLUP_PRINCIPALS = Rollup(
    Table(
        "rollup_principals",
        (),
        "Events per day x principal x access key x source address x user agent x region x error: who called from "
        "where (summary's actors and addresses, `identities`).",
    ),
    keys=(
        (_DATE, "event_date"),
        _same("recipient_account_id"),
        _same("aws_region"),
        (col("actor", S, "The `events.actor` helper column."), ACTOR_SQL),
        _same("user_identity_type"),
        _same("user_identity_account_id"),
        _same("user_identity_access_key_id"),
        _same("source_ip_address"),
        _same("user_agent"),
        _same("error_code"),
    ),
    measures=(
        _EVENTS,
        _m(
            "console_logins",
            I64,
            "`ConsoleLogin` events.",
            "count(*) FILTER (WHERE event_name = 'ConsoleLogin')",
            "sum(console_logins)::BIGINT",
        ),
        _FIRST,
        _LAST,
    ),
)

ROLLUP_ACTOR_APIS = Rollup(
    Table(
        "rollup_actor_apis",
        (),
        "Events per day x principal x access key x region x API: which calls each principal and key made, where, "
        "and when first.",
    ),
    keys=(
        (_DATE, "event_date"),
        (col("actor", S, "The `events.actor` helper column."), ACTOR_SQL),
        _same("user_identity_access_key_id"),
        _same("aws_region"),
        _same("event_source"),
        _same("event_name"),
    ),
    measures=(_EVENTS, _ERRORS, _FIRST, _LAST),
)


ROLLUP_MINUTES = Rollup(
    Table(
        "rollup_minutes",
        (),
        "Events per minute x delivered file x account x region, with the first and last event time of each: "
        "coverage's silences per delivery location (exact between minutes; the location is derived from "
        "`source_file`).",
    ),
    keys=(
        (_DATE, "event_date"),
        (
            col("minute", TIMESTAMP, "`event_time` truncated to the minute (NULL when the event has no time)."),
            "date_trunc('minute', event_time)",
        ),
        _same("source_file"),
        (
            col("account", S, "As in `rollup_hourly`."),
            COVERAGE_ACCOUNT_SQL,
        ),
        _same("aws_region"),
    ),
    measures=(_EVENTS, _FIRST, _LAST),
)

# S3 object deletions: which buckets lost objects when, and whether the keys name CloudTrail
# files, so that `trails` reads the deletions themselves only on the days that matter.
S3_DELETIONS_WHERE = "event_source = 's3.amazonaws.com' AND event_name IN ('DeleteObject', 'DeleteObjects')"
ROLLUP_S3_DELETIONS = Rollup(
    Table(
        "rollup_s3_deletions",
        (),
        "`DeleteObject` / `DeleteObjects` events per day x bucket: where `trails` looks for deleted log files.",
    ),
    keys=(
        (_DATE, "event_date"),
        (col("bucket", S, "`requestParameters.bucketName`."), "request_parameters->>'$.bucketName'"),
        (
            col(
                "names_cloudtrail",
                pa.bool_(),
                "Whether the request or its resources contain `CloudTrail` (keys of log or digest files).",
            ),
            "contains(coalesce(request_parameters, ''), 'CloudTrail') "
            "OR contains(coalesce(resources, ''), 'CloudTrail')",
        ),
    ),
    measures=(_EVENTS, _FIRST, _LAST),
    where=S3_DELETIONS_WHERE,
)


def _with_columns(r: Rollup) -> Rollup:
    cols = tuple(c for c, _ in r.keys) + tuple(m.column for m in r.measures)
    return Rollup(Table(r.table.name, cols, r.table.doc), r.keys, r.measures, r.where)


ROLLUP_HOURLY = _with_columns(ROLLUP_HOURLY)
ROLLUP_PRINCIPALS = _with_columns(ROLLUP_PRINCIPALS)
ROLLUP_ACTOR_APIS = _with_columns(ROLLUP_ACTOR_APIS)
ROLLUP_MINUTES = _with_columns(ROLLUP_MINUTES)
ROLLUP_S3_DELETIONS = _with_columns(ROLLUP_S3_DELETIONS)
ROLLUPS: tuple[Rollup, ...] = (
    ROLLUP_HOURLY,
    ROLLUP_PRINCIPALS,
    ROLLUP_ACTOR_APIS,
    ROLLUP_MINUTES,
    ROLLUP_S3_DELETIONS,
)
ROLLUP_TABLES: tuple[Table, ...] = tuple(r.table for r in ROLLUPS)
