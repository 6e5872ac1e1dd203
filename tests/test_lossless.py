"""Lossless: every record can be rebuilt, JSON-equal, from its row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trailforensics.normalize.columns import FileContext, build
from trailforensics.normalize.rebuild import rebuild_record
from trailforensics.readers.cloudtrail import decode_records_document
from trailforensics.schema import KNOWN_TOP_LEVEL_KEYS


def roundtrip(records: list[Any], pretty: bool = False) -> list[dict[str, Any]]:
    data = json.dumps({"Records": records}, indent=2 if pretty else None).encode()
    decoded, rejected = decode_records_document(data)
    assert rejected == sum(not isinstance(r, dict) for r in records)
    built = build(decoded, FileContext("f.json", "cloudtrail", "run"))
    assert len(built.keys) == 16 * built.batch.num_rows
    return [rebuild_record(row) for row in built.batch.to_pylist()]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
known = sorted(KNOWN_TOP_LEVEL_KEYS)
# Keys: every known key, case variants of them, and arbitrary unknown ones.
keys = st.one_of(
    st.sampled_from(known),
    st.sampled_from([k.lower() for k in known] + [k.upper() for k in known]),
    st.text(max_size=12),
)
time_texts = st.one_of(
    st.sampled_from(
        [
            "2026-03-10T02:13:07Z",
            "2026-03-10 02:13:07",
            "2026-03-10T02:13:07.123Z",
            "20131102T010628Z",
            "redacted",
            "",
            "2026-02-30T00:00:00Z",
            "2026-03-10T02:13:07+11:00",
        ]
    ),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
)
records = st.dictionaries(keys, json_values, max_size=10).flatmap(
    lambda base: st.fixed_dictionaries({}, optional={"eventTime": st.one_of(time_texts, json_values)}).map(
        lambda extra: {**base, **extra}
    )
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, min_size=1, max_size=8))
def test_arbitrary_records_rebuild_exactly(recs: list[dict[str, Any]]) -> None:
    assert roundtrip(recs) == recs


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(records, json_values), min_size=1, max_size=6))
def test_non_objects_are_rejected_and_objects_kept(items: list[Any]) -> None:
    kept = [r for r in items if isinstance(r, dict)]
    assert roundtrip(items) == kept


def test_odd_values_are_coerced_and_originals_kept() -> None:
    recs = [
        {
            "eventID": "1",
            "readOnly": "True",
            "managementEvent": "false",
            "sessionCredentialFromConsole": "true",
            "recipientAccountId": 123456789012,
            "eventTime": "2026-03-10 02:13:07",
            "requestParameters": '{"bucketName": "x"}',
            "userIdentity": None,
            "tlsDetails": {},
            "errorCode": 200,
            "Eventname": "case differs",
        },
        {
            "eventID": "2",
            "eventTime": "redacted",
            "responseElements": None,
            "userIdentity": "not an object",
            "tlsDetails": {"tlsVersion": "TLSv1.2", "extraTls": 1},
        },
    ]
    data = json.dumps({"Records": recs}).encode()
    decoded, _ = decode_records_document(data)
    rows = build(decoded, FileContext("f", "cloudtrail", "run")).batch.to_pylist()
    assert [rebuild_record(r) for r in rows] == recs
    first, second = rows
    assert first["read_only"] is True and first["management_event"] is False
    assert first["session_credential_from_console"] is True
    assert first["recipient_account_id"] == "123456789012"
    assert first["error_code"] == "200"
    assert json.loads(first["request_parameters"]) == {"bucketName": "x"}
    assert first["event_time"].isoformat() == "2026-03-10T02:13:07+00:00"
    assert json.loads(first["extra"]) == {"Eventname": "case differs"}
    assert second["event_time"] is None
    assert json.loads(second["original_values"])["eventTime"] == "redacted"
    assert second["tls_version"] == "TLSv1.2"
    assert "responseElements" in second["null_fields"]


def test_large_integers_and_unicode_survive() -> None:
    recs = [
        {
            "eventID": "x",
            "requestParameters": {"n": 2**80, "s": "Grüße 🚀 한국어", "f": 1.5e-300},
            "userAgent": "\u202eevil",
            "eventName": "한국어",
        }
    ]
    assert roundtrip(recs, pretty=True) == recs


def _records_in(obj: Any) -> list[dict[str, Any]]:
    if isinstance(obj, dict):
        if "eventVersion" in obj or "eventName" in obj:
            return [obj]
        return [r for v in obj.values() for r in _records_in(v)]
    if isinstance(obj, list):
        return [r for v in obj for r in _records_in(v)]
    return []


def _realdata_records(root: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix == ".gz" or path.name == "README.md":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        docs: list[Any] = []
        try:
            docs = [json.loads(text)]
        except json.JSONDecodeError:
            for line in text.splitlines():
                try:
                    docs.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        for doc in docs:
            out.extend(_records_in(doc))
    return out


def test_every_realdata_record_rebuilds(realdata: Path) -> None:
    recs = _realdata_records(realdata)
    assert len(recs) > 50
    assert roundtrip(recs) == recs


def test_every_panther_record_rebuilds(panther_path: Path) -> None:
    recs = [json.loads(line)["log"] for line in panther_path.read_text().splitlines() if line.strip()]
    recs = [r for r in recs if isinstance(r, dict)]
    assert len(recs) > 400
    assert roundtrip(recs) == recs


@pytest.mark.parametrize("pretty", [False, True])
def test_raw_json_is_kept_verbatim(pretty: bool) -> None:
    rec = {"eventID": "1", "requestParameters": {"b": 1, "a": [1, 2, {"z": None}]}}
    data = json.dumps({"Records": [rec]}, indent=2 if pretty else None).encode()
    decoded, _ = decode_records_document(data)
    row = build(decoded, FileContext("f", "cloudtrail", "run")).batch.to_pylist()[0]
    assert msgspec.json.decode(row["request_parameters"]) == rec["requestParameters"]
    # key order of the original is kept (the bytes were never re-serialised)
    assert row["request_parameters"].replace(" ", "").replace("\n", "").startswith('{"b":1')
