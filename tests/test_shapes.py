"""Every dump shape yields the same rows; look-alikes and hostile archives are handled safely."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import tarfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from ct import record

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.ingest.summary import EXIT_FAILED_FILES
from trailforensics.readers import archives

UTC = timezone.utc
ONE = IngestOptions(workers=1)
T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
COMPARED = (
    "event_time, event_id, event_name, event_source, aws_region, source_ip_address, user_agent, error_code, "
    "read_only, recipient_account_id, user_identity_arn, user_identity_access_key_id, session_issuer_arn, "
    "user_identity, request_parameters, response_elements, additional_event_data, resources, extra, "
    "original_values, null_fields, tls_version"
)


def events() -> list[dict[str, Any]]:
    rng = random.Random(4)
    out = [
        record(
            "ListUsers",
            T0 + timedelta(seconds=i),
            source="iam.amazonaws.com",
            rng=rng,
            requestParameters={"maxItems": i, "pathPrefix": "/ünïcode 🚀/"},
        )
        for i in range(3)
    ]
    out.append(
        record(
            "ConsoleLogin",
            T0 + timedelta(minutes=3),
            source="signin.amazonaws.com",
            rng=rng,
            eventType="AwsConsoleSignIn",
            responseElements={"ConsoleLogin": "Success"},
            additionalEventData={"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com/"},
            requestParameters=None,
        )
    )
    out.append(
        record(
            "PutObject",
            T0 + timedelta(minutes=4),
            source="s3.amazonaws.com",
            rng=rng,
            eventCategory="Data",
            managementEvent=False,
            readOnly=False,
            resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::b/k"}],
            requestParameters={"bucketName": "b", "key": "k", "x-amz-acl": "private"},
            errorCode="AccessDenied",
            errorMessage='Access "Denied"',
        )
    )
    return out


def lookup_event(rec: dict[str, Any]) -> dict[str, Any]:
    # EventTime in the local time of whoever ran the CLI: the record's own eventTime wins.
    local = datetime.fromisoformat(rec["eventTime"].replace("Z", "+00:00")).astimezone(timezone(timedelta(hours=11)))
    return {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": str(rec.get("readOnly")).lower(),
        "AccessKeyId": rec["userIdentity"]["accessKeyId"],
        "EventTime": local.isoformat(sep=" "),
        "EventSource": rec["eventSource"],
        "Username": rec["userIdentity"]["userName"],
        "Resources": [],
        "CloudTrailEvent": json.dumps(rec),
    }


def eventbridge(rec: dict[str, Any]) -> dict[str, Any]:
    kind = "AWS Console Sign In via CloudTrail" if rec["eventName"] == "ConsoleLogin" else "AWS API Call via CloudTrail"
    return {
        "version": "0",
        "id": "e-" + rec["eventID"],
        "detail-type": kind,
        "source": "aws." + rec["eventSource"][:3],
        "account": rec["recipientAccountId"],
        "time": rec["eventTime"],
        "region": rec["awsRegion"],
        "resources": [],
        "detail": rec,
    }


def console_csv(recs: list[dict[str, Any]], with_json: bool) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    header = [
        "Event ID",
        "Event name",
        "Event time",
        "User name",
        "Event source",
        "Resource type",
        "Resource name",
        "AWS access key",
        "AWS region",
        "Error code",
        "Source IP address",
        "Read-only",
    ]
    w.writerow(header + (["CloudTrail event"] if with_json else []))
    for r in recs:
        row = [
            r["eventID"],
            r["eventName"],
            r["eventTime"],
            r["userIdentity"]["userName"],
            r["eventSource"],
            "",
            "",
            r["userIdentity"]["accessKeyId"],
            r["awsRegion"],
            r.get("errorCode", ""),
            r["sourceIPAddress"],
            str(r.get("readOnly", "")).lower(),
        ]
        w.writerow(row + ([json.dumps(r)] if with_json else []))
    return buf.getvalue()


def shapes(recs: list[dict[str, Any]]) -> dict[str, tuple[str, bytes]]:
    """name -> (file name, bytes) for every supported shape of the same events."""
    records_doc = json.dumps({"Records": recs}).encode()
    lines = [json.dumps(r) for r in recs]
    pages = [
        {"Events": [lookup_event(r) for r in recs[:3]], "NextToken": "tok"},
        {"Events": [lookup_event(r) for r in recs[3:]]},
    ]
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("export/part1.json.gz", gzip.compress(json.dumps({"Records": recs[:2]}).encode()))
        zf.writestr("export/part2.jsonl", "\n".join(lines[2:]) + "\n")
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w:gz") as tf:
        inner = zbuf.getvalue()
        info = tarfile.TarInfo("nested/inner.zip")
        info.size = len(inner)
        tf.addfile(info, io.BytesIO(inner))
    return {
        "records": ("flat.json", records_doc),
        "records_gz": ("flat.json.gz", gzip.compress(records_doc)),
        "records_pretty": ("event_history.json", json.dumps({"Records": recs}, indent=2).encode()),
        "console_csv": ("event_history.csv", console_csv(recs, True).encode()),
        "lookup_pages": ("lookup.json", b"\n".join(json.dumps(p, indent=4).encode() for p in pages)),
        "lookup_jsonl": ("lookup.jsonl", "\n".join(json.dumps(lookup_event(r)) for r in recs).encode()),
        "jsonl_lf": ("siem.jsonl", ("\n".join(lines) + "\n").encode()),
        "jsonl_crlf": ("siem-crlf.jsonl", ("\r\n".join(lines) + "\r\n").encode()),
        "jsonl_gz": ("lake.jsonl.gz", gzip.compress("\n".join(lines).encode())),
        "cloudwatch": (
            "cw-export",
            "\n".join(f"{r['eventTime'][:-1]}.000Z {json.dumps(r)}" for r in recs).encode(),
        ),
        "array_pretty": ("array.json", json.dumps(recs, indent=2).encode()),
        "array_compact": ("array-compact.json", json.dumps(recs, separators=(",", ":")).encode()),
        "eventbridge": ("eventbridge.jsonl", "\n".join(json.dumps(eventbridge(r)) for r in recs).encode()),
        "zip": ("dump.zip", zbuf.getvalue()),
        "tgz": ("dump.tgz", tbuf.getvalue()),
    }


EXPECTED_FORMAT = {
    "records": "cloudtrail",
    "records_gz": "cloudtrail",
    "records_pretty": "cloudtrail",
    "console_csv": "event-history-csv",
    "lookup_pages": "lookup-events",
    "lookup_jsonl": "lookup-events",
    "jsonl_lf": "jsonl",
    "jsonl_crlf": "jsonl",
    "jsonl_gz": "jsonl",
    "cloudwatch": "cloudwatch-logs",
    "array_pretty": "json-array",
    "array_compact": "json-array",
    "eventbridge": "eventbridge",
}


def rows(ds_path: Path) -> list[dict[str, Any]]:
    with Dataset(ds_path) as ds:
        return ds.sql(f"SELECT {COMPARED}, source_format, source_file FROM events ORDER BY event_id").to_pylist()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    root = tmp_path_factory.mktemp("base")
    path = root / "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/10/x.json.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": events()}).encode()))
    assert ingest([root], root.parent / (root.name + "-ds"), ONE).rows_written == 5
    return rows(root.parent / (root.name + "-ds"))


def strip(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in ("source_format", "source_file")} for r in rs]


@pytest.mark.parametrize("shape", sorted(shapes(events())))
def test_every_shape_yields_identical_rows(tmp_path: Path, shape: str, baseline: list[dict[str, Any]]) -> None:
    name, data = shapes(events())[shape]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_bytes(data)
    summary = ingest([tmp_path / "in"], tmp_path / "ds", ONE)
    assert summary.exit_code == 0, summary.lines()
    assert summary.rows_written == 5 and summary.reconciles, summary.lines()
    got = rows(tmp_path / "ds")
    assert strip(got) == strip(baseline)
    if shape in EXPECTED_FORMAT:
        assert {r["source_format"] for r in got} == {EXPECTED_FORMAT[shape]}
    if shape == "zip":
        assert {r["source_file"] for r in got} == {
            "dump.zip!/export/part1.json.gz",
            "dump.zip!/export/part2.jsonl",
        }
    if shape == "tgz":
        assert {r["source_file"] for r in got} == {
            "dump.tgz!/nested/inner.zip!/export/part1.json.gz",
            "dump.tgz!/nested/inner.zip!/export/part2.jsonl",
        }


def test_same_events_in_many_shapes_are_one_row_each(tmp_path: Path) -> None:
    for i, (name, data) in enumerate(shapes(events()).values()):
        (tmp_path / "in" / str(i)).mkdir(parents=True)
        (tmp_path / "in" / str(i) / name).write_bytes(data)
    summary = ingest([tmp_path / "in"], tmp_path / "ds", IngestOptions(workers=2))
    assert summary.rows_written == 5 and summary.duplicates_dropped == 5 * (len(shapes(events())) - 1)


def test_partial_csv_rows(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "history.csv").write_text(console_csv(events(), with_json=False))
    summary = ingest([tmp_path / "in"], tmp_path / "ds", ONE)
    assert summary.rows_written == 5
    with Dataset(tmp_path / "ds") as ds:
        got = ds.sql(
            "SELECT event_name, event_time, partial_record, user_identity_user_name, source_format "
            "FROM events ORDER BY event_time"
        ).to_pylist()
    assert all(r["partial_record"] for r in got)
    assert got[0]["event_time"] == T0 and got[0]["user_identity_user_name"] == "alice"
    assert got[0]["source_format"] == "event-history-csv"


def test_stdin(tmp_path: Path) -> None:
    data = "\n".join(json.dumps(r) for r in events()).encode()
    summary = ingest(["-"], tmp_path / "ds", IngestOptions(workers=1, stdin=io.BytesIO(data)))
    assert summary.rows_written == 5
    again = ingest(["-"], tmp_path / "ds", IngestOptions(workers=1, stdin=io.BytesIO(data)))
    assert again.files_unchanged == 1 and again.rows_written == 0
    assert not list((tmp_path / "ds").glob("stdin-*")) and not list((tmp_path / "ds").rglob("_input"))
    with Dataset(tmp_path / "ds") as ds:
        assert ds.sql("SELECT DISTINCT source_file FROM events").column(0).to_pylist() == ["<stdin>"]


def test_forced_input_format(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "export.txt").write_text("\n".join(json.dumps(r) for r in events()))
    assert ingest([tmp_path / "in"], tmp_path / "a", IngestOptions(workers=1, input_format="jsonl")).rows_written == 5
    bad = ingest([tmp_path / "in"], tmp_path / "b", IngestOptions(workers=1, input_format="nope"))
    assert bad.exit_code == 1 and "unknown input format" in (bad.aborted or "")


def test_look_alikes_are_skipped(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "s3-event.json").write_text(
        json.dumps(
            {
                "Records": [
                    {
                        "eventVersion": "2.1",
                        "eventSource": "aws:s3",
                        "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {}},
                    }
                ]
            }
        )
    )
    (src / "sqs.json").write_text(json.dumps({"s3Bucket": "b", "s3ObjectKey": ["AWSLogs/1/CloudTrail/x.json.gz"]}))
    (src / "config.json").write_text(
        json.dumps({"fileVersion": "1.0", "configSnapshotId": "x", "configurationItems": []})
    )
    (src / "digest.json").write_text(json.dumps({"awsAccountId": "1", "digestStartTime": "x", "logFiles": []}))
    (src / "users.csv").write_text("name,email\nalice,a@example.com\n")
    (src / "other.jsonl").write_text('{"level": "info", "msg": "hello"}\n{"level": "warn"}\n')
    (src / "other-bridge.json").write_text(
        json.dumps({"detail-type": "EC2 Instance State-change Notification", "detail": {"state": "running"}})
    )
    summary = ingest([src], tmp_path / "ds", ONE)
    # Nothing in the folder is CloudTrail: a warning and exit 2 (a wrong folder, most likely).
    assert summary.nothing_ingestable and summary.exit_code == EXIT_FAILED_FILES, summary.lines()
    assert summary.rows_written == 0 and summary.files_skipped == 7
    reasons = " | ".join(summary.skipped_by_reason)
    for fragment in (
        "S3/SQS/SNS event notification",
        "delivery notification",
        "AWS Config",
        "digest",
        "CSV of other data",
        "without CloudTrail fields",
        "EventBridge event of another kind",
    ):
        assert fragment in reasons, fragment


def test_hostile_archives(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    good = json.dumps({"Records": events()[:1]}).encode()
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../etc/evil.json", good)
        zf.writestr("/abs/path.json", json.dumps({"Records": events()[1:2]}))
        link = zipfile.ZipInfo("link.json")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("bomb.json", b" " * (80 << 20))  # ~80 KB compressed, 80 MB inflated
    (src / "hostile.zip").write_bytes(zbuf.getvalue())
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w") as tf:
        sym = tarfile.TarInfo("sym.json")
        sym.type = tarfile.SYMTYPE
        sym.linkname = "/etc/shadow"
        tf.addfile(sym)
        info = tarfile.TarInfo("../outside.json")
        data = json.dumps({"Records": events()[2:3]}).encode()
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (src / "hostile.tar").write_bytes(tbuf.getvalue())
    before = sorted(p.name for p in tmp_path.rglob("*"))
    old_floor = archives.RATIO_FLOOR
    archives.RATIO_FLOOR = 1 << 20  # make the bomb exceed the bound with a small test file
    try:
        summary = ingest([src], tmp_path / "ds", ONE)
    finally:
        archives.RATIO_FLOOR = old_floor
    assert summary.rows_written == 3
    after = sorted(p.name for p in tmp_path.rglob("*") if "ds" not in p.parts)
    assert [n for n in after if n in ("evil.json", "path.json", "outside.json", "passwd")] == []
    assert set(before) >= {n for n in after if not n.startswith("ds")}
    failures = dict(summary.failures)
    assert any("bomb" in reason for reason in failures.values())
    with Dataset(tmp_path / "ds") as ds:
        names = set(ds.sql("SELECT DISTINCT source_file FROM events").column(0).to_pylist())
        skipped = ds.sql("SELECT source_file, reason FROM files WHERE status = 'skipped'").to_pylist()
    assert names == {
        "hostile.zip!/../../etc/evil.json",
        "hostile.zip!//abs/path.json",
        "hostile.tar!/../outside.json",
    }
    assert {s["source_file"] for s in skipped} == {"hostile.zip!/link.json", "hostile.tar!/sym.json"}
