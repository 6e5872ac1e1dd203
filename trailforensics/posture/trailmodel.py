"""A trail's settings as the logs show them: the fields, their display, the tables' schemas and
the findings a change to them can raise (used by :mod:`.trails`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.posture import selectors as sel
from trailforensics.posture.common import UNKNOWN, days_filter, is_unknown
from trailforensics.posture.resource_policies import Problem
from trailforensics.schema import TIMESTAMP

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

TRAIL_EVENTS = (
    "CreateTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "PutAdvancedEventSelectors",
    "PutInsightSelectors",
    "StartLogging",
    "StopLogging",
    "DeleteTrail",
    "AddTags",
    "RemoveTags",
)
BUCKET_EVENTS = (
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration",
    "DeleteBucketLifecycle",
    "PutBucketVersioning",
    "DeleteBucket",
    "PutBucketAcl",
)
KEY_EVENTS = (
    "CreateKey",
    "DisableKey",
    "EnableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "PutKeyPolicy",
    "CreateGrant",
)
ALIAS_EVENTS = ("CreateAlias", "UpdateAlias", "DeleteAlias")

# Order of events logged in the same second (CreateTrail before StartLogging, DeleteTrail last).
PRIORITY = {
    "CreateAlias": 0,
    "UpdateAlias": 0,
    "CreateTrail": 1,
    "UpdateTrail": 2,
    "PutEventSelectors": 3,
    "PutAdvancedEventSelectors": 3,
    "PutInsightSelectors": 4,
    "AddTags": 5,
    "RemoveTags": 5,
    "StartLogging": 6,
    "StopLogging": 7,
    "DeleteTrail": 9,
}

# The settings of a trail, in display order.  Own settings come from the trail's API calls;
# derived ones from its selectors; bucket_* and kms_key_* from its dependencies.
OWN_FIELDS = (
    "name",
    "arn",
    "account",
    "home_region",
    "s3_bucket",
    "s3_key_prefix",
    "sns_topic",
    "multi_region",
    "global_service_events",
    "organization_trail",
    "log_file_validation",
    "kms_key",
    "cloudwatch_logs_group",
    "cloudwatch_logs_role",
    "event_selectors",
    "advanced_event_selectors",
    "insight_selectors",
    "logging",
    "tags",
    "deleted",
)
DERIVED_FIELDS = ("management_events", "excluded_management_sources", "data_events")
DEPENDENCY_FIELDS = (
    "bucket_policy",
    "bucket_lifecycle",
    "bucket_versioning",
    "bucket_acl",
    "bucket_deleted",
    "bucket_log_files_deleted",
    "kms_key_aliases",
    "kms_key_state",
    "kms_key_policy",
    "kms_grants",
)
FIELDS = OWN_FIELDS[:14] + DERIVED_FIELDS + OWN_FIELDS[14:] + DEPENDENCY_FIELDS

# CreateTrail/UpdateTrail: request key, response key, our field.  Responses describe the whole
# trail, so an optional setting absent from a response is "not set".
SETTINGS = (
    ("s3BucketName", "s3BucketName", "s3_bucket"),
    ("s3KeyPrefix", "s3KeyPrefix", "s3_key_prefix"),
    ("snsTopicName", "snsTopicARN", "sns_topic"),
    ("isMultiRegionTrail", "isMultiRegionTrail", "multi_region"),
    ("includeGlobalServiceEvents", "includeGlobalServiceEvents", "global_service_events"),
    ("isOrganizationTrail", "isOrganizationTrail", "organization_trail"),
    ("enableLogFileValidation", "logFileValidationEnabled", "log_file_validation"),
    ("kmsKeyId", "kmsKeyId", "kms_key"),
    ("cloudWatchLogsLogGroupArn", "cloudWatchLogsLogGroupArn", "cloudwatch_logs_group"),
    ("cloudWatchLogsRoleArn", "cloudWatchLogsRoleArn", "cloudwatch_logs_role"),
)
BOOL_FIELDS = {"multi_region", "global_service_events", "organization_trail", "log_file_validation"}
# What CreateTrail sets when the request does not say (the API's documented defaults).
CREATE_DEFAULTS: dict[str, Any] = {
    "s3_key_prefix": None,
    "sns_topic": None,
    "multi_region": False,
    "global_service_events": True,
    "organization_trail": False,
    "log_file_validation": False,
    "kms_key": None,
    "cloudwatch_logs_group": None,
    "cloudwatch_logs_role": None,
    "event_selectors": list(sel.DEFAULT_BASIC),
    "advanced_event_selectors": None,
    "insight_selectors": [],
    "logging": False,
    "tags": {},
    "deleted": False,
}


@dataclass(frozen=True)
class EventRef:
    """The event behind a change: who, when, from where."""

    time: datetime
    event_name: str
    event_id: str | None
    actor: str | None
    access_key: str | None
    source_ip: str | None
    user_agent: str | None
    region: str | None
    account: str | None
    error_code: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> EventRef:
        return cls(
            row["event_time"],
            row["event_name"],
            row["event_id"],
            row["actor"],
            row["access_key"],
            row["source_ip"],
            row["user_agent"],
            row["aws_region"],
            row["account"],
            row["error_code"],
        )

    @classmethod
    def evidence(cls, time: datetime, what: str) -> EventRef:
        """What set a value that no event showed (the delivered files, say)."""
        return cls(time, what, None, None, None, None, None, None, None)


@dataclass
class Trail:
    arn: str
    values: dict[str, Any]
    set_by: dict[str, EventRef] = field(default_factory=dict)
    # the trail's own values after each change, in time order
    history: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)
    buckets: list[tuple[datetime, str]] = field(default_factory=list)  # (since, bucket) over time
    keys: list[tuple[datetime, str]] = field(default_factory=list)  # (since, key id or ref) over time

    @property
    def name(self) -> str:
        return str(self.values["name"])

    def value(self, name: str) -> Any:
        if name in DERIVED_FIELDS:
            return derived(self.values)[name]
        return self.values.get(name, UNKNOWN)

    def values_at(self, when: datetime) -> dict[str, Any] | None:
        """The trail's own settings at a time (None before the logs first show the trail)."""
        current = None
        for t, snapshot in self.history:
            if t > when:
                break
            current = snapshot
        return current

    def selection_at(self, when: datetime) -> sel.Selection:
        values = self.values_at(when)
        return selection(values) if values is not None else sel.UNKNOWN_SELECTION

    def logging_at(self, when: datetime) -> Any:
        values = self.values_at(when)
        return values["logging"] if values is not None else UNKNOWN


def selection(values: dict[str, Any]) -> sel.Selection:
    basic, advanced = values.get("event_selectors", UNKNOWN), values.get("advanced_event_selectors", UNKNOWN)
    if isinstance(advanced, list):
        return sel.from_advanced(advanced)
    if isinstance(basic, list):
        return sel.from_basic(basic)
    return sel.UNKNOWN_SELECTION


def derived(values: dict[str, Any]) -> dict[str, str]:
    s = selection(values)
    return {
        "management_events": s.management_text(),
        "excluded_management_sources": s.excluded_text(),
        "data_events": s.data_text(),
    }


def show(name: str, value: Any) -> str:
    """Display text of a setting."""
    if is_unknown(value):
        return "unknown"
    if name == "logging" and isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if name == "event_selectors":
        return sel.basic_text(value)
    if name == "advanced_event_selectors":
        return sel.advanced_text(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def display(values: dict[str, Any]) -> dict[str, str]:
    out = {name: show(name, values.get(name, UNKNOWN)) for name in OWN_FIELDS}
    out.update(derived(values))
    return out


STATE_SCHEMA = pa.schema(
    [
        ("trail", pa.string()),
        ("trail_name", pa.string()),
        ("field", pa.string()),
        ("value", pa.string()),
        ("since", TIMESTAMP),
        ("event_name", pa.string()),
        ("actor", pa.string()),
        ("event_id", pa.string()),
    ]
)
CHANGES_SCHEMA = pa.schema(
    [
        ("event_time", TIMESTAMP),
        ("trail", pa.string()),
        ("trail_name", pa.string()),
        ("kind", pa.string()),
        ("target", pa.string()),
        ("event_name", pa.string()),
        ("actor", pa.string()),
        ("access_key", pa.string()),
        ("source_ip", pa.string()),
        ("user_agent", pa.string()),
        ("region", pa.string()),
        ("account", pa.string()),
        ("error_code", pa.string()),
        ("change", pa.string()),
        ("event_id", pa.string()),
    ]
)
FINDINGS_SCHEMA = pa.schema(
    [
        ("event_time", TIMESTAMP),
        ("trail", pa.string()),
        ("trail_name", pa.string()),
        ("severity", pa.string()),
        ("finding", pa.string()),
        ("detail", pa.string()),
        ("event_name", pa.string()),
        ("actor", pa.string()),
        ("source_ip", pa.string()),
        ("event_id", pa.string()),
    ]
)
STOPS_SCHEMA = pa.schema(
    [
        ("trail", pa.string()),
        ("trail_name", pa.string()),
        ("account", pa.string()),
        ("home_region", pa.string()),
        ("multi_region", pa.string()),
        ("stopped_at", TIMESTAMP),
        ("started_at", TIMESTAMP),
        ("duration_seconds", pa.float64()),
        ("duration", pa.string()),
        ("status", pa.string()),
        ("stopped_by", pa.string()),
        ("source_ip", pa.string()),
        ("stop_event_id", pa.string()),
        ("start_event_id", pa.string()),
    ]
)


def trail_problems(trail: Trail, before: dict[str, Any], event_name: str, already_stopped: bool) -> list[Problem]:
    """The departures from good practice a change to a trail's own settings makes."""
    v, name = trail.values, event_name
    out: list[Problem] = []

    def turned(f: str, bad: Any) -> bool:
        return v.get(f) == bad and before.get(f) != bad and not is_unknown(v.get(f))

    if turned("log_file_validation", False):
        out.append(
            Problem(
                "validation-off",
                "medium",
                "log file validation is off: tampering with delivered logs cannot be detected",
            )
        )
    if turned("multi_region", False):
        out.append(Problem("single-region", "low", f"single-region trail: only {v['home_region']} is logged"))
    if v.get("kms_key") is None and before.get("kms_key") is not None and name in ("CreateTrail", "UpdateTrail"):
        out.append(Problem("no-kms", "low", "logs are not encrypted with a KMS key (SSE-S3 only)"))
    if turned("global_service_events", False):
        out.append(Problem("no-global-events", "low", "global service events (IAM, STS, CloudFront) excluded"))
    out += _bucket_problems(before.get("s3_bucket"), v.get("s3_bucket"), name)
    new, old = selection(v), selection(before)
    if new.known:
        mgmt, was = new.management_text(), old.management_text()
        if mgmt != was:
            if mgmt == "none":
                out.append(Problem("management-excluded", "high", "management events are not logged"))
            elif mgmt == "read-only":
                out.append(
                    Problem(
                        "management-read-only",
                        "high",
                        "only read-only management events are logged (no writes)",
                    )
                )
            elif mgmt == "write-only":
                out.append(
                    Problem(
                        "management-write-only",
                        "low",
                        "only write management events are logged (no reads)",
                    )
                )
        if new.excluded_sources and set(new.excluded_sources) - set(old.excluded_sources or ()):
            out.append(
                Problem(
                    "management-sources-excluded",
                    "medium",
                    "management events excluded from: " + ", ".join(new.excluded_sources),
                )
            )
        if old.data and not new.data:
            out.append(
                Problem(
                    "data-events-removed",
                    "medium",
                    f"data events no longer logged (were: {old.data_text()})",
                )
            )
    if name == "PutInsightSelectors" and before.get("insight_selectors") and not v.get("insight_selectors"):
        out.append(Problem("insights-disabled", "low", "Insights event logging turned off"))
    if name == "StopLogging" and not already_stopped:
        out.append(Problem("logging-stopped", "high", "logging stopped"))
    if name == "DeleteTrail":
        out.append(Problem("trail-deleted", "high", "trail deleted"))
    return out


def _bucket_problems(old: Any, new: Any, event_name: str) -> list[Problem]:
    """UpdateTrail pointing the logs at another bucket: they no longer arrive where they did."""
    if event_name != "UpdateTrail" or not isinstance(new, str) or new == old:
        return []
    if isinstance(old, str):
        return [Problem("bucket-changed", "high", f"logs redirected: now delivered to {new} instead of {old}")]
    if is_unknown(old):
        detail = f"log destination set to {new} (the bucket before is not in the data)"
        return [Problem("bucket-changed", "medium", detail)]
    return []


# DeleteObject(s) worth reading: keys that look like CloudTrail files, or a bucket a trail delivers to
# (named by CreateTrail/UpdateTrail, or by the delivered files: the ``?`` list).
_TRAIL_BUCKETS_SQL = """
    SELECT coalesce(response_elements->>'$.s3BucketName', request_parameters->>'$.s3BucketName') AS bucket
    FROM events
    WHERE event_source = 'cloudtrail.amazonaws.com' AND event_name IN ('CreateTrail', 'UpdateTrail')"""
_DELETIONS_SQL = f"""
    (event_source = 's3.amazonaws.com' AND event_name IN ('DeleteObject', 'DeleteObjects')
     AND (contains(coalesce(request_parameters, ''), 'CloudTrail')
          OR contains(coalesce(resources, ''), 'CloudTrail')
          OR request_parameters->>'$.bucketName' IN (SELECT unnest(?::VARCHAR[]))
          OR request_parameters->>'$.bucketName' IN ({_TRAIL_BUCKETS_SQL})))"""


def _changes_sql() -> str:
    """The events that change a trail or its dependencies (by source and name)."""
    names = {
        "cloudtrail.amazonaws.com": TRAIL_EVENTS,
        "s3.amazonaws.com": BUCKET_EVENTS,
        "kms.amazonaws.com": KEY_EVENTS + ALIAS_EVENTS,
    }
    return " OR ".join(
        f"(event_source = '{src}' AND event_name IN ({', '.join(repr(n) for n in evs)}))" for src, evs in names.items()
    )


def _select(ds: Dataset, conds: str, params: list[Any], until: datetime | None) -> list[dict[str, Any]]:
    time_cond = ""
    if until is not None:
        time_cond = " AND event_time < ?"
        params = [*params, until]
    sql = f"""
        SELECT event_time, event_id, event_name, event_source, aws_region,
               coalesce(recipient_account_id, user_identity_account_id) AS account,
               user_identity_arn, actor, user_identity_access_key_id AS access_key,
               source_ip_address AS source_ip, user_agent, error_code,
               request_parameters, response_elements, resources
        FROM events
        WHERE ({conds}) AND event_time IS NOT NULL{time_cond}
          AND coalesce(event_category, 'Management') <> 'NetworkActivity'
          AND coalesce(event_type, '') <> 'AwsVpceEvent'
        QUALIFY row_number() OVER (PARTITION BY coalesce(event_id, record_hash, source_file || record_index)
                                   ORDER BY recipient_account_id) = 1"""
    return ds.sql(sql, params).to_pylist()


def _fetch_with_rollups(ds: Dataset, until: datetime | None, buckets: list[str]) -> list[dict[str, Any]]:
    """The same rows as the scan, reading only the days on which the rollups show such events.

    Object deletions are data events and can be a large share of an account's events: their
    request parameters are read only on days when a bucket of interest lost objects.
    """
    changes = _changes_sql()
    days = [
        r["event_date"] for r in ds.sql(f"SELECT DISTINCT event_date FROM rollup_hourly WHERE {changes}").to_pylist()
    ]
    rows = _select(ds, f"({changes}) AND {days_filter(days)}", [], until) if days else []
    trail_days = ds.sql(
        "SELECT DISTINCT event_date FROM rollup_hourly WHERE event_source = 'cloudtrail.amazonaws.com' "
        "AND event_name IN ('CreateTrail', 'UpdateTrail')"
    ).to_pylist()
    if trail_days:
        named = ds.sql(f"{_TRAIL_BUCKETS_SQL} AND {days_filter([r['event_date'] for r in trail_days])}").to_pylist()
        buckets = sorted({*buckets, *(r["bucket"] for r in named if r["bucket"])})
    del_days = ds.sql(
        "SELECT DISTINCT event_date FROM rollup_s3_deletions WHERE names_cloudtrail "
        "OR bucket IN (SELECT unnest(?::VARCHAR[]))",
        [buckets],
    ).to_pylist()
    if del_days:
        conds = f"{_DELETIONS_SQL} AND {days_filter([r['event_date'] for r in del_days])}"
        rows += _select(ds, conds, [buckets], until)
    return rows


def fetch_events(ds: Dataset, until: datetime | None, buckets: list[str] | None = None) -> list[dict[str, Any]]:
    """The events that change a trail or its dependencies, one copy each, in the order they apply.

    ``buckets``: the buckets the delivered files show trails delivering to (their object
    deletions are read too).
    """
    wanted = sorted(set(buckets or ()))
    if ds.has_rollups:
        rows = _fetch_with_rollups(ds, until, wanted)
    else:
        rows = _select(ds, f"{_changes_sql()} OR {_DELETIONS_SQL}", [wanted], until)
    rows.sort(key=lambda r: (r["event_time"], PRIORITY.get(r["event_name"], 8), r["event_id"] or ""))
    return rows
