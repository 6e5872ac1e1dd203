"""Row -> the original CloudTrail record (JSON-equal): the proof that ingest is lossless."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from trailforensics.normalize.timeparse import format_time
from trailforensics.schema import (
    STRING_BOOL_KEYS,
    TLS_KEYS,
    TOP_LEVEL_BOOL_KEYS,
    TOP_LEVEL_JSON_KEYS,
    TOP_LEVEL_STRING_KEYS,
)


def _loads(text: str) -> Any:
    import msgspec

    # msgspec, not orjson: it keeps integers wider than 64 bits exactly.
    try:
        return msgspec.json.decode(text)
    except msgspec.ValidationError:  # a number beyond float range (1e400): Python reads it as inf
        import json

        return json.loads(text)


def rebuild_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild the original record from a row of the ``events`` table (a dict of columns)."""
    rec: dict[str, Any] = {}
    originals = _loads(row["original_values"]) if row.get("original_values") else {}
    for key, col in TOP_LEVEL_STRING_KEYS.items():
        if row.get(col) is not None:
            rec[key] = row[col]
    for key, col in TOP_LEVEL_BOOL_KEYS.items():
        if row.get(col) is not None:
            rec[key] = bool(row[col])
    for key, col in STRING_BOOL_KEYS.items():
        if row.get(col) is not None:
            rec[key] = "true" if row[col] else "false"  # AWS's own spelling
    t = row.get("event_time")
    if t is not None and TIME_FROM_NOTE not in originals:
        rec["eventTime"] = format_time(t) if isinstance(t, datetime) else str(t)
    for key, col in TOP_LEVEL_JSON_KEYS.items():
        if row.get(col) is not None:
            rec[key] = _loads(row[col])
    tls = {k: row[c] for k, c in TLS_KEYS.items() if row.get(c) is not None}
    if tls:
        rec["tlsDetails"] = tls
    if row.get("null_fields"):
        for key in row["null_fields"].split(","):
            rec[key] = None
    if row.get("extra"):
        rec.update(_loads(row["extra"]))
    # Keys starting with "$" are notes about the record (never CloudTrail keys): see original_bytes.
    rec.update((k, v) for k, v in originals.items() if not k.startswith("$"))
    return rec


INVALID_UTF8_KEY = "$invalid_utf8_base64"
# A record with a key twice: the names, and the record's exact bytes (the row holds the last value).
DUPLICATE_KEYS_KEY = "$duplicate_keys"
DUPLICATE_BYTES_KEY = "$duplicate_keys_base64"
# The record had no eventTime; event_time was taken from the key this note names (a SIEM export's).
TIME_FROM_NOTE = "$event_time_from"
SIEM_TIME_KEY = "@timestamp"


def original_bytes(row: Mapping[str, Any]) -> bytes | None:
    """The record's exact original bytes when no JSON object can hold them: bytes that were not
    valid UTF-8 (the row holds them escaped) or a key given twice (the row holds the last value)."""
    if not row.get("original_values"):
        return None
    values = _loads(row["original_values"])
    encoded = values.get(INVALID_UTF8_KEY, values.get(DUPLICATE_BYTES_KEY))
    return base64.b64decode(encoded) if isinstance(encoded, str) else None


def dumps(record: Mapping[str, Any]) -> bytes:
    return orjson.dumps(record)
