"""Running compiled Sigma rules over a dataset: one scan for many rules, isolated failures."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from trailforensics.hunt.model import HITS_SCHEMA, rule_severity
from trailforensics.query import ipmatch
from trailforensics.sigma.rules import SigmaRule

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

log = logging.getLogger(__name__)

BATCH = 64  # rules evaluated in one scan

# The evidence columns of a hit (hunt.model.EVIDENCE_COLUMNS, in order): name -> SQL over the events view.
EVENT_COLUMNS: dict[str, str] = {
    "event_time": "event_time",
    "actor": "actor",
    "access_key": "user_identity_access_key_id",
    "source_ip": "source_ip_address",
    "user_agent": "user_agent",
    "region": "aws_region",
    "account": "recipient_account_id",
    "event_name": "event_name",
    "event_id": "event_id",
    "details": "tf_param_summary(request_parameters)",
}

ERRORS_METADATA_KEY = b"trailforensics.sigma.errors"


def _select(conditions: list[tuple[int, str]]) -> str:
    cols = ", ".join(f"{sql} AS {name}" for name, sql in EVENT_COLUMNS.items())
    guarded = [(i, f"coalesce(({sql}), false)") for i, sql in conditions]
    if len(guarded) == 1:
        i, cond = guarded[0]
        return f"SELECT {i} AS tf_rule, {cols} FROM events WHERE {cond}"
    cases = ", ".join(f"CASE WHEN {cond} THEN {i} END" for i, cond in guarded)
    where = " OR ".join(cond for _, cond in guarded)
    return (
        f"SELECT unnest(list_filter([{cases}], lambda tf_h: tf_h IS NOT NULL)) AS tf_rule, {cols} "
        f"FROM events WHERE {where}"
    )


def _run(ds: Dataset, conditions: list[tuple[int, str]]) -> pa.Table:
    return ds.sql(_select(conditions))


def run_sigma_rules(
    ds: Dataset, rules: Sequence[SigmaRule], *, errors: list[tuple[str, str]] | None = None
) -> pa.Table:
    """Run compiled rules over ``ds``; one row per (rule, matching event), sorted by event time.

    The rows are hits in ``HITS_SCHEMA`` (the ``Hit`` shape of :mod:`trailforensics.hunt.model`,
    shared with the built-in detections): detection_id (rule id), title, severity (the rule
    level on the hunt's scale, ``medium`` when unknown), attack (comma-separated ATT&CK ids),
    author (required by the Detection Rule License), then the evidence columns.

    Rules run in batches (one scan per batch).  When a batch fails, its rules run one by one
    and only the failing ones are dropped.  Failures are reported three ways: appended to
    ``errors`` (``(rule id, message)``) when a list is given, logged as warnings, and stored
    as JSON in the table's schema metadata under ``trailforensics.sigma.errors``.
    """
    ipmatch.ensure_udf(ds.con)
    found: list[tuple[str, str]] = []
    parts: list[pa.Table] = []
    indexed = list(enumerate(rules))
    for start in range(0, len(indexed), BATCH):
        batch = [(i, r.sql) for i, r in indexed[start : start + BATCH]]
        if len(batch) > 1:
            try:
                parts.append(_run(ds, batch))
                continue
            except duckdb.Error:
                pass  # find the failing rule(s): run them one by one
        for i, sql in batch:
            try:
                parts.append(_run(ds, [(i, sql)]))
            except duckdb.Error as exc:
                message = str(exc).splitlines()[0]
                found.append((rules[i].id, message))
                log.warning("Sigma rule %s (%s) failed: %s", rules[i].id, rules[i].title, message)
    table = _assemble(rules, parts)
    if errors is not None:
        errors.extend(found)
    if found:
        meta = {ERRORS_METADATA_KEY: json.dumps([{"rule": r, "error": m} for r, m in found]).encode()}
        table = table.replace_schema_metadata(meta)
    return table


def _assemble(rules: Sequence[SigmaRule], parts: list[pa.Table]) -> pa.Table:
    parts = [p for p in parts if p.num_rows]
    if not parts:
        return HITS_SCHEMA.empty_table()
    raw = pa.concat_tables(parts, promote_options="permissive")
    idx = raw.column("tf_rule").cast(pa.int64())
    meta = {
        "detection_id": pa.array([r.id for r in rules], pa.string()),
        "title": pa.array([r.title for r in rules], pa.string()),
        "severity": pa.array([rule_severity(r.level) for r in rules], pa.string()),
        "attack": pa.array([",".join(r.attack) for r in rules], pa.string()),
        "author": pa.array([r.author for r in rules], pa.string()),
    }
    columns = {name: pc.take(values, idx) for name, values in meta.items()}
    for name in EVENT_COLUMNS:
        columns[name] = raw.column(name)
    columns["attempt"] = pa.array([False] * raw.num_rows)  # a Sigma match is never marked as a denied attempt
    table = pa.table(columns).cast(HITS_SCHEMA)
    # nulls sort last (pyarrow's default)
    return table.sort_by([("event_time", "ascending"), ("detection_id", "ascending"), ("event_id", "ascending")])
