"""One JSON item from any dump shape -> the CloudTrail record(s) it carries.

An item can be a CloudTrail record, an ``aws cloudtrail lookup-events`` Event (the record is
the JSON *string* ``CloudTrailEvent``), an EventBridge event (the record is ``detail``), or
a ``{"Records": [...]}`` wrapper.  Records stay raw bytes: never re-serialised.
"""

from __future__ import annotations

from datetime import datetime, timezone

import msgspec
from msgspec import Raw, Struct, field

from trailforensics.errors import TrailforensicsError

_NONE = Raw(b"")
EVENTBRIDGE_DETAIL_TYPES = (
    "AWS API Call via CloudTrail",
    "AWS Console Sign In via CloudTrail",
    "AWS Service Event via CloudTrail",
    "AWS Insight via CloudTrail",
    "AWS Console Action via CloudTrail",
)
# Keys a CloudTrail record has and look-alikes (S3 notifications aside) do not all have.
_RECORD_KEYS = (
    "eventVersion",
    "eventTime",
    "eventSource",
    "eventName",
    "eventID",
    "userIdentity",
    "awsRegion",
)

RECORD = "record"
LOOKUP = "lookup-events"
EVENTBRIDGE = "eventbridge"
WRAPPER = "records"


class _Probe(Struct, gc=False):
    eventVersion: Raw = _NONE
    eventTime: Raw = _NONE
    eventSource: Raw = _NONE
    eventName: Raw = _NONE
    eventID: Raw = _NONE
    userIdentity: Raw = _NONE
    awsRegion: Raw = _NONE
    CloudTrailEvent: Raw = _NONE
    EventId: Raw = _NONE
    detail: Raw = _NONE
    detail_type: Raw = field(name="detail-type", default=_NONE)
    Records: Raw = _NONE


_PROBE = msgspec.json.Decoder(_Probe)
_STR = msgspec.json.Decoder(str)
_RAW_LIST = msgspec.json.Decoder(list[Raw])
_OBJECT = msgspec.json.Decoder(dict[str, Raw])


class NotARecord(TrailforensicsError, ValueError):
    """The item is valid JSON but carries no CloudTrail record."""


def _is_s3_notification(probe: _Probe) -> bool:
    version = bytes(probe.eventVersion)
    source = bytes(probe.eventSource)
    return version.startswith(b'"2.') and source.startswith(b'"aws:')


def records_of_item(item: bytes | Raw) -> tuple[str, list[bytes]]:
    """(shape, raw records) of one JSON item; raises NotARecord with a reason."""
    try:
        probe = _PROBE.decode(item)
    except msgspec.ValidationError as exc:
        raise NotARecord("not a JSON object") from exc
    if len(probe.CloudTrailEvent):
        try:
            text = _STR.decode(probe.CloudTrailEvent)
        except msgspec.ValidationError:
            return LOOKUP, [bytes(probe.CloudTrailEvent)]  # already an object: take it as is
        record = text.encode("utf-8")
        try:
            _OBJECT.decode(record)
        except (msgspec.DecodeError, RecursionError):
            # A broken CloudTrailEvent (truncated export): the Event's own fields still tell
            # a partial record, and the broken text is kept with it (in `extra`).
            return PARTIAL_LOOKUP, [partial_from_lookup(item, broken_event=text)]
        return LOOKUP, [record]
    if len(probe.detail_type) and len(probe.detail):
        detail_type = _STR.decode(probe.detail_type) if bytes(probe.detail_type).startswith(b'"') else ""
        if "CloudTrail" not in detail_type:
            raise NotARecord(f"EventBridge event of another kind ({detail_type[:60]})")
        return EVENTBRIDGE, [bytes(probe.detail)]
    if len(probe.Records):
        try:
            return WRAPPER, [bytes(r) for r in _RAW_LIST.decode(probe.Records)]
        except msgspec.ValidationError as exc:
            raise NotARecord("Records is not a list") from exc
    if _is_s3_notification(probe):
        raise NotARecord("S3/SQS/SNS event notification, not CloudTrail")
    if sum(1 for k in _RECORD_KEYS if len(getattr(probe, k))) >= 2:
        return RECORD, [bytes(item)]
    if len(probe.EventId):
        return PARTIAL_LOOKUP, [partial_from_lookup(item)]
    raise NotARecord("JSON object without CloudTrail fields")


PARTIAL_LOOKUP = "lookup-events-partial"
_LOOKUP_FIELDS = {
    "EventId": "eventID",
    "EventName": "eventName",
    "EventTime": "eventTime",
    "EventSource": "eventSource",
    "ReadOnly": "readOnly",
}


def partial_from_lookup(item: bytes | Raw, broken_event: str | None = None) -> bytes:
    """A lookup-events Event without ``CloudTrailEvent``: the record as far as its fields tell."""
    value = msgspec.json.decode(item)
    rec: dict[str, object] = {v: value[k] for k, v in _LOOKUP_FIELDS.items() if k in value}
    when = rec.get("eventTime")
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        rec["eventTime"] = datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    read_only = rec.get("readOnly")
    if isinstance(read_only, str):
        rec["readOnly"] = read_only.lower() == "true"
    identity = {
        k: value[src] for k, src in (("userName", "Username"), ("accessKeyId", "AccessKeyId")) if value.get(src)
    }
    if identity:
        rec["userIdentity"] = identity
    if value.get("Resources"):
        rec["resources"] = [
            {"type": r.get("ResourceType"), "ARN": r.get("ResourceName")}
            for r in value["Resources"]
            if isinstance(r, dict)
        ]
    if broken_event is not None:
        rec["CloudTrailEvent"] = broken_event
    return msgspec.json.encode(rec)
