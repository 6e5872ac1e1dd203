"""Format sniffing: what is this JSON document?  Look-alikes are named, never ingested."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Raw, Struct

CLOUDTRAIL_RECORDS = "cloudtrail"


class LookAlike(ValueError):
    """Valid JSON that is not CloudTrail events: skipped with this reason."""


class _Probe(Struct, gc=False):
    # Keys that identify the common documents found next to CloudTrail logs.
    Records: Raw | None = None
    awsAccountId: Raw | None = None
    digestStartTime: Raw | None = None
    logFiles: Raw | None = None
    s3Bucket: Raw | None = None
    s3ObjectKey: Raw | None = None
    configSnapshotId: Raw | None = None
    configurationItems: Raw | None = None
    fileVersion: Raw | None = None
    Type: Raw | None = None
    Message: Raw | None = None


_PROBE = msgspec.json.Decoder(_Probe)
_RAW_LIST = msgspec.json.Decoder(list[Raw])
_ANY = msgspec.json.Decoder()


def describe_document(data: bytes) -> str | None:
    """Name a JSON object document that is not a CloudTrail log, or None if it may be one."""
    try:
        probe = _PROBE.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if probe.digestStartTime is not None and probe.logFiles is not None:
        return "CloudTrail digest file (not events; checked by `verify`)"
    if probe.s3ObjectKey is not None and probe.s3Bucket is not None:
        return "CloudTrail delivery notification (SNS/SQS message listing log files), not events"
    if probe.Type is not None and probe.Message is not None:
        return "SNS message envelope, not CloudTrail events"
    if probe.configSnapshotId is not None or probe.configurationItems is not None:
        return "AWS Config snapshot or history file, not CloudTrail"
    if probe.Records is not None:
        return _describe_records(bytes(probe.Records))
    return None


def _describe_records(records: bytes) -> str | None:
    try:
        items: list[Any] = [_ANY.decode(r) for r in _RAW_LIST.decode(records)[:5]]
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    for item in items:
        if not isinstance(item, dict):
            continue
        source = item.get("eventSource")
        version = item.get("eventVersion")
        if isinstance(source, str) and source.startswith("aws:") and isinstance(version, str) \
                and version.startswith("2."):
            return f"S3/SQS/SNS event notification ({source}, eventVersion {version}), not CloudTrail"
        if "s3" in item and "eventName" in item and "responseElements" in item and "userIdentity" in item \
                and isinstance(item.get("s3"), dict):
            return "S3 event notification, not CloudTrail"
    return None
