"""Reading the resource policies and bucket settings that decide whether a trail's logs are safe.

Pure functions over the JSON CloudTrail logs in ``requestParameters`` (bucket policies, key
policies, lifecycle rules, ACLs): each returns a one-line summary plus the problems found.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from trailforensics.posture.common import as_list, iso, loads, parse_any_time, parse_arn, pick

_ACCOUNT_RE = re.compile(r"^\d{12}$")
PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"  # the service principal (neither a file kind nor a format)
# What CloudTrail needs on its bucket to deliver: a Deny of either stops the delivery.
DELIVERY_ACTIONS = ("s3:putobject", "s3:getbucketacl")


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    detail: str


LOWER_SEVERITY = {"high": "medium", "medium": "low", "low": "low"}


def attempted(problems: tuple[Problem, ...], error: str) -> tuple[Problem, ...]:
    """What a failed call tried to do: the same problems, one severity lower, marked as attempts."""
    return tuple(
        Problem(f"attempted-{p.code}", LOWER_SEVERITY.get(p.severity, "low"), f"failed attempt ({error}): {p.detail}")
        for p in problems
    )


@dataclass(frozen=True)
class Reading:
    summary: str
    problems: tuple[Problem, ...] = ()
    services: tuple[str, ...] = ()  # service principals a policy allows
    denies_delivery: tuple[str, ...] = ()  # the statements (Sid) of a bucket policy that deny CloudTrail


def _principals(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) pairs of a statement's Principal (``*`` is ``("AWS", "*")``)."""
    principal = pick(statement, "Principal")
    if principal is None and pick(statement, "NotPrincipal") is not None:
        return [("AWS", "*")]  # Allow + NotPrincipal: everyone but a few
    if principal == "*":
        return [("AWS", "*")]
    out: list[tuple[str, str]] = []
    if isinstance(principal, dict):
        for kind, values in principal.items():
            out.extend((str(kind), str(v)) for v in as_list(values))
    elif isinstance(principal, str):
        out.append(("AWS", principal))
    return out


def _account_of(value: str) -> str | None:
    if _ACCOUNT_RE.match(value):
        return value
    parsed = parse_arn(value)
    return parsed.account if parsed and parsed.account else None


def _covers(patterns: list[Any], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action, str(p).lower()) for p in patterns)


def _denies_cloudtrail_delivery(statement: dict[str, Any]) -> bool:
    """An unconditional Deny that applies to CloudTrail and covers what delivery needs.

    Conditional denies (``aws:SecureTransport``, source VPC...) are common hardening and cannot
    be evaluated from the log: they are not counted.
    """
    if pick(statement, "Condition"):
        return False
    not_principal = pick(statement, "NotPrincipal")
    if not_principal is not None:
        excluded = {v for _, v in _principals({"Principal": not_principal})}
        applies = CLOUDTRAIL_PRINCIPAL not in excluded and "*" not in excluded
    else:
        applies = any(v in (CLOUDTRAIL_PRINCIPAL, "*") for _, v in _principals(statement))
    actions, not_actions = as_list(pick(statement, "Action")), as_list(pick(statement, "NotAction"))
    if actions:
        covered = any(_covers(actions, a) for a in DELIVERY_ACTIONS)
    else:
        covered = bool(not_actions) and not all(_covers(not_actions, a) for a in DELIVERY_ACTIONS)
    return applies and covered


def read_policy(policy: Any, owner_account: str | None, *, what: str) -> Reading:
    """Who a resource policy lets in: public (``*`` without conditions), other accounts, services;
    for a bucket policy also the statements that deny CloudTrail's delivery."""
    doc = loads(policy) if isinstance(policy, str) else policy
    if not isinstance(doc, dict):
        return Reading("unreadable policy" if policy else "none")
    public: list[str] = []
    conditional_public: list[str] = []
    accounts: set[str] = set()
    services: set[str] = set()
    denies: list[str] = []
    for i, st in enumerate(as_list(pick(doc, "Statement"))):
        if not isinstance(st, dict):
            continue
        sid = str(pick(st, "Sid") or f"statement {i + 1}")
        effect = str(pick(st, "Effect") or "").lower()
        if effect == "deny" and what == "bucket-policy" and _denies_cloudtrail_delivery(st):
            denies.append(sid)
        if effect != "allow":
            continue
        has_condition = bool(pick(st, "Condition"))
        for kind, value in _principals(st):
            if kind.lower() == "service":
                services.add(value)
            elif value == "*":
                (conditional_public if has_condition else public).append(sid)
            else:
                acct = _account_of(value)
                if acct and owner_account and acct != owner_account:
                    accounts.add(acct)
    parts = []
    problems: list[Problem] = []
    if public:
        parts.append(f"public: Principal * without conditions ({', '.join(public)})")
        problems.append(
            Problem(
                f"{what}-public",
                "high",
                f'{what.replace("-", " ")} allows Principal "*" without conditions ({", ".join(public)})',
            )
        )
    if accounts:
        parts.append("other accounts: " + ", ".join(sorted(accounts)))
        problems.append(
            Problem(
                f"{what}-cross-account",
                "medium",
                f"{what.replace('-', ' ')} grants access to another account: " + ", ".join(sorted(accounts)),
            )
        )
    if conditional_public:
        parts.append(f"Principal * with conditions ({', '.join(conditional_public)})")
    if services:
        parts.append("services: " + ", ".join(sorted(services)))
    if denies:
        parts.append(f"denies {CLOUDTRAIL_PRINCIPAL} ({', '.join(denies)})")
    return Reading("; ".join(parts) or "owner account only", tuple(problems), tuple(sorted(services)), tuple(denies))


def read_lifecycle(params: dict[str, Any]) -> Reading:
    """Enabled rules that expire objects (current or noncurrent versions)."""
    config = pick(params, "LifecycleConfiguration") or {}
    expiring: list[str] = []
    rules = as_list(pick(config, "Rule", "Rules"))
    for rule in rules:
        if not isinstance(rule, dict) or str(pick(rule, "Status") or "Enabled").lower() != "enabled":
            continue
        rid = str(pick(rule, "ID") or "rule")
        exp = pick(rule, "Expiration")
        days = pick(exp, "Days") if isinstance(exp, dict) else None
        date = pick(exp, "Date") if isinstance(exp, dict) else None
        nonc = pick(rule, "NoncurrentVersionExpiration")
        ndays = pick(nonc, "NoncurrentDays") if isinstance(nonc, dict) else None
        prefix = pick(rule, "Prefix")
        flt = pick(rule, "Filter")
        if prefix is None and isinstance(flt, dict):
            prefix = pick(flt, "Prefix")
        scope = f" (prefix {prefix!r})" if prefix not in (None, "", "*") else ""
        if days is not None:
            expiring.append(f"{rid}: expires objects after {days} days{scope}")
        elif date is not None:
            when = parse_any_time(date)
            expiring.append(f"{rid}: expires objects on {iso(when) if when else date}{scope}")
        if ndays is not None:
            expiring.append(f"{rid}: expires noncurrent versions after {ndays} days{scope}")
    if not expiring:
        return Reading(f"{len(rules)} rule(s), none expiring objects" if rules else "no rules")
    text = "; ".join(expiring)
    return Reading(text, (Problem("lifecycle-expires-logs", "medium", f"lifecycle rule expires logs: {text}"),))


def read_versioning(params: dict[str, Any]) -> Reading:
    config = pick(params, "VersioningConfiguration") or {}
    status = str(pick(config, "Status") or "unknown")
    mfa = pick(config, "MfaDelete")
    summary = status + (f", MFA delete {mfa}" if mfa else "")
    if status.lower() == "suspended":
        return Reading(
            summary,
            (
                Problem(
                    "versioning-suspended",
                    "medium",
                    "bucket versioning suspended: overwritten or deleted logs are gone",
                ),
            ),
        )
    return Reading(summary)


def read_acl(params: dict[str, Any]) -> Reading:
    """Public grants in an ACL body or a canned ``x-amz-acl``."""
    public: list[str] = []
    canned = pick(params, "x-amz-acl")
    for value in as_list(canned):
        if str(value) in ("public-read", "public-read-write", "authenticated-read"):
            public.append(str(value))
    acp = pick(params, "AccessControlPolicy") or {}
    acl = pick(acp, "AccessControlList") or {}
    for grant in as_list(pick(acl, "Grant")):
        grantee = pick(grant, "Grantee") if isinstance(grant, dict) else None
        uri = pick(grantee, "URI") if isinstance(grantee, dict) else None
        if uri in PUBLIC_GRANTEES:
            public.append(f"{uri.rsplit('/', 1)[-1]}:{pick(grant, 'Permission')}")
    for header in (
        "x-amz-grant-read",
        "x-amz-grant-write",
        "x-amz-grant-full-control",
        "x-amz-grant-read-acp",
    ):
        for value in as_list(pick(params, header)):
            if any(g in str(value) for g in PUBLIC_GRANTEES):
                public.append(f"{header}")
    if public:
        text = "public: " + ", ".join(public)
        return Reading(text, (Problem("bucket-acl-public", "high", f"bucket ACL grants {text}"),))
    return Reading("no public grants")
