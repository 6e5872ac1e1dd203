"""The console's Event history CSV download.

When the "CloudTrail event" column is there, each row's record is that JSON; when it is
missing (or empty in a row), the row's record is rebuilt from the columns and marked
partial: only what the console exported is known.
"""

from __future__ import annotations

import csv
import io
import re

import msgspec

from trailforensics.errors import TrailforensicsError

# Console column titles (normalised: lower case, letters and digits only) -> record keys.
_COLUMNS = {
    "eventid": "eventID",
    "eventname": "eventName",
    "eventtime": "eventTime",
    "eventsource": "eventSource",
    "awsregion": "awsRegion",
    "region": "awsRegion",
    "errorcode": "errorCode",
    "sourceipaddress": "sourceIPAddress",
    "readonly": "readOnly",
}
_IDENTITY = {"username": "userName", "awsaccesskey": "accessKeyId", "accesskeyid": "accessKeyId"}
_RESOURCE_TYPE = ("resourcetype",)
_RESOURCE_NAME = ("resourcename", "resources")
_EVENT_JSON = ("cloudtrailevent",)


class NotEventHistory(TrailforensicsError, ValueError):
    pass


def _norm(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


def looks_like_event_history(head: str) -> bool:
    first = head.splitlines()[0] if head else ""
    cols = {_norm(c) for c in next(csv.reader([first]), [])}
    return {"eventname", "eventtime"} <= cols and bool(cols & {"eventsource", "eventid", "cloudtrailevent"})


_MAX_CELL = 1 << 30


def read_event_history_csv(text: str) -> tuple[list[bytes], set[int], list[str]]:
    """(raw records, indexes of partial records, problems)."""
    # The CloudTrail event column holds whole records (responseElements can be MBs); the
    # csv module's default cell limit is 128 KiB.
    if csv.field_size_limit() < _MAX_CELL:
        csv.field_size_limit(_MAX_CELL)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise NotEventHistory("empty CSV") from exc
    names = [_norm(h) for h in header]
    if not looks_like_event_history(",".join(header)):
        raise NotEventHistory("CSV of other data (no Event name/Event time/Event source columns)")
    json_col = next((i for i, n in enumerate(names) if n in _EVENT_JSON), None)
    records: list[bytes] = []
    partial: set[int] = set()
    problems: list[str] = []
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = row[json_col].strip() if json_col is not None and json_col < len(row) else ""
        if cell:
            try:
                msgspec.json.decode(cell)
            except (msgspec.DecodeError, RecursionError):
                problems.append(f"line {line_no}: invalid JSON in the CloudTrail event column")
            else:
                records.append(cell.encode("utf-8"))
                continue
        partial.add(len(records))
        records.append(_partial_record(names, row))
    return records, partial, problems


def _partial_record(names: list[str], row: list[str]) -> bytes:
    rec: dict[str, object] = {}
    identity: dict[str, str] = {}
    rtype = rname = None
    for name, value in zip(names, row):
        value = value.strip()
        if not value:
            continue
        if name in _COLUMNS:
            key = _COLUMNS[name]
            rec[key] = (value.lower() == "true") if key == "readOnly" else value
        elif name in _IDENTITY:
            identity[_IDENTITY[name]] = value
        elif name in _RESOURCE_TYPE:
            rtype = value
        elif name in _RESOURCE_NAME:
            rname = value
    if identity:
        rec["userIdentity"] = identity
    if rtype or rname:
        rec["resources"] = [{"type": rtype, "ARN": rname}]
    return msgspec.json.encode(rec)
