"""`policy`: a least-privilege IAM policy from what a principal was seen doing successfully.

    >>> result = policy(ds, "arn:aws:iam::111122223333:user/app")
    >>> result.document      # the IAM policy (a dict; json.dumps it)
    >>> result.actions       # one row per IAM action: events, resources, how it was mapped
    >>> result.unmapped      # events with no IAM action (ConsoleLogin...) or none we could name
    >>> result.warnings      # e.g. "data events were not recorded": the policy would miss them

Actions come from :mod:`.actions` (event names are not IAM actions); resources from the
events' ``resources[]`` and request parameters (bucket/key, roleArn, functionName, ...),
``*`` when the events do not name one.  Whether the trails recorded read and data events
over the period comes from the :func:`~trailforensics.posture.trails.trails` reconstruction.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.posture.actions import map_event, mapping_data
from trailforensics.posture.common import as_list, loads, partition_of, pick
from trailforensics.posture.recording import recording
from trailforensics.posture.trails import TrailReport, trails
from trailforensics.schema import TIMESTAMP

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

MAX_RESOURCES = 20  # more distinct resources than this for one action: use a wildcard
MAX_OBJECTS_PER_BUCKET = 10
_PARAMS = (
    "bucketName",
    "key",
    "roleArn",
    "functionName",
    "tableName",
    "keyId",
    "secretId",
    "topicArn",
    "queueUrl",
    "userName",
    "roleName",
    "groupName",
    "policyArn",
    "instanceProfileName",
    "logGroupName",
    "name",
    "role",
    "iamInstanceProfile",
    "taskRoleArn",
    "executionRoleArn",
    "roleARN",
    "serviceRole",
    "trailName",
)

ACTIONS_SCHEMA = pa.schema(
    [
        ("action", pa.string()),
        ("service", pa.string()),
        ("event_source", pa.string()),
        ("event_names", pa.list_(pa.string())),
        ("events", pa.int64()),
        ("first_seen", TIMESTAMP),
        ("last_seen", TIMESTAMP),
        ("resources", pa.list_(pa.string())),
        ("mapping", pa.string()),
        ("note", pa.string()),
    ]
)
UNMAPPED_SCHEMA = pa.schema(
    [
        ("event_source", pa.string()),
        ("event_name", pa.string()),
        ("event_type", pa.string()),
        ("events", pa.int64()),
        ("category", pa.string()),
        ("reason", pa.string()),
    ]
)
RECORDING_SCHEMA = pa.schema(
    [
        ("events", pa.string()),
        ("status", pa.string()),
        ("detail", pa.string()),
    ]
)


class PolicyError(TrailforensicsError, ValueError):
    pass


@dataclass
class PolicyResult:
    actor: str
    since: datetime | None
    until: datetime | None
    document: dict[str, Any]
    actions: pa.Table
    unmapped: pa.Table
    recording: pa.Table
    warnings: list[str] = field(default_factory=list)

    def statements(self) -> pa.Table:
        """The policy as rows: one per statement and action."""
        rows = [
            {"sid": st["Sid"], "effect": st["Effect"], "action": a, "resources": as_list(st["Resource"])}
            for st in self.document["Statement"]
            for a in as_list(st["Action"])
        ]
        return pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    ("sid", pa.string()),
                    ("effect", pa.string()),
                    ("action", pa.string()),
                    ("resources", pa.list_(pa.string())),
                ]
            ),
        )

    def sections(self) -> dict[str, pa.Table]:
        return {
            "statements": self.statements(),
            "actions": self.actions,
            "unmapped": self.unmapped,
            "recording": self.recording,
        }


def _query(ds: Dataset, actor: str, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
    params: list[Any] = [actor, actor, actor]
    conds = [
        "(user_identity_arn = ? OR session_issuer_arn = ? OR actor = ?)",
        "error_code IS NULL",
        "event_time IS NOT NULL",
    ]
    if since:
        conds.append("event_time >= ?")
        params.append(since)
    if until:
        conds.append("event_time < ?")
        params.append(until)
    extracted = ", ".join(f"json_extract_string(request_parameters, '$.{p}') AS p_{p}" for p in _PARAMS)
    keys = ", ".join(f"p_{p}" for p in _PARAMS)
    sql = f"""
        WITH ev AS (
            SELECT event_source, event_name, event_type, coalesce(event_category, 'Management') AS category,
                   aws_region,
                   coalesce(recipient_account_id, user_identity_account_id) AS account, event_time,
                   user_identity_arn, resources, {extracted}
            FROM events WHERE {" AND ".join(conds)}
        )
        SELECT event_source, event_name, event_type, category, aws_region, account, resources, {keys},
               count(*) AS events, min(event_time) AS first_seen, max(event_time) AS last_seen,
               any_value(user_identity_arn) AS arn
        FROM ev GROUP BY ALL ORDER BY event_source, event_name"""
    return ds.sql(sql, params).to_pylist()


def _arn_list(resources: Any, types: tuple[str, ...] | None = None) -> list[str]:
    out = []
    for r in as_list(loads(resources)):
        if isinstance(r, dict):
            arn = pick(r, "ARN", "arn")
            typ = str(pick(r, "type") or "")
            if isinstance(arn, str) and arn.startswith("arn:") and (types is None or typ in types):
                out.append(arn)
    return out


def _resources(action: str, row: dict[str, Any], part: str) -> list[str]:
    """The resources an event names for an action ("*" when none)."""
    data = mapping_data()
    if action in data["unscoped_actions"]:
        return ["*"]
    region, acct = row["aws_region"] or "*", row["account"] or "*"
    p = lambda name: row.get(f"p_{name}")  # noqa: E731
    service = action.split(":", 1)[0]
    if service == "s3":
        bucket = p("bucketName") or next(
            (a.split(":::", 1)[1] for a in _arn_list(row["resources"], ("AWS::S3::Bucket",))), None
        )
        if not bucket:
            return ["*"]
        if action in data["object_actions"]:
            key = p("key")
            return [f"arn:{part}:s3:::{bucket}/{key}" if key else f"arn:{part}:s3:::{bucket}/*"]
        return [f"arn:{part}:s3:::{bucket}"]
    if service == "sts" and p("roleArn"):
        return [str(p("roleArn"))]
    if service == "lambda" and p("functionName"):
        fn = str(p("functionName"))
        return [fn if fn.startswith("arn:") else f"arn:{part}:lambda:{region}:{acct}:function:{fn}"]
    if service == "dynamodb" and p("tableName"):
        t = str(p("tableName"))
        return [t if t.startswith("arn:") else f"arn:{part}:dynamodb:{region}:{acct}:table/{t}"]
    if service == "iam":
        for param, kind in (
            ("userName", "user"),
            ("roleName", "role"),
            ("groupName", "group"),
            ("instanceProfileName", "instance-profile"),
        ):
            if p(param):
                return [f"arn:{part}:iam::{acct}:{kind}/{p(param)}"]
        if p("policyArn"):
            return [str(p("policyArn"))]
    if service == "secretsmanager" and p("secretId"):
        s = str(p("secretId"))
        return [s if s.startswith("arn:") else f"arn:{part}:secretsmanager:{region}:{acct}:secret:{s}-*"]
    if service == "cloudtrail" and (p("name") or p("trailName")) and action != "cloudtrail:DescribeTrails":
        trail = str(p("name") or p("trailName"))
        return [trail if trail.startswith("arn:") else f"arn:{part}:cloudtrail:{region}:{acct}:trail/{trail}"]
    if service == "sns" and p("topicArn"):
        return [str(p("topicArn"))]
    if service == "sqs" and p("queueUrl"):
        name = str(p("queueUrl")).rstrip("/").rsplit("/", 1)[-1]
        return [f"arn:{part}:sqs:{region}:{acct}:{name}"]
    if service == "logs" and p("logGroupName"):
        return [f"arn:{part}:logs:{region}:{acct}:log-group:{p('logGroupName')}:*"]
    if (
        service == "ssm"
        and p("name")
        and action.startswith(("ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"))
    ):
        return [f"arn:{part}:ssm:{region}:{acct}:parameter/{str(p('name')).lstrip('/')}"]
    if service == "kms":
        arns = _arn_list(row["resources"], ("AWS::KMS::Key",))
        if arns:
            return arns
        key = p("keyId")
        if key and ":key/" in str(key):
            return [str(key)]
        if key and re.match(r"^[0-9a-f-]{36}$|^mrk-[0-9a-f]{32}$", str(key)):
            return [f"arn:{part}:kms:{region}:{acct}:key/{key}"]
        return ["*"]
    arns = _arn_list(row["resources"])
    return arns or ["*"]


def _pass_roles(row: dict[str, Any], api: str, part: str) -> list[str]:
    params = mapping_data()["pass_role"].get(f"{row['event_source']}:{api}") or []
    out = []
    for param in params:
        value = row.get(f"p_{param}")
        if not value:
            continue
        text = str(value)
        if param == "iamInstanceProfile":
            out.append("*")  # an instance profile names its role only indirectly: no role ARN to scope to
            continue
        out.append(text if text.startswith("arn:") else f"arn:{part}:iam::{row['account']}:role/{text}")
    return out


def _collapse(resources: set[str]) -> tuple[list[str], str]:
    if "*" in resources:
        return ["*"], ""
    note = ""
    by_bucket: dict[str, set[str]] = defaultdict(set)
    others = set()
    for r in resources:
        m = re.match(r"^(arn:[^:]+:s3:::[^/]+)/(.+)$", r)
        if m:
            by_bucket[m.group(1)].add(r)
        else:
            others.add(r)
    out = set(others)
    for bucket, objs in by_bucket.items():
        if len(objs) > MAX_OBJECTS_PER_BUCKET:
            out.add(f"{bucket}/*")
            note = f"more than {MAX_OBJECTS_PER_BUCKET} objects in a bucket: widened to bucket/*"
        else:
            out |= objs
    if len(out) > MAX_RESOURCES:
        return ["*"], f"more than {MAX_RESOURCES} resources: widened to *"
    return sorted(out), note


def _sid(prefix: str, n: int) -> str:
    base = re.sub(r"[^A-Za-z0-9]", "", prefix.title()) or "Service"
    return f"{base}{n}" if n else base


def policy(
    ds: Dataset,
    actor: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    trail_report: TrailReport | None = None,
) -> PolicyResult:
    """The least-privilege policy for ``actor`` (a user, role or session ARN, or an actor name)."""
    rows = _query(ds, actor, since, until)
    if not rows:
        raise PolicyError(
            f"no successful events by {actor!r}"
            + (" in that period" if since or until else "")
            + " (use an ARN: user, role or session)"
        )
    part = partition_of(actor, *(r["arn"] for r in rows))
    acts: dict[str, dict[str, Any]] = {}
    unmapped: dict[tuple[str, str, str], dict[str, Any]] = {}
    observed_types: set[str] = set()
    data_types = mapping_data()["data_event_types"]
    for row in rows:
        mapped = map_event(row["event_source"], row["event_name"], row["event_type"])
        if row["category"] == "Data" and row["event_source"] in data_types:
            observed_types.add(data_types[row["event_source"]])
        if not mapped.actions:
            if mapped.how == "not-an-api-call":
                continue
            k = (row["event_source"] or "", row["event_name"] or "", row["event_type"] or "")
            u = unmapped.setdefault(
                k,
                {
                    "event_source": k[0],
                    "event_name": k[1],
                    "event_type": k[2],
                    "events": 0,
                    "category": "no IAM action" if mapped.how == "no-action" else "unmapped",
                    "reason": mapped.reason,
                },
            )
            u["events"] += row["events"]
            continue
        found = [(a, mapped.how, _resources(a, row, part)) for a in mapped.actions]
        found += [("iam:PassRole", "inferred", [role]) for role in _pass_roles(row, mapped.api_name, part)]
        for action, how, resources in found:
            a = acts.setdefault(
                action,
                {
                    "action": action,
                    "service": action.split(":")[0],
                    "event_source": row["event_source"],
                    "event_names": set(),
                    "events": 0,
                    "first_seen": row["first_seen"],
                    "last_seen": row["last_seen"],
                    "resources": set(),
                    "mapping": how,
                    "note": "",
                },
            )
            a["event_names"].add(row["event_name"])
            a["events"] += row["events"]
            a["first_seen"] = min(a["first_seen"], row["first_seen"])
            a["last_seen"] = max(a["last_seen"], row["last_seen"])
            a["resources"].update(resources)
            if how == "inferred":
                a["note"] = "never an event of its own: inferred from the role passed to the service"
    action_rows = []
    statements: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for action in sorted(acts):
        a = acts[action]
        resources, note = _collapse(a["resources"])
        a.update(
            event_names=sorted(a["event_names"]),
            resources=resources,
            note="; ".join(n for n in (a["note"], note) if n) or None,
        )
        action_rows.append(a)
        statements[(a["service"], tuple(resources))].append(action)
    doc_statements = []
    counters: dict[str, int] = defaultdict(int)
    for (service, scope), actions in sorted(statements.items()):
        n = counters[service]
        counters[service] += 1
        doc_statements.append(
            {
                "Sid": _sid(service, n),
                "Effect": "Allow",
                "Action": sorted(actions) if len(actions) > 1 else actions[0],
                "Resource": list(scope) if len(scope) > 1 else scope[0],
            }
        )
    document = {"Version": "2012-10-17", "Statement": doc_statements}

    report = trail_report or trails(ds)
    start = since or min(r["first_seen"] for r in rows)
    end = until or max(r["last_seen"] for r in rows)
    recording_rows, warnings = recording(
        report, start, end, observed_types, {r["account"] for r in rows if r["account"]}
    )
    if ":assumed-role/" in actor:
        warnings.append("derived from one role session: pass the role ARN to cover every session of the role")
    if any(r["category"] == "unmapped" for r in unmapped.values()):
        warnings.append("some events could not be mapped to IAM actions: see the unmapped list")
    return PolicyResult(
        actor=actor,
        since=since,
        until=until,
        document=document,
        actions=pa.Table.from_pylist(action_rows, schema=ACTIONS_SCHEMA),
        unmapped=pa.Table.from_pylist(
            sorted(unmapped.values(), key=lambda u: (u["category"], u["event_source"], u["event_name"])),
            schema=UNMAPPED_SCHEMA,
        ),
        recording=pa.Table.from_pylist(recording_rows, schema=RECORDING_SCHEMA),
        warnings=warnings,
    )
