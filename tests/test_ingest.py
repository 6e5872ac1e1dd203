"""Ingest: counts, bad input, dedup, incremental runs, locking, evidence safety."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ct import record, simple_tree, write_log

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.ingest.summary import EXIT_CHANGED_FILES, EXIT_FAILED_FILES, EXIT_FATAL, EXIT_OK
from trailforensics.store.lock import WriteLock

UTC = timezone.utc
ONE = IngestOptions(workers=1)


def tree_state(root: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def count(ds_path: Path, sql: str = "SELECT count(*) FROM events") -> int:
    with Dataset(ds_path) as ds:
        return ds.sql(sql).column(0)[0].as_py()


def test_tree_ingests_every_record(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    recs = simple_tree(src, files=6, per_file=25)
    before = tree_state(src)
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.exit_code == EXIT_OK and summary.reconciles
    assert summary.files_ingested == 6 and summary.rows_written == len(recs) == summary.records_read
    assert tree_state(src) == before  # the evidence tree is never written
    with Dataset(tmp_path / "ds") as ds:
        rows = ds.sql(
            "SELECT event_id, source_file, record_index, source_account_id, source_region, event_date FROM events"
        ).to_pylist()
        assert {r["event_id"] for r in rows} == {r["eventID"] for r in recs}
        assert all(r["source_file"].startswith("AWSLogs/111122223333/CloudTrail/") for r in rows)
        assert {r["source_region"] for r in rows} == {"eu-west-1", "us-east-1"}
        assert {str(r["event_date"]) for r in rows} == {"2026-03-09", "2026-03-10"}
        files = ds.sql("SELECT status, count(*) n FROM files GROUP BY ALL").to_pylist()
        assert files == [{"status": "ingested", "n": 6}]
    # Rows come out nearly sorted by event time (files are fed in delivery order): no row is
    # more than a delivery window behind the latest time before it.
    for f in (tmp_path / "ds" / "events").rglob("*.parquet"):
        times = pq.read_table(f, columns=["event_time"]).column(0).to_pylist()
        latest = times[0]
        for t in times:
            assert latest - t <= timedelta(minutes=15)
            latest = max(latest, t)


def test_any_level_of_the_tree_gives_the_same_source_file(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=2, per_file=3)
    day = next(p for p in src.rglob("*") if p.is_dir() and p.name == "09" and p.parent.name == "03")
    ingest([day], tmp_path / "ds", ONE)
    with Dataset(tmp_path / "ds") as ds:
        names = ds.sql("SELECT DISTINCT source_file FROM events").column(0).to_pylist()
    assert names and all(n.startswith("AWSLogs/111122223333/CloudTrail/") for n in names)


def _bad_corpus(src: Path) -> dict[str, str]:
    """Write one file per kind of bad input; return {name fragment: expected reason fragment}."""
    good = [record("ListBuckets", event_id=f"good-{i}") for i in range(5)]
    body = json.dumps({"Records": good}).encode()
    when = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    base = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/10/111122223333_CloudTrail_eu-west-1_"

    def put(name: str, data: bytes) -> None:
        p = src / f"{base}20260310T0300Z_{name}.json.gz"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    put("truncated", gzip.compress(body)[:-20])
    put("badjson", gzip.compress(b'{"Records": [{"eventID": "x",}]}'))
    put(
        "twomembers",
        gzip.compress(body) + gzip.compress(json.dumps({"Records": [record("StopLogging")]}).encode()),
    )
    put("norecords", gzip.compress(b'{"foo": []}'))
    put("badutf8", gzip.compress(b'{"Rec\xffords": [{"eventID": "x"}]}'))  # in a value it would cost the value only
    put("bomb", gzip.compress(b"\0" * (80 << 20), 9))  # 80 MB of zeros: about 80 KB compressed
    put("empty", b"")
    digest = {
        "awsAccountId": "111122223333",
        "digestStartTime": "2026-03-10T02:00:00Z",
        "digestEndTime": "2026-03-10T03:00:00Z",
        "digestS3Bucket": "b",
        "digestS3Object": "k",
        "logFiles": [],
    }
    put("digest", gzip.compress(json.dumps(digest).encode()))
    write_log(src, good, delivered=when)
    return {
        "truncated": "truncated",
        "badjson": "invalid JSON",
        "twomembers": "second gzip member",
        "norecords": "not a CloudTrail log file",
        "badutf8": "invalid UTF-8",
        "empty": "empty file",
        "digest": "digest",
        "bomb": "decompression bomb (ratio",
    }


def test_bad_input_is_reported_and_the_rest_ingested(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    expected = _bad_corpus(src)
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.exit_code == EXIT_FAILED_FILES
    assert summary.files_ingested == 1 and summary.rows_written == 5 and summary.reconciles
    reasons = {path.rsplit("_", 1)[-1].split(".")[0]: reason for path, reason in summary.failures}
    assert set(reasons) == set(expected)
    for name, fragment in expected.items():
        assert fragment in reasons[name], (name, reasons[name])
    assert count(tmp_path / "ds", "SELECT count(*) FROM files WHERE status = 'failed'") == len(expected)


def test_strict_stops_and_commits_nothing(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    _bad_corpus(src)
    summary = ingest([src], tmp_path / "ds", IngestOptions(workers=1, strict=True))
    assert summary.exit_code == EXIT_FATAL and not summary.committed and "--strict" in (summary.aborted or "")
    assert count(tmp_path / "ds") == 0
    assert not any((tmp_path / "ds" / ".staging").glob("*"))


def test_huge_record_and_file(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    big = record(
        "DescribeInstances",
        event_id="big",
        responseElements={"blob": "x" * (17 << 20), "items": list(range(1000))},
    )
    many = [record("GetObject", event_id=f"m{i}", requestParameters={"pad": "y" * 3000}) for i in range(10_000)]
    write_log(src, [big])
    write_log(src, many, delivered=datetime(2026, 3, 10, 2, 10, tzinfo=UTC))
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.exit_code == EXIT_OK and summary.rows_written == 10_001
    assert count(tmp_path / "ds", "SELECT length(response_elements) FROM events WHERE event_id = 'big'") > 17 << 20


def test_org_and_account_trail_copies_dedup_with_provenance(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    org = simple_tree(src / "org-bucket", files=4, per_file=10, seed=7, org_id="o-abcdefghij")
    acct = simple_tree(src / "account-bucket", files=4, per_file=10, seed=7)
    assert [r["eventID"] for r in org] == [r["eventID"] for r in acct]
    summary = ingest([src], tmp_path / "ds", IngestOptions(workers=2))
    assert summary.reconciles and summary.rows_written == 40 and summary.duplicates_dropped == 40
    with Dataset(tmp_path / "ds") as ds:
        assert ds.sql("SELECT count(DISTINCT event_id) FROM events").column(0)[0].as_py() == 40
        dups = ds.sql(
            "SELECT d.source_file AS dropped, e.source_file AS kept FROM duplicates d "
            "JOIN events e USING (event_id, recipient_account_id)"
        ).to_pylist()
    assert len(dups) == 40
    assert all(
        {"org-bucket" in (d["dropped"] + d["kept"]), "account-bucket" in (d["dropped"] + d["kept"])} == {True}
        for d in dups
    )


def test_a_forged_copy_never_hides_the_genuine_record(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    when = datetime(2026, 3, 10, 2, 24, 39, tzinfo=UTC)
    genuine = record("CreateAccessKey", when, event_id="ak-1", responseElements={"accessKey": {"accessKeyId": "AKIA1"}})
    forged = dict(genuine, errorCode="AccessDenied", responseElements=None)
    mfa_flipped = json.loads(json.dumps(genuine))
    mfa_flipped["userIdentity"]["sessionContext"] = {"attributes": {"mfaAuthenticated": "true"}}
    # The forgeries come first (delivered earlier): they must not make the genuine record a "duplicate".
    write_log(src, [forged, mfa_flipped], delivered=datetime(2026, 3, 10, 2, 25, tzinfo=UTC))
    write_log(src, [genuine], delivered=datetime(2026, 3, 10, 2, 30, tzinfo=UTC))
    write_log(src / "copy", [genuine], delivered=datetime(2026, 3, 10, 2, 30, tzinfo=UTC))  # a true duplicate
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 3 and summary.duplicates_dropped == 1
    with Dataset(tmp_path / "ds") as ds:
        got = ds.sql("SELECT error_code, response_elements FROM events ORDER BY source_file, record_index").to_pylist()
    assert {"error_code": None, "response_elements": '{"accessKey":{"accessKeyId":"AKIA1"}}'} in got


def test_two_dumps_of_one_bucket_keep_rows_traceable_to_their_copy(tmp_path: Path) -> None:
    monday, friday = tmp_path / "sync-monday", tmp_path / "sync-friday"
    simple_tree(monday, files=2, per_file=3, seed=3)
    shutil.copytree(monday, friday)
    extra = write_log(friday, [record("DeleteTrail", event_id="late-1")], delivered=datetime(2026, 3, 12, tzinfo=UTC))
    summary = ingest([monday, friday], tmp_path / "ds", ONE)
    assert summary.rows_written == 7 and summary.duplicates_dropped == 6
    with Dataset(tmp_path / "ds") as ds:
        sources = set(ds.sql("SELECT DISTINCT source_file FROM files").column(0).to_pylist())
    shared = {str(p.relative_to(monday)) for p in monday.rglob("*.json.gz")}
    assert sources == {f"{d}/{rel}" for d in ("sync-monday", "sync-friday") for rel in shared} | {
        str(extra.relative_to(friday))  # a path only one dump has stays as it is
    }


def test_same_file_twice_and_records_without_event_id(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    recs = [record("ConsoleLogin", event_id=None) for _ in range(3)]
    for r in recs:
        del r["eventID"]
    path = write_log(src / "a", recs)
    (src / "b").mkdir()
    shutil.copy(path, src / "b" / path.name)
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 3 and summary.duplicates_dropped == 3
    assert count(tmp_path / "ds", "SELECT count(DISTINCT record_hash) FROM events") == 3


def test_rerun_is_a_noop_and_new_files_are_ingested_alone(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=5, per_file=10)
    ds = tmp_path / "ds"
    first = ingest([src], ds, ONE)
    again = ingest([src], ds, ONE)
    assert again.files_unchanged == 5 and again.files_ingested == 0 and not again.committed
    write_log(src, [record("CreateUser", event_id="new-1")], delivered=datetime(2026, 3, 11, 0, 5, tzinfo=UTC))
    third = ingest([src], ds, ONE)
    assert third.files_ingested == 1 and third.files_unchanged == 5 and third.rows_written == 1
    assert count(ds) == first.rows_written + 1


def test_changed_file_is_flagged_not_reingested(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=2, per_file=5)
    ds = tmp_path / "ds"
    ingest([src], ds, ONE)
    target = sorted(src.rglob("*.json.gz"))[0]
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched, same bytes
    touched = ingest([src], ds, ONE)
    assert touched.exit_code == EXIT_OK and touched.files_unchanged == 2
    target.write_bytes(gzip.compress(json.dumps({"Records": [record("StopLogging", event_id="forged")]}).encode()))
    changed = ingest([src], ds, ONE)
    assert changed.exit_code == EXIT_CHANGED_FILES and changed.files_changed == 1
    assert "possible tampering" in changed.changed[0][1]
    assert count(ds, "SELECT count(*) FROM events WHERE event_id = 'forged'") == 0
    assert ingest([src], ds, ONE).files_changed == 1  # it stays flagged


def test_failed_file_fixed_later_is_ingested(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    path = write_log(src, [], raw=b'{"Records": [')
    ds = tmp_path / "ds"
    assert ingest([src], ds, ONE).files_failed == 1
    path.write_bytes(gzip.compress(json.dumps({"Records": [record("ListUsers", event_id="fixed")]}).encode()))
    assert ingest([src], ds, ONE).rows_written == 1


def test_lock_refuses_a_second_writer(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=1, per_file=1)
    ds = tmp_path / "ds"
    ingest([src], ds, ONE)
    with WriteLock(ds):
        summary = ingest([src], ds, ONE)
    assert summary.exit_code == EXIT_FATAL and "locked" in (summary.aborted or "")


def test_dataset_inside_evidence_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=1, per_file=1)
    before = tree_state(src)
    summary = ingest([src], src / "ds", ONE)
    assert summary.exit_code == EXIT_FATAL and "inside the evidence" in (summary.aborted or "")
    assert tree_state(src) == before


def test_dataset_inside_evidence_is_refused_through_links_and_dotdot(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=1, per_file=1)
    (tmp_path / "x").mkdir()
    link = tmp_path / "evlink"
    link.symlink_to(src, target_is_directory=True)
    before = tree_state(src)
    for source, dataset in (
        (tmp_path / "x" / ".." / "dump", src / "ds1"),
        (link, src / "ds2"),
        (src, tmp_path / "x" / ".." / "dump" / "ds3"),
        (src, link / "ds4"),
    ):
        summary = ingest([source], dataset, ONE)
        assert summary.exit_code == EXIT_FATAL and "inside the evidence" in (summary.aborted or ""), (source, dataset)
    assert tree_state(src) == before and sorted(p.name for p in src.iterdir()) == ["AWSLogs"]


def test_undecodable_file_name_is_ingested_and_named_safely(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=1, per_file=2)
    exports = src / "exports"
    exports.mkdir()
    name = os.fsdecode(b"caf\xe9-history.json")  # not UTF-8: Python hands it over with a surrogate escape
    (exports / name).write_text(json.dumps({"Records": [record("ListBuckets", event_id="latin1-name")]}))
    ds = tmp_path / "ds"
    summary = ingest([src], ds, ONE)
    assert summary.exit_code == EXIT_OK and summary.rows_written == 3
    assert count(ds, "SELECT count(*) FROM events WHERE source_file = 'exports/caf\\xe9-history.json'") == 1
    again = ingest([src], ds, ONE)  # the escaped name is a stable identity
    assert again.files_unchanged == 2 and not again.committed


def test_edit_with_restored_mtime_is_flagged(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=1, per_file=3)
    ds = tmp_path / "ds"
    ingest([src], ds, ONE)
    target = next(src.rglob("*.json.gz"))
    st = target.stat()
    blob = bytearray(target.read_bytes())
    blob[4:8] = b"\x01\x02\x03\x04"  # the gzip header's timestamp: other bytes, same length
    target.write_bytes(bytes(blob))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # `touch -r`: the mtime put back
    changed = ingest([src], ds, ONE)
    assert changed.files_changed == 1 and changed.exit_code == EXIT_CHANGED_FILES


def test_rehash_finds_nothing_new_on_untouched_files(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=2, per_file=3)
    ds = tmp_path / "ds"
    ingest([src], ds, ONE)
    again = ingest([src], ds, IngestOptions(workers=1, rehash=True))
    assert again.exit_code == EXIT_OK and again.files_unchanged == 2 and again.rows_written == 0


def test_a_pipe_is_identified_by_its_content(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    fifo = tmp_path / "pipe"
    results = []
    for event_id in ("from-pipe-1", "from-pipe-2"):
        os.mkfifo(fifo)
        payload = json.dumps({"Records": [record("ListUsers", event_id=event_id)]}).encode()

        def feed(data: bytes = payload) -> None:
            with open(fifo, "wb") as fh:
                fh.write(data)

        writer = threading.Thread(target=feed)
        writer.start()
        results.append(ingest([fifo], ds, ONE))
        writer.join()
        fifo.unlink()
    assert [r.exit_code for r in results] == [EXIT_OK, EXIT_OK]  # the second is new input, not "changed"
    assert count(ds) == 2


def test_unlistable_folder_is_reported_as_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trailforensics import discovery

    src = tmp_path / "dump"
    simple_tree(src, files=2, per_file=2)
    hidden = src / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1"
    real_open = discovery._open_dir

    def refuse(path: str) -> int:
        if Path(path) == hidden:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(discovery, "_open_dir", refuse)
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.exit_code & EXIT_FAILED_FILES
    assert any("cannot list directory" in why and "us-east-1" in name for name, why in summary.failures)


def test_skipped_files_are_counted_by_reason(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=1, per_file=2)
    (src / ".DS_Store").write_bytes(b"\0\0")
    cfg = src / "AWSLogs/111122223333/Config/eu-west-1/2026/03/10/ConfigSnapshot/x.json.gz"
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(gzip.compress(b"{}"))
    (src / "notification.json").write_text(
        json.dumps({"s3Bucket": "b", "s3ObjectKey": ["AWSLogs/1/CloudTrail/x.json.gz"]})
    )
    (src / "s3-notification.json").write_text(
        json.dumps({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]})
    )
    (src / "access-log-2026-03-10-00-00-00-ABCDEF").write_text("79a5 bucket [10/Mar/2026:00:00:00 +0000] ...")
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.exit_code == EXIT_OK and summary.files_skipped == 5 and summary.reconciles
    reasons = " | ".join(summary.skipped_by_reason)
    for fragment in (
        "hidden",
        "AWSLogs/Config",
        "delivery notification",
        "S3/SQS/SNS event notification",
        "not a JSON document",
    ):
        assert fragment in reasons


def test_insight_files(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    insight = {
        "eventVersion": "1.08",
        "eventTime": "2026-03-10T02:20:00Z",
        "awsRegion": "eu-west-1",
        "eventID": "ins-1",
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": "111122223333",
        "sharedEventID": "s-1",
        "insightDetails": {
            "state": "Start",
            "eventSource": "iam.amazonaws.com",
            "eventName": "ListUsers",
            "insightType": "ApiErrorRateInsight",
        },
        "eventCategory": "Insight",
    }
    key = (
        "AWSLogs/111122223333/CloudTrail-Insight/eu-west-1/2026/03/10/"
        "111122223333_CloudTrail-Insight_eu-west-1_20260310T0230Z_abcdefghijklmnop.json.gz"
    )
    write_log(src, [insight], key=key)
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 1
    with Dataset(tmp_path / "ds") as ds:
        row = ds.sql("SELECT event_category, source_format, insight_details FROM events").to_pylist()[0]
    assert row["event_category"] == "Insight" and row["source_format"] == "cloudtrail-insight"
    assert json.loads(row["insight_details"])["insightType"] == "ApiErrorRateInsight"


def test_compact_keeps_rows_and_merges_files(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    ds = tmp_path / "ds"
    total = 0
    for i in range(4):
        recs = [record("GetObject", datetime(2026, 3, 10, 1, i, tzinfo=UTC) + timedelta(seconds=j)) for j in range(50)]
        write_log(src, recs, delivered=datetime(2026, 3, 10, 1, 5 + 5 * i, tzinfo=UTC))
        total += len(ingest([src], ds, ONE).failures) + 50
    from trailforensics.store.compact import compact

    before = count(ds, "SELECT count(*) FROM events")
    report = compact(ds)
    assert any("4 files -> 1" in line for line in report)
    assert count(ds) == before == total
    files = list((ds / "events").rglob("*.parquet"))
    assert len(files) == 1
    times = pq.read_table(files[0], columns=["event_time"]).column(0).to_pylist()
    assert times == sorted(times)
    assert ingest([src], ds, ONE).files_unchanged == 4  # the manifest survived compaction


@pytest.mark.parametrize("workers", [2])
def test_parallel_matches_serial(tmp_path: Path, workers: int) -> None:
    src = tmp_path / "dump"
    simple_tree(src, files=12, per_file=30, seed=3)
    a = ingest([src], tmp_path / "a", ONE)
    b = ingest([src], tmp_path / "b", IngestOptions(workers=workers))
    assert a.rows_written == b.rows_written == 360
    q = "SELECT event_id, event_time, actor FROM events ORDER BY event_id"
    with Dataset(tmp_path / "a") as da, Dataset(tmp_path / "b") as db:
        assert da.sql(q).to_pylist() == db.sql(q).to_pylist()


def test_cli_ingest_reports_and_escapes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trailforensics.cli import _register_commands, app

    _register_commands()
    src = tmp_path / "dump"
    simple_tree(src, files=2, per_file=3)
    (src / "evil\x1b[2Jname.json").write_bytes(b'{"Records": [')
    runner = CliRunner()
    r = runner.invoke(app, ["ingest", str(src), "-d", str(tmp_path / "ds"), "-j", "1"])
    assert r.exit_code == EXIT_FAILED_FILES
    assert "\x1b" not in r.output and "evil\\x1b[2Jname.json" in r.output
    assert "records: 6 read = 6 rows written + 0 duplicates dropped + 0 rejected" in r.output
    r = runner.invoke(app, ["ingest", str(src), "-d", str(tmp_path / "ds"), "--json"])
    doc = json.loads(r.stdout)
    assert doc["files"]["unchanged"] == 3 and doc["records"]["reconciles"] and r.exit_code == EXIT_FAILED_FILES
    assert doc["failed_earlier"][0]["reason"].startswith("invalid JSON")
    r = runner.invoke(app, ["ingest", str(src)])
    assert r.exit_code == 1 and "-d" in r.output
