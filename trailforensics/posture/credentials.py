"""What the logs say about credentials: the calls that issued them and the sessions that used them.

Issuing calls: AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity, GetSessionToken and
GetFederationToken (``responseElements.credentials.accessKeyId``; the two copies of a
cross-account call merged on ``sharedEventID``) and CreateAccessKey
(``responseElements.accessKey.accessKeyId``).  Sessions: the events grouped by access key and
issue time (``creationDate``, or the latest issue of that key before the event when the
event has none).  :func:`match_issue` decides which call issued a session, and how surely.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.posture.common import (
    loads,
    near,
    parse_any_time,
    parse_arn,
    pick,
    ranked,
    role_arn_of_session,
    session_name_of,
)
from trailforensics.schema import TIMESTAMP

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

STS_ISSUERS = (
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
    "GetFederationToken",
)
ISSUE_SKEW = timedelta(seconds=5)  # creationDate vs the issuing call's eventTime
USE_SKEW = timedelta(minutes=5)  # clock differences between services when checking lifetimes
# The activity lists (event names, IPs) and the per-item counts they are ranked by.
RANKED_LISTS = (("event_names", "event_name_counts"), ("ips", "ip_counts"))


@dataclass
class Issue:
    """A call that issued credentials (the copies of a cross-account call merged)."""

    event_name: str
    time: datetime
    event_ids: list[str]
    shared_event_id: str | None
    key: str
    expiration: datetime | None
    session_arn: str | None  # assumedRoleUser.arn / federatedUser.arn (the new identity)
    role_arn: str | None
    session_name: str | None
    source_identity: str | None
    caller: dict[str, Any]  # the caller-side copy's identity columns
    detail: str = ""
    origin_hint: tuple[str, str] | None = None  # (origin type, principal) for SAML / web identity callers

    @property
    def event_id(self) -> str:
        return self.event_ids[0]


@dataclass
class Evidence:
    """Everything the graph is built from."""

    issues: list[Issue]  # STS calls
    key_issues: list[Issue]  # CreateAccessKey calls
    sessions: list[dict[str, Any]]  # session groups with their activity
    logins: list[dict[str, Any]] = field(default_factory=list)  # successful ConsoleLogin events
    switches: list[dict[str, Any]] = field(default_factory=list)  # SwitchRole events
    created_users: dict[tuple[Any, Any], dict[str, Any]] = field(default_factory=dict)  # (account, user)


def load_evidence(ds: Dataset, keys: set[str] | None = None) -> Evidence:
    """The evidence of every credential, or (``keys``) of these access keys only (``.graph_scope``)."""
    rows = _issue_rows(ds, keys)
    issues = _merge_issues([r for r in rows if r["event_source"] == "sts.amazonaws.com"])
    key_issues = _access_key_issues(rows)
    logins = [
        r
        for r in rows
        if r["event_name"] == "ConsoleLogin"
        and str(pick(loads(r["response_elements"]), "ConsoleLogin") or "Success") == "Success"
    ]
    switches = [r for r in rows if r["event_name"] == "SwitchRole"]
    created_users = {}
    for r in rows:
        user = pick(loads(r["request_parameters"]), "userName") if r["event_name"] == "CreateUser" else None
        if user:
            created_users[(r["recipient_account_id"] or r["account"], user)] = r
    table = pa.table(
        {
            "key": pa.array([i.key for i in issues + key_issues], pa.string()),
            "issue_time": pa.array([i.time for i in issues + key_issues], TIMESTAMP),
        }
    )
    name = f"tf_posture_issues_{id(table)}"
    ds.con.register(name, table)
    try:
        only = "" if keys is None else "AND user_identity_access_key_id IN (SELECT unnest(?::VARCHAR[]))"
        sessions = ds.sql(_SESSIONS_SQL.format(issues=name, only=only), None if keys is None else [sorted(keys)])
        sessions = sessions.to_pylist()
    finally:
        ds.con.unregister(name)
    for s in sessions:
        rank_activity(s)
    return Evidence(issues, key_issues, sessions, logins, switches, created_users)


def rank_activity(row: dict[str, Any]) -> None:
    """Turn the SQL histograms (``[(item, count), ...]`` or None) into the full ranked lists."""
    for names, counts in RANKED_LISTS:
        row[counts] = dict(row.get(counts) or ())
        row[names] = ranked(row[counts])
    row["distinct_event_names"] = len(row["event_names"])


def _issue_rows(ds: Dataset, keys: set[str] | None = None) -> list[dict[str, Any]]:
    names = ", ".join(f"'{n}'" for n in STS_ISSUERS)
    only = ""
    if keys is not None:  # the calls that issued these keys (sign-in and CreateUser events are few: all kept)
        only = (
            "AND (event_source = 'signin.amazonaws.com' OR event_name = 'CreateUser' OR coalesce("
            "json_extract_string(response_elements, '$.credentials.accessKeyId'), "
            "json_extract_string(response_elements, '$.accessKey.accessKeyId')) IN (SELECT unnest(?::VARCHAR[])))"
        )
    return ds.sql(
        f"""
        SELECT event_time, event_id, shared_event_id, request_id, event_name, event_source,
               recipient_account_id, aws_region, actor, user_identity_type AS type, user_identity_arn AS arn,
               user_identity_access_key_id AS key, session_creation_date AS created,
               user_identity_account_id AS account, user_identity_principal_id AS principal_id,
               user_identity_user_name AS user_name, user_identity_identity_provider AS identity_provider,
               source_ip_address AS source_ip, user_agent, request_parameters, response_elements,
               additional_event_data
        FROM events
        WHERE error_code IS NULL AND event_time IS NOT NULL AND (
              (event_source = 'sts.amazonaws.com' AND event_name IN ({names}))
           OR (event_source = 'iam.amazonaws.com' AND event_name IN ('CreateAccessKey', 'CreateUser'))
           OR (event_source = 'signin.amazonaws.com' AND event_name IN ('ConsoleLogin', 'SwitchRole'))) {only}
        ORDER BY event_time, event_id""",
        None if keys is None else [sorted(keys)],
    ).to_pylist()


def _caller(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: row[k]
        for k in (
            "actor",
            "type",
            "arn",
            "key",
            "created",
            "account",
            "principal_id",
            "user_name",
            "identity_provider",
            "source_ip",
            "user_agent",
            "recipient_account_id",
        )
    }


def _merge_issues(rows: list[dict[str, Any]]) -> list[Issue]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        resp = loads(row["response_elements"]) or {}
        key = pick(pick(resp, "credentials"), "accessKeyId")
        if not isinstance(key, str) or not key:
            continue
        row["_resp"], row["_key"] = resp, key
        group = row["shared_event_id"] or (f"{row['request_id']}|{key}" if row["request_id"] else row["event_id"])
        groups[group].append(row)
    issues = []
    for copies in groups.values():
        # The caller-side copy carries the caller's identity; the role account's copy says AWSAccount.
        copies.sort(key=lambda r: (r["type"] == "AWSAccount", not r["key"], r["event_id"] or ""))
        main = copies[0]
        req, resp = loads(main["request_parameters"]) or {}, main["_resp"]
        creds = pick(resp, "credentials") or {}
        name = main["event_name"]
        session_arn = pick(pick(resp, "assumedRoleUser"), "arn") or pick(pick(resp, "federatedUser"), "arn")
        role = pick(req, "roleArn")
        if name == "GetSessionToken":
            session_arn = main["arn"]
        session_name = session_name_of(session_arn) or pick(req, "roleSessionName", "name")
        issue = Issue(
            event_name=name,
            time=main["event_time"],
            event_ids=[c["event_id"] for c in copies],
            shared_event_id=main["shared_event_id"],
            key=main["_key"],
            expiration=parse_any_time(pick(creds, "expiration")),
            session_arn=session_arn,
            role_arn=role if isinstance(role, str) else role_arn_of_session(session_arn),
            session_name=session_name if isinstance(session_name, str) else None,
            source_identity=pick(resp, "sourceIdentity") or pick(req, "sourceIdentity"),
            caller=_caller(main),
        )
        if name == "AssumeRoleWithSAML":
            subject = pick(resp, "subject") or main["user_name"]
            issuer = str(pick(resp, "issuer") or "")
            provider = pick(req, "principalArn") or main["identity_provider"]
            sso = "portal.sso." in issuer or "AWSReservedSSO_" in str(role or "")
            issue.origin_hint = (
                ("IdentityCenterUser", f"identitycenter:{subject}")
                if sso
                else ("SAMLUser", main["actor"] or f"saml:{provider}/{subject}")
            )
            issue.detail = f"SAML subject {subject} from {provider}" + (f" (issuer {issuer})" if issuer else "")
        elif name == "AssumeRoleWithWebIdentity":
            subject = pick(resp, "subjectFromWebIdentityToken") or main["user_name"]
            provider = pick(resp, "provider") or main["identity_provider"]
            issue.origin_hint = ("WebIdentityUser", main["actor"] or f"webidentity:{provider}/{subject}")
            issue.detail = f"web identity {subject} from {provider}"
        if main["type"] == "AWSService":
            issue.detail = f"by AWS service {main['actor']}"
        elif main["shared_event_id"]:  # the two sides of a cross-account call share it
            caller_acct = main["account"] or next((c["account"] for c in copies if c["account"]), None)
            role_parsed = parse_arn(issue.role_arn)
            role_acct = role_parsed.account if role_parsed else None
            if caller_acct != role_acct or len(copies) > 1:
                issue.detail = (
                    f"cross-account {caller_acct} -> {role_acct}, sharedEventID {main['shared_event_id']} "
                    + ("(both copies)" if len(copies) > 1 else "(one copy)")
                )
        issues.append(issue)
    issues.sort(key=lambda i: (i.time, i.event_id or ""))
    return issues


def _access_key_issues(rows: list[dict[str, Any]]) -> list[Issue]:
    out = []
    for row in rows:
        if row["event_name"] != "CreateAccessKey":
            continue
        resp = loads(row["response_elements"]) or {}
        ak = pick(resp, "accessKey") or {}
        key = pick(ak, "accessKeyId")
        if not isinstance(key, str):
            continue
        user = pick(ak, "userName") or pick(loads(row["request_parameters"]), "userName")
        account = row["recipient_account_id"] or row["account"]
        out.append(
            Issue(
                event_name="CreateAccessKey",
                time=row["event_time"],
                event_ids=[row["event_id"]],
                shared_event_id=row["shared_event_id"],
                key=key,
                expiration=None,
                session_arn=f"arn:aws:iam::{account}:user/{user}" if user else None,
                role_arn=None,
                session_name=None,
                source_identity=None,
                caller=_caller(row),
                detail=f"access key for IAM user {user}" if user else "",
            )
        )
    return out


_SESSIONS_SQL = """
WITH ev AS (
    SELECT user_identity_access_key_id AS key, session_creation_date AS created, user_identity_arn AS arn,
           user_identity_type AS type, user_identity_account_id AS account, session_issuer_arn AS issuer_arn,
           session_source_identity AS source_identity, session_credential_from_console AS console,
           user_identity_user_name AS user_name, event_time, coalesce(shared_event_id, event_id) AS eid,
           event_name, source_ip_address AS ip, error_code, aws_region
    FROM events
    WHERE user_identity_access_key_id IS NOT NULL AND user_identity_access_key_id <> ''
      AND event_time IS NOT NULL {only}
), joined AS (
    SELECT ev.*, i.issue_time
    FROM ev ASOF LEFT JOIN {issues} i ON ev.key = i.key AND ev.event_time + INTERVAL 5 SECOND >= i.issue_time
)
SELECT key, CASE WHEN key LIKE 'AKIA%' THEN NULL ELSE coalesce(created, issue_time) END AS start, arn,
       any_value(type) AS type, any_value(account) AS account, any_value(issuer_arn) AS issuer_arn,
       any_value(source_identity) AS source_identity, bool_or(coalesce(console, false)) AS console,
       bool_and(created IS NULL) AS no_creation_date, any_value(user_name) AS user_name,
       min(event_time) AS first_seen, max(event_time) AS last_seen, count(DISTINCT eid) AS events,
       histogram(event_name) FILTER (WHERE event_name IS NOT NULL) AS event_name_counts,
       histogram(ip) FILTER (WHERE ip IS NOT NULL) AS ip_counts,
       list_sort(list(DISTINCT aws_region) FILTER (WHERE aws_region IS NOT NULL)) AS regions,
       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors
FROM joined
GROUP BY key, start, arn
"""


def match_issue(s: dict[str, Any], candidates: list[Issue], same_session: list[Issue]) -> tuple[Issue | None, str, str]:
    """The issuing call of a session group, with how sure the link is."""
    key, start, first, last = s["key"], s["start"], s["first_seen"], s["last_seen"]
    if key.startswith("AKIA"):
        made = [c for c in candidates if c.event_name == "CreateAccessKey"]
        if made:
            c = made[-1]
            ok = c.time - USE_SKEW <= first
            return (
                c,
                "exact" if ok else "inferred",
                (
                    "access key id = CreateAccessKey responseElements.accessKey.accessKeyId"
                    + ("" if ok else "; but the key was used before it was created")
                ),
            )
        return None, "origin", ""
    creation_known = not s["no_creation_date"]

    def lifetime_ok(c: Issue) -> bool:
        return c.time - ISSUE_SKEW <= first and (c.expiration is None or last <= c.expiration + USE_SKEW)

    def arn_ok(c: Issue) -> bool:
        return not c.session_arn or not s["arn"] or c.session_arn == s["arn"]

    sts = [c for c in candidates if c.event_name != "CreateAccessKey"]
    if creation_known:
        exact = [c for c in sts if near(c.time, start, ISSUE_SKEW.total_seconds()) and arn_ok(c)]
        if exact:
            c = exact[0]
            if lifetime_ok(c):
                return c, "exact", "access key id + issue time = creationDate"
            return (
                c,
                "inferred",
                "access key id + creationDate match, but used outside the credentials' lifetime",
            )
    else:
        window = [c for c in sts if lifetime_ok(c) and arn_ok(c)]
        if window:
            c = max(window, key=lambda c: c.time)
            return c, "exact", "access key id + used within the credentials' lifetime (no creationDate)"
    if sts:
        # The id matches but the times do not: the nearest issue before first use, marked inferred.
        before = [c for c in sts if c.time <= first + ISSUE_SKEW] or sts
        c = max(before, key=lambda c: c.time)
        return c, "inferred", "access key id matches but the times are inconsistent (recycled id?)"
    if creation_known:
        for c in same_session:
            if near(c.time, start, ISSUE_SKEW.total_seconds()):
                return c, "inferred", "role ARN + session name + creationDate (access key id differs)"
    return None, "unknown", ""


def merge_activity(into: dict[str, Any], other: dict[str, Any]) -> None:
    into["first_seen"] = min(into["first_seen"], other["first_seen"])
    into["last_seen"] = max(into["last_seen"], other["last_seen"])
    into["events"] += other["events"]
    into["errors"] += other["errors"]
    into["regions"] = sorted(set(into["regions"] or []) | set(other["regions"] or []))
    for names, counts in RANKED_LISTS:
        merged = dict(into[counts])
        for item, n in other[counts].items():
            merged[item] = merged.get(item, 0) + n
        into[counts], into[names] = merged, ranked(merged)
    into["distinct_event_names"] = len(into["event_names"])
    into["no_creation_date"] = into["no_creation_date"] and other["no_creation_date"]
    into["console"] = into["console"] or other["console"]
    if into["start"] is None or (other["start"] is not None and not other["no_creation_date"]):
        into["start"] = other["start"] if other["start"] is not None else into["start"]
