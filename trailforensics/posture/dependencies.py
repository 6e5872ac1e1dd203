"""A trail's dependencies: its S3 bucket and its KMS key, followed through the logs.

Bucket changes (policy, lifecycle, versioning, ACL, deletion, and the deletion of CloudTrail
log or digest files with DeleteObject(s)) and key changes (creation, disable, deletion, key
policy, grants) are kept per bucket and per key id; key references in any form (id, key ARN,
alias name, alias ARN) resolve through CreateAlias/UpdateAlias events.  A failed call changes
nothing, but what it tried to do is kept as an ``attempted-`` problem one severity lower.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from trailforensics.posture.common import as_list, iso, loads, parse_any_time, parse_arn, pick
from trailforensics.posture.deliveries import CLOUDTRAIL_KEY, digest_trail_of
from trailforensics.posture.resource_policies import (
    CLOUDTRAIL_PRINCIPAL,
    Problem,
    Reading,
    attempted,
    read_acl,
    read_lifecycle,
    read_policy,
    read_versioning,
)
from trailforensics.posture.trailmodel import DEPENDENCY_FIELDS, EventRef, Trail

OBJECT_DELETIONS = ("DeleteObject", "DeleteObjects")


@dataclass
class DepChange:
    ref: EventRef
    kind: str  # bucket | key
    target: str  # bucket name or key id
    change: str
    problems: tuple[Problem, ...]
    seq: int = 0
    trail_names: tuple[str, ...] = ()  # trails named by the object keys (deleted digest files)
    log_files: bool = False  # CloudTrail files deleted: reported even when no known trail uses the bucket


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

    # -- buckets --------------------------------------------------------------------------
    def bucket(self, row: dict[str, Any], ref: EventRef, seq: int) -> None:
        req = loads(row["request_parameters"]) or {}
        bucket = bucket_of(req, row["resources"])
        if not bucket:
            return
        if row["event_name"] in OBJECT_DELETIONS:
            self._objects_deleted(bucket, req, row, ref, seq)
            return
        key, reading = bucket_reading(row["event_name"], bucket, req, row["account"])
        error = row["error_code"]
        if error:  # nothing changed, but an attempt to weaken the bucket still says something
            change = f"failed ({error}): no change"
            self.changes.append(DepChange(ref, "bucket", bucket, change, attempted(reading.problems, error), seq))
            return
        state = self.bucket_state[bucket]
        old = state.get(key, ("unknown", ref))[0]
        state[key] = (reading.summary, ref)
        self.changes.append(
            DepChange(ref, "bucket", bucket, f"{key}: {old} -> {reading.summary}", reading.problems, seq)
        )

    def _objects_deleted(self, bucket: str, req: dict[str, Any], row: dict[str, Any], ref: EventRef, seq: int) -> None:
        """DeleteObject(s): deleting CloudTrail log or digest files destroys evidence."""
        keys = object_keys(bucket, req, row["resources"])
        logs = [k for k in keys if CLOUDTRAIL_KEY.search(k)]
        others = [k for k in keys if k not in logs]
        named = tuple(sorted({t[0] for t in map(digest_trail_of, logs) if t}))
        parts = [f"{len(logs)} CloudTrail file(s) deleted: " + "; ".join(logs)] if logs else []
        parts += [f"{len(others)} other object(s) deleted: " + "; ".join(others)] if others else []
        change = ", ".join(parts) or f"objects deleted by {row['event_name']} (the keys are not in the log)"
        problems: tuple[Problem, ...] = ()
        if logs:
            detail = f"{len(logs)} CloudTrail log/digest file(s) deleted from {bucket}: " + "; ".join(logs)
            problems = (Problem("log-files-deleted", "high", detail + " (evidence destroyed)"),)
        elif not keys:
            detail = f"objects deleted from the log bucket {bucket} ({row['event_name']}; the keys are not in the log)"
            problems = (Problem("objects-deleted", "medium", detail),)
        error = row["error_code"]
        if error:
            change, problems = f"failed ({error}): no change; attempted: {change}", attempted(problems, error)
        elif logs:
            state = self.bucket_state[bucket]
            before = state.get("bucket_log_files_deleted", ("0", ref))[0]
            state["bucket_log_files_deleted"] = (str(int(before) + len(logs)), ref)
        self.changes.append(DepChange(ref, "bucket", bucket, change, problems, seq, named, bool(logs)))

    # -- keys -----------------------------------------------------------------------------
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
        state = self.key_state[key]
        field_, value, problems = key_change(row["event_name"], key, req, resp, row["account"], state)
        error = row["error_code"]
        if error:
            change = f"failed ({error}): no change"
            self.changes.append(DepChange(ref, "key", key, change, attempted(problems, error), seq))
            return
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
        current = trail.values.get("s3_bucket")
        # its bucket; when that is unknown, the bucket its delivered files were found in
        candidates = [current] if isinstance(current, str) else [b for _, b in reversed(trail.buckets)]
        bucket = next((b for b in candidates if b in self.bucket_state), None)
        if bucket is not None:
            for k, (v, ref) in self.bucket_state[bucket].items():
                out[k] = (v, ref)
            if out["bucket_deleted"][0] == "unknown":
                out["bucket_deleted"] = ("false", None)
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


def bucket_of(req: dict[str, Any], resources: Any) -> str | None:
    """The bucket an S3 call names: ``bucketName``, else its bucket (or object) ARN."""
    bucket = pick(req, "bucketName")
    if isinstance(bucket, str) and bucket:
        return bucket
    arns = [(pick(r, "type"), pick(r, "ARN")) for r in as_list(loads(resources)) if isinstance(r, dict)]
    arns.sort(key=lambda ta: ta[0] != "AWS::S3::Bucket")  # the bucket's own ARN first
    for _, arn in arns:
        if isinstance(arn, str) and arn.startswith("arn:aws") and ":::" in arn:
            return arn.split(":::", 1)[1].split("/", 1)[0] or None
    return None


def object_keys(bucket: str, req: dict[str, Any], resources: Any) -> list[str]:
    """The object keys of a DeleteObject(s): ``key``, ``delete.Object[].Key`` and object ARNs."""
    keys: list[str] = []
    if isinstance(pick(req, "key"), str):
        keys.append(pick(req, "key"))
    delete = pick(req, "delete")
    for obj in as_list(pick(delete, "Object")) if isinstance(delete, dict) else []:
        if isinstance(pick(obj, "Key"), str):
            keys.append(pick(obj, "Key"))
    prefix = f":::{bucket}/"
    for r in as_list(loads(resources)):
        arn = pick(r, "ARN") if isinstance(r, dict) else None
        if isinstance(arn, str) and prefix in arn:
            keys.append(arn.split(prefix, 1)[1])
    return list(dict.fromkeys(k for k in keys if k))


def bucket_reading(name: str, bucket: str, req: dict[str, Any], account: str | None) -> tuple[str, Reading]:
    """The state field a bucket call sets, and what the new setting means for the logs."""
    if name == "PutBucketPolicy":
        policy = pick(req, "bucketPolicy")
        if policy is None:
            policy = pick(req, "policy")
        reading = read_policy(policy, account, what="bucket-policy")
        return "bucket_policy", replace(reading, problems=reading.problems + delivery_problems(reading))
    if name == "DeleteBucketPolicy":
        problem = Problem(
            "bucket-policy-deleted", "medium", "bucket policy deleted: CloudTrail can no longer write to the bucket"
        )
        return "bucket_policy", Reading("none (deleted)", (problem,))
    if name in ("PutBucketLifecycle", "PutBucketLifecycleConfiguration"):
        return "bucket_lifecycle", read_lifecycle(req)
    if name == "DeleteBucketLifecycle":
        return "bucket_lifecycle", Reading("no rules (deleted)")
    if name == "PutBucketVersioning":
        return "bucket_versioning", read_versioning(req)
    if name == "PutBucketAcl":
        return "bucket_acl", read_acl(req)
    # DeleteBucket
    return "bucket_deleted", Reading("true", (Problem("bucket-deleted", "high", f"log bucket {bucket} deleted"),))


def delivery_problems(reading: Reading) -> tuple[Problem, ...]:
    """A trail's bucket policy must let CloudTrail write: a Deny, or no Allow, stops the delivery."""
    if reading.denies_delivery:
        detail = (
            f"bucket policy denies {CLOUDTRAIL_PRINCIPAL} ({', '.join(reading.denies_delivery)}): "
            "log files can no longer be delivered"
        )
        return (Problem("bucket-policy-denies-cloudtrail", "high", detail),)
    if reading.summary != "unreadable policy" and CLOUDTRAIL_PRINCIPAL not in reading.services:
        detail = f"bucket policy no longer lets {CLOUDTRAIL_PRINCIPAL} write: log files can no longer be delivered"
        return (Problem("bucket-policy-excludes-cloudtrail", "medium", detail),)
    return ()


def key_change(
    name: str,
    key: str,
    req: dict[str, Any],
    resp: dict[str, Any],
    account: str | None,
    state: dict[str, tuple[str, EventRef]],
) -> tuple[str, str, tuple[Problem, ...]]:
    """The state field a key call sets, its new value and what that means for the logs."""
    if name == "CreateKey":
        meta = pick(resp, "keyMetadata") or {}
        return "kms_key_state", str(pick(meta, "keyState") or "Enabled") + " (created)", ()
    if name == "DisableKey":
        detail = f"KMS key {key} disabled: CloudTrail cannot encrypt new log files (delivery fails)"
        return "kms_key_state", "Disabled", (Problem("key-disabled", "high", detail),)
    if name == "EnableKey":
        return "kms_key_state", "Enabled", ()
    if name == "ScheduleKeyDeletion":
        when = parse_any_time(pick(resp, "deletionDate"))
        days = pick(req, "pendingWindowInDays")
        value = "PendingDeletion" + (f" (deletion {iso(when)})" if when else f" (in {days} days)" if days else "")
        detail = (
            f"KMS key {key} scheduled for deletion{' in ' + str(days) + ' days' if days else ''}:"
            " logs encrypted with it become unreadable"
        )
        return "kms_key_state", value, (Problem("key-deletion-scheduled", "high", detail),)
    if name == "CancelKeyDeletion":
        return "kms_key_state", "Disabled (deletion cancelled)", ()
    if name == "PutKeyPolicy":
        reading = read_policy(pick(req, "policy"), account, what="key-policy")
        problems = reading.problems
        if CLOUDTRAIL_PRINCIPAL not in reading.services:
            detail = f"key policy no longer lets {CLOUDTRAIL_PRINCIPAL} use the key"
            problems += (Problem("key-policy-excludes-cloudtrail", "medium", detail),)
        return "kms_key_policy", reading.summary, problems
    # CreateGrant
    grantee = pick(req, "granteePrincipal")
    ops = ",".join(str(o) for o in as_list(pick(req, "operations")))
    old = state["kms_grants"][0] if "kms_grants" in state else ""
    return "kms_grants", (old + "; " if old and old != "unknown" else "") + f"{grantee}: {ops}", ()
