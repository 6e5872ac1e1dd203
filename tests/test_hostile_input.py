"""Hostile and damaged input: one bad value or line never costs its neighbours, and nothing is lost silently.

Each case here was found by an adversarial review of the ingest path; the expected outcome is
what a responder needs: the readable records ingested, the damage reported with its file, the
exit code telling, and every ingested record rebuilt exactly.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from ct import record, write_log

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.ingest.summary import EXIT_FAILED_FILES, EXIT_OK
from trailforensics.normalize.rebuild import rebuild_record

ONE = IngestOptions(workers=1)


def rows(ds: Path, where: str = "true") -> list[dict[str, Any]]:
    with Dataset(ds) as d:
        return d.sql(f"SELECT * FROM events WHERE {where} ORDER BY source_file, record_index").to_pylist()


def files(ds: Path) -> dict[str, dict[str, Any]]:
    with Dataset(ds) as d:
        return {r["source_file"]: r for r in d.sql("SELECT * FROM files").to_pylist()}


def records_text(*texts: str) -> bytes:
    return ('{"Records":[' + ",".join(texts) + "]}").encode()


GOOD = json.dumps(record("ListUsers", event_id="good-1"))


def test_lone_surrogate_at_the_end_of_a_string_is_repaired_not_fatal(tmp_path: Path) -> None:
    odd = json.dumps(record("GetObject", event_id="odd-1"))
    odd = odd.replace('"userAgent": "aws-cli', '"userAgent": "a\\ud800", "x": "aws-cli')  # ends right after it
    src = tmp_path / "dump"
    write_log(src, [], raw=records_text(GOOD, odd))
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 2 and summary.exit_code == EXIT_OK
    assert any("surrogate" in why for _, why in summary.file_notes)  # the repair is said, not silent
    (row,) = rows(tmp_path / "ds", "event_id = 'odd-1'")
    assert row["user_agent"] == "a\ufffd"


def test_lone_surrogate_outside_the_tree(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(GOOD + "\n" + GOOD.replace("good-1", "good-2").replace("ListUsers", "List\\udc00Users") + "\n")
    summary = ingest([path], tmp_path / "ds", ONE)
    assert summary.rows_written == 2 and summary.exit_code == EXIT_OK


def test_time_before_year_one_in_utc_is_kept_not_fatal(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    odd = record("ListUsers", event_id="early")
    odd["eventTime"] = "0001-01-01T00:30:00+01:00"
    odd["userIdentity"]["sessionContext"] = {"attributes": {"creationDate": "9999-12-31T23:59:59-01:00"}}
    write_log(src, [json.loads(GOOD), odd])
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 2 and summary.exit_code == EXIT_OK
    (row,) = rows(tmp_path / "ds", "event_id = 'early'")
    assert row["event_time"] is None and rebuild_record(row) == odd


def test_one_bad_jsonl_line_is_rejected_alone_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "siem.jsonl"
    lines = [json.dumps(record("ListUsers", event_id=f"line-{i}")) for i in range(4)]
    lines[2] = lines[2][:40]  # a line cut short in the middle of the file
    path.write_text("\n".join(lines) + "\n" + lines[3][:25])  # ...and a truncated last line
    summary = ingest([path], tmp_path / "ds", ONE)
    assert summary.rows_written == 3 and summary.records_rejected == 2 and summary.reconciles
    assert summary.exit_code & EXIT_FAILED_FILES  # read in part: the exit code tells
    assert summary.partly_read and "invalid JSON" in summary.partly_read[0][1]
    got = rows(tmp_path / "ds")
    # record_index is the position in the file, rejected lines counted
    assert [(r["event_id"], r["record_index"]) for r in got] == [("line-0", 0), ("line-1", 1), ("line-3", 3)]


def test_lookup_event_with_a_broken_cloudtrail_event_keeps_what_it_can(tmp_path: Path) -> None:
    good = record("ListUsers", event_id="e-1")
    bad = record("CreateUser", event_id="e-2")
    events = [
        {"EventId": "e-1", "EventName": "ListUsers", "CloudTrailEvent": json.dumps(good)},
        {
            "EventId": "e-2",
            "EventName": "CreateUser",
            "EventTime": 1773108000,
            "Username": "alice",
            "CloudTrailEvent": json.dumps(bad)[:50],  # truncated export
        },
    ]
    path = tmp_path / "lookup.json"
    path.write_text(json.dumps({"Events": events}))
    summary = ingest([path], tmp_path / "ds", ONE)
    assert summary.rows_written == 2 and summary.reconciles
    (row,) = rows(tmp_path / "ds", "event_id = 'e-2'")
    assert row["partial_record"] and row["event_name"] == "CreateUser"
    assert json.loads(row["extra"])["CloudTrailEvent"] == json.dumps(bad)[:50]  # the broken text is kept


def test_console_csv_with_a_cell_over_the_csv_module_limit(tmp_path: Path) -> None:
    big = record("GetObject", event_id="big", responseElements={"blob": "x" * 300_000})
    small = record("ListUsers", event_id="small")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Event ID", "Event time", "Event name", "Event source", "CloudTrail event"])
    for rec in (big, small):
        writer.writerow([rec["eventID"], rec["eventTime"], rec["eventName"], rec["eventSource"], json.dumps(rec)])
    path = tmp_path / "event_history.csv"
    path.write_text(buf.getvalue())
    summary = ingest([path], tmp_path / "ds", ONE)
    assert summary.rows_written == 2 and summary.exit_code == EXIT_OK
    (row,) = rows(tmp_path / "ds", "event_id = 'big'")
    assert rebuild_record(row) == big


def test_numbers_beyond_float_range(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    texts = [
        GOOD.replace('"good-1"', '"n-1"').replace('"filterSet": {}', '"filterSet": {"n": 1e400}'),
        GOOD.replace('"eventID": "good-1", ', "").replace('"filterSet": {}', '"filterSet": {"n": -1e400}'),
        GOOD.replace('"good-1"', '"n-3"').replace('"readOnly": true', '"readOnly": 1e400'),
    ]
    write_log(src, [], raw=records_text(*texts))
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 3 and summary.exit_code == EXIT_OK
    got = rows(tmp_path / "ds")
    assert [rebuild_record(r) for r in got] == [json.loads(t) for t in texts]  # Python reads 1e400 as inf


def test_a_value_equal_to_an_internal_marker_is_kept(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    agent = json.loads(GOOD)["userAgent"]
    text = GOOD.replace(f'"userAgent": "{agent}"', '"userAgent": "\\u0000absent"')
    write_log(src, [], raw=records_text(text))
    ingest([src], tmp_path / "ds", ONE)
    (row,) = rows(tmp_path / "ds")
    assert row["user_agent"] == "\x00absent" and rebuild_record(row) == json.loads(text)


def test_string_boolean_spellings_are_each_kept(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    recs = [
        record("ListUsers", event_id="a", sessionCredentialFromConsole="True"),
        record("ListUsers", event_id="b", sessionCredentialFromConsole="yes"),
        record("ListUsers", event_id="c", sessionCredentialFromConsole="true"),
    ]
    write_log(src, recs)
    ingest([src], tmp_path / "ds", ONE)
    got = rows(tmp_path / "ds")
    assert [rebuild_record(r) for r in got] == recs
    assert [r["session_credential_from_console"] for r in got] == [True, None, True]


def test_utf16_export_from_powershell(tmp_path: Path) -> None:
    path = tmp_path / "lookup.json"
    body = json.dumps({"Events": [{"EventId": "u-1", "CloudTrailEvent": json.dumps(record(event_id="u-1"))}]})
    path.write_bytes(b"\xff\xfe" + body.encode("utf-16-le"))
    summary = ingest([path], tmp_path / "ds", ONE)
    assert summary.rows_written == 1 and summary.exit_code == EXIT_OK


def test_look_alikes_in_the_cloudtrail_log_folder_fail_loudly(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    notification = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-west-1",
                "eventTime": "2026-03-10T02:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AIDA"},
                "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}},
            }
        ]
    }
    digest = {"awsAccountId": "111122223333", "digestStartTime": "x", "digestEndTime": "y", "logFiles": []}
    write_log(src, [], raw=json.dumps(notification).encode())
    write_log(src, [], raw=json.dumps(digest).encode())
    write_log(src, [json.loads(GOOD)])
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 1 and summary.exit_code & EXIT_FAILED_FILES
    reasons = [why for _, why in summary.failures]
    assert len(reasons) == 2 and all("in the CloudTrail log folder" in why for why in reasons)
    assert any("notification" in why for why in reasons) and any("digest" in why for why in reasons)


def test_forced_format_that_does_not_fit_fails(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"Records": [json.loads(GOOD)]}))
    summary = ingest([path], tmp_path / "ds", IngestOptions(workers=1, input_format="event-history-csv"))
    assert summary.exit_code & EXIT_FAILED_FILES and summary.rows_written == 0


def test_deep_nesting_costs_only_its_record_with_a_clear_reason(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    deep = GOOD.replace('"filterSet": {}', '"filterSet": ' + "[" * 3000 + "]" * 3000)
    write_log(src, [], raw=records_text(GOOD, deep))
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.exit_code & EXIT_FAILED_FILES and summary.rows_written == 1 and summary.records_rejected == 1
    assert "nested too deeply" in summary.partly_read[0][1]


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_archive_members_with_odd_names_and_repeated_names(tmp_path: Path) -> None:
    rec_a, rec_b = record(event_id="zip-a"), record(event_id="zip-b")
    key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/10/x.json.gz"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(key, gzip.compress(json.dumps({"Records": [rec_a]}).encode()))
        zf.writestr(key, gzip.compress(json.dumps({"Records": [rec_b]}).encode()))  # same name twice
    (tmp_path / "a.zip").write_bytes(buf.getvalue())
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        data = json.dumps({"Records": [record(event_id="tar-c")]}).encode()
        info = tarfile.TarInfo("caf\udce9.json")  # a name that is not UTF-8 (surrogate-escaped byte)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (tmp_path / "b.tar").write_bytes(tbuf.getvalue())
    summary = ingest([tmp_path / "a.zip", tmp_path / "b.tar"], tmp_path / "ds", ONE)
    assert summary.exit_code == EXIT_OK and summary.rows_written == 3
    got = {r["event_id"]: r for r in rows(tmp_path / "ds")}
    assert got["zip-a"]["source_file"] != got["zip-b"]["source_file"]
    assert got["zip-a"]["source_account_id"] == "111122223333" and got["zip-a"]["source_region"] == "eu-west-1"
    assert got["tar-c"]["source_file"] == "b.tar!/caf\\xe9.json"
    members = {k: v for k, v in files(tmp_path / "ds").items() if "!/" in k}
    assert sorted(v["rows_written"] for v in members.values()) == [1, 1, 1]
