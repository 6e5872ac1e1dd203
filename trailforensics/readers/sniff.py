"""Format sniffing: what is this JSON document?  Look-alikes are named, never ingested."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Raw, Struct

from trailforensics.errors import TrailforensicsError


class LookAlike(TrailforensicsError, ValueError):
    """Valid JSON that is not CloudTrail events: skipped with this reason."""


_NONE = Raw(b"")


class _Probe(Struct, gc=False):
    # Keys that identify the common documents found next to CloudTrail logs.
    Records: Raw = _NONE
    awsAccountId: Raw = _NONE
    digestStartTime: Raw = _NONE
    logFiles: Raw = _NONE
    s3Bucket: Raw = _NONE
    s3ObjectKey: Raw = _NONE
    configSnapshotId: Raw = _NONE
    configurationItems: Raw = _NONE
    fileVersion: Raw = _NONE
    Type: Raw = _NONE
    Message: Raw = _NONE
    TopicArn: Raw = _NONE
    PublicKeyList: Raw = _NONE


_PROBE = msgspec.json.Decoder(_Probe)
_RAW_LIST = msgspec.json.Decoder(list[Raw])
_ANY = msgspec.json.Decoder()


def describe_document(data: bytes) -> str | None:
    """Name a JSON object document that is not a CloudTrail log, or None if it may be one."""
    try:
        probe = _PROBE.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    if len(probe.PublicKeyList):
        return "CloudTrail public keys (aws cloudtrail list-public-keys output), used by `verify`"
    if len(probe.digestStartTime) and len(probe.logFiles):
        return "CloudTrail digest file (not events; checked by `verify`)"
    if len(probe.s3ObjectKey) and len(probe.s3Bucket):
        return "CloudTrail delivery notification (SNS/SQS message listing log files), not events"
    if len(probe.Type) and (len(probe.Message) or len(probe.TopicArn)):
        if b"s3ObjectKey" in bytes(probe.Message) or b"s3ObjectKey" in data:
            return "SNS notification of a CloudTrail log delivery (lists log files), not events"
        return "SNS message envelope, not CloudTrail events"
    if len(probe.configSnapshotId) or len(probe.configurationItems):
        return "AWS Config snapshot or history file, not CloudTrail"
    if len(probe.Records):
        return _describe_records(bytes(probe.Records))
    return None


def _describe_records(records: bytes) -> str | None:
    try:
        items: list[Any] = [_ANY.decode(r) for r in _RAW_LIST.decode(records)[:5]]
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    for item in items:
        if not isinstance(item, dict):
            continue
        source = item.get("eventSource")
        version = item.get("eventVersion")
        if (
            isinstance(source, str)
            and source.startswith("aws:")
            and isinstance(version, str)
            and version.startswith("2.")
        ):
            return f"S3/SQS/SNS event notification ({source}, eventVersion {version}), not CloudTrail"
        if (
            "s3" in item
            and "eventName" in item
            and "responseElements" in item
            and "userIdentity" in item
            and isinstance(item.get("s3"), dict)
        ):
            return "S3 event notification, not CloudTrail"
    return None
