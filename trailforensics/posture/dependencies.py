"""A trail's dependencies: its S3 bucket and its KMS key, followed through the logs.

Bucket changes (policy, lifecycle, versioning, ACL, deletion) and key changes (creation,
disable, deletion, key policy, grants) are kept per bucket and per key id; key references in
any form (id, key ARN, alias name, alias ARN) resolve through CreateAlias/UpdateAlias events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trailforensics.posture.common import as_list, loads, parse_any_time, parse_arn, pick
from trailforensics.posture.policies import (
    Problem,
    Reading,
    read_acl,
    read_lifecycle,
    read_policy,
    read_versioning,
)
from trailforensics.posture.trailmodel import DEPENDENCY_FIELDS, EventRef, Trail


@dataclass
class DepChange:
    ref: EventRef
    kind: str  # bucket | key
    target: str  # bucket name or key id
    change: str
    problems: tuple[Problem, ...]
    seq: int = 0


class Dependencies:
    def __init__(self) -> None:
        # (account, alias name) -> [(time, target key id or None when deleted, the event)]
        self.aliases: dict[tuple[str, str], list[tuple[datetime, str | None, EventRef]]] = defaultdict(list)
        self.bucket_state: dict[str, dict[str, tuple[str, EventRef]]] = defaultdict(dict)
        self.key_state: dict[str, dict[str, tuple[str, EventRef]]] = defaultdict(dict)
        self.changes: list[DepChange] = []

    def alias(self, row: dict[str, Any]) -> None:
        req = loads(row["request_parameters"]) or {}
        alias = pick(req, "aliasName")
        if not isinstance(alias, str):
            return
        target = None if row["event_name"] == "DeleteAlias" else key_id_of(pick(req, "targetKeyId"))
        self.aliases[(row["account"] or "", alias)].append((row["event_time"], target, EventRef.from_row(row)))

    def key_id(self, ref: Any, account: str | None, when: datetime | None) -> str | None:
        """A key id from a key id, key ARN, alias name or alias ARN (aliases resolved at that time,
        or at the end of the data when ``when`` is None)."""
        if not isinstance(ref, str) or not ref:
            return None
        alias = None
        parsed = parse_arn(ref)
        if parsed and parsed.resource.startswith("alias/"):
            alias, account = parsed.resource, parsed.account or account
        elif ref.startswith("alias/"):
            alias = ref
        if alias is None:
            return key_id_of(ref)
        history = self.aliases.get((account or "", alias)) or next(
            (h for (a, n), h in self.aliases.items() if n == alias), []
        )
        current = None
        for t, target, _ in history:
            if when is not None and t > when:
                break
            current = target
        return current

    def bucket(self, row: dict[str, Any], ref: EventRef, seq: int) -> None:
        req = loads(row["request_parameters"]) or {}
        bucket = pick(req, "bucketName")
        if not isinstance(bucket, str):
            arns = [pick(r, "ARN") for r in as_list(loads(row["resources"])) if isinstance(r, dict)]
            bucket = next(
                (a.split(":::", 1)[1] for a in arns if isinstance(a, str) and a.startswith("arn:aws") and ":::" in a),
                None,
            )
        if not bucket:
            return
        if row["error_code"]:
            self.changes.append(DepChange(ref, "bucket", bucket, f"failed ({row['error_code']}): no change", (), seq))
            return
        name, state = row["event_name"], self.bucket_state[bucket]
        reading = None
        if name == "PutBucketPolicy":
            policy = pick(req, "bucketPolicy")
            if policy is None:
                policy = pick(req, "policy")
            reading = read_policy(policy, row["account"], what="bucket-policy")
            key = "bucket_policy"
        elif name == "DeleteBucketPolicy":
            reading = Reading(
                "none (deleted)",
                (
                    Problem(
                        "bucket-policy-deleted",
                        "medium",
                        "bucket policy deleted: CloudTrail can no longer write to the bucket",
                    ),
                ),
            )
            key = "bucket_policy"
        elif name in ("PutBucketLifecycle", "PutBucketLifecycleConfiguration"):
            reading, key = read_lifecycle(req), "bucket_lifecycle"
        elif name == "DeleteBucketLifecycle":
            reading, key = Reading("no rules (deleted)"), "bucket_lifecycle"
        elif name == "PutBucketVersioning":
            reading, key = read_versioning(req), "bucket_versioning"
        elif name == "PutBucketAcl":
            reading, key = read_acl(req), "bucket_acl"
        else:  # DeleteBucket
            reading = Reading("true", (Problem("bucket-deleted", "high", f"log bucket {bucket} deleted"),))
            key = "bucket_deleted"
        old = state.get(key, ("unknown", ref))[0]
        state[key] = (reading.summary, ref)
        self.changes.append(
            DepChange(ref, "bucket", bucket, f"{key}: {old} -> {reading.summary}", reading.problems, seq)
        )

    def key(self, row: dict[str, Any], ref: EventRef, seq: int) -> None:
        req, resp = loads(row["request_parameters"]) or {}, loads(row["response_elements"]) or {}
        arns = [pick(r, "ARN") for r in as_list(loads(row["resources"])) if isinstance(r, dict)]
        key = next((key_id_of(a) for a in arns if isinstance(a, str) and ":key/" in a), None)
        key = (
            key
            or key_id_of(pick(resp, "keyId"))
            or key_id_of(pick(pick(resp, "keyMetadata"), "keyId"))
            or self.key_id(pick(req, "keyId"), row["account"], row["event_time"])
        )
        if not key:
            return
        if row["error_code"]:
            self.changes.append(DepChange(ref, "key", key, f"failed ({row['error_code']}): no change", (), seq))
            return
        name, state = row["event_name"], self.key_state[key]
        problems: tuple[Problem, ...] = ()
        if name == "CreateKey":
            meta = pick(resp, "keyMetadata") or {}
            field_, value = "kms_key_state", str(pick(meta, "keyState") or "Enabled") + " (created)"
        elif name == "DisableKey":
            field_, value = "kms_key_state", "Disabled"
            problems = (
                Problem(
                    "key-disabled",
                    "high",
                    f"KMS key {key} disabled: CloudTrail cannot encrypt new log files (delivery fails)",
                ),
            )
        elif name == "EnableKey":
            field_, value = "kms_key_state", "Enabled"
        elif name == "ScheduleKeyDeletion":
            when = parse_any_time(pick(resp, "deletionDate"))
            days = pick(req, "pendingWindowInDays")
            field_ = "kms_key_state"
            value = "PendingDeletion" + (
                f" (deletion {when:%Y-%m-%d %H:%M:%SZ})" if when else f" (in {days} days)" if days else ""
            )
            problems = (
                Problem(
                    "key-deletion-scheduled",
                    "high",
                    f"KMS key {key} scheduled for deletion{' in ' + str(days) + ' days' if days else ''}:"
                    " logs encrypted with it become unreadable",
                ),
            )
        elif name == "CancelKeyDeletion":
            field_, value = "kms_key_state", "Disabled (deletion cancelled)"
        elif name == "PutKeyPolicy":
            reading = read_policy(pick(req, "policy"), row["account"], what="key-policy")
            services = reading.summary
            problems = reading.problems
            if "cloudtrail.amazonaws.com" not in services:
                problems += (
                    Problem(
                        "key-policy-excludes-cloudtrail",
                        "medium",
                        "key policy no longer lets cloudtrail.amazonaws.com use the key",
                    ),
                )
            field_, value = "kms_key_policy", services
        else:  # CreateGrant
            grantee = pick(req, "granteePrincipal")
            ops = ",".join(str(o) for o in as_list(pick(req, "operations")))
            field_ = "kms_grants"
            old = state.get(field_, ("", ref))[0]
            value = (old + "; " if old and old != "unknown" else "") + f"{grantee}: {ops}"
        old = state.get(field_, ("unknown", ref))[0]
        state[field_] = (value, ref)
        self.changes.append(DepChange(ref, "key", key, f"{field_}: {old} -> {value}", problems, seq))

    def keys_of(self, trail: Trail) -> set[str]:
        """Every key reference a trail used, and the key ids they resolved to at the time."""
        keys: set[str] = set()
        for t, k in trail.keys:
            keys.add(k)
            resolved = self.key_id(k, str(trail.values.get("account") or ""), t)
            if resolved:
                keys.add(resolved)
        return keys

    def state_for(self, trail: Trail) -> dict[str, tuple[str, EventRef | None]]:
        """The current state of a trail's bucket and key (the dependency fields)."""
        out: dict[str, tuple[str, EventRef | None]] = dict.fromkeys(DEPENDENCY_FIELDS, ("unknown", None))
        bucket = trail.values.get("s3_bucket")
        if isinstance(bucket, str) and bucket in self.bucket_state:
            for k, (v, ref) in self.bucket_state[bucket].items():
                out[k] = (v, ref)
        if out["bucket_deleted"][0] == "unknown" and isinstance(bucket, str):
            out["bucket_deleted"] = ("false", None) if bucket in self.bucket_state else ("unknown", None)
        kms = trail.values.get("kms_key")
        if kms is None:
            out.update(
                kms_key_aliases=("no key", None),
                kms_key_state=("no key", None),
                kms_key_policy=("no key", None),
                kms_grants=("no key", None),
            )
        elif isinstance(kms, str):
            key = self.key_id(kms, str(trail.values.get("account") or ""), None)
            for candidate in (key, key_id_of(kms), kms):
                if candidate and candidate in self.key_state:
                    for k, (v, ref) in self.key_state[candidate].items():
                        out[k] = (v, ref)
                    break
            current = sorted((name, h[-1][2]) for (_, name), h in self.aliases.items() if h and h[-1][1] == key)
            if current:
                out["kms_key_aliases"] = (", ".join(n for n, _ in current), current[-1][1])
        return out


def key_id_of(ref: Any) -> str | None:
    """The key id in a key ARN (or the ref itself when it is already an id); None for aliases."""
    if not isinstance(ref, str) or not ref:
        return None
    if ":key/" in ref:
        return ref.split(":key/", 1)[1]
    if "alias/" in ref:
        return None
    return ref
