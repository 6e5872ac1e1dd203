"""Every file of ../shared/realdata: records found and ingested, malformed files and look-alikes reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest

MALFORMED = {  # the README's malformed files (doc blocks with typos, fragments, line numbers; a broken JSON test)
    "aws-cloudtrail-processing-library/src/test/resources/SerializerTestFileBadJsonFormat.json",
    "awsdocs-aws-cloudtrail-user-guide/doc_source/cloudtrail-event-reference/block01.txt",
    "awsdocs-aws-cloudtrail-user-guide/doc_source/cloudtrail-log-file-examples/block06.txt",
    "awsdocs-iam-user-guide/doc_source/cloudtrail-integration/block06.txt",
    "awsdocs-iam-user-guide/doc_source/cloudtrail-integration/block07.txt",
    "awsdocs-iam-user-guide/doc_source/cloudtrail-integration/block08.txt",
    "awsdocs-aws-cloudtrail-user-guide/doc_source/use-the-cloudtrail-processing-library/block01.txt",
    "awsdocs-aws-cloudtrail-user-guide/doc_source/use-the-cloudtrail-processing-library/block02.txt",
    "awsdocs-aws-cloudtrail-user-guide/doc_source/cloudtrail-event-reference-user-identity/block01.txt",
    "awsdocs-aws-cloudtrail-user-guide/doc_source/cloudtrail-event-reference-user-identity/block04.txt",
    "awsdocs-amazon-s3-userguide/doc_source/lifecycle-configure-notification/block01.txt",
    "awsdocs-amazon-s3-userguide/doc_source/notification-content-structure/block02.txt",
}
_ELASTIC_PIPELINE = "elastic-integrations/packages/aws/data_stream/cloudtrail/_dev/test/pipeline"
_DIGEST_DOCS = "awsdocs-aws-cloudtrail-user-guide/doc_source/cloudtrail-log-file-validation-digest-file-structure"
LOOK_ALIKES = {
    "awsdocs-amazon-s3-userguide/doc_source/notification-content-structure/block01.json": "event notification",
    "aws-cloudtrail-processing-library/src/test/resources/SQSMessageBody": "log delivery",
    "aws-cloudtrail-processing-library/src/test/resources/SQSMessageBodyWrongFormat": "log delivery",
    f"{_DIGEST_DOCS}/block01.json": "digest",
    f"{_DIGEST_DOCS}/block02.json": "digest",
    f"{_ELASTIC_PIPELINE}/test-cloudtrail-digest-json.log": "digest",
}


def _is_record(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and sum(
            k in obj
            for k in (
                "eventVersion",
                "eventTime",
                "eventSource",
                "eventName",
                "eventID",
                "userIdentity",
                "awsRegion",
            )
        )
        >= 2
    )


def expected_records(path: Path) -> int | None:
    """Independent count of the CloudTrail records a file holds (None: not parseable as JSON)."""
    if path.suffix == ".gz":
        import gzip

        text = gzip.decompress(path.read_bytes()).decode()
    else:
        text = path.read_text(encoding="utf-8")
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        try:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            return None
    count = 0
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
            count += sum(isinstance(item, dict) for item in doc["Records"])  # every object of Records is a record
            continue
        items = doc if isinstance(doc, list) else doc.get("Events") or [doc]
        for item in items:
            if (
                (isinstance(item, dict) and "CloudTrailEvent" in item)
                or (isinstance(item, dict) and "detail-type" in item and _is_record(item.get("detail")))
                or (_is_record(item) and not str(item.get("eventSource", "")).startswith("aws:"))
            ):
                count += 1
    return count


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from conftest import REALDATA

    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not present")
    ds = tmp_path_factory.mktemp("real") / "ds"
    return ds, ingest([REALDATA], ds, IngestOptions(workers=1))


def reported_unreadable(row: dict[str, Any]) -> bool:
    """Failed as invalid JSON, or read in part: what parsed is kept, the rest rejected and reported."""
    if row["status"] == "failed":
        return "invalid JSON" in row["reason"]
    return row["status"] == "ingested" and "invalid JSON" in (row["reason"] or "") and row["rejected"] >= 1


def test_counts_reconcile(ingested: tuple[Path, Any]) -> None:
    _, summary = ingested
    assert summary.reconciles and summary.committed
    assert summary.exit_code == 2  # the malformed files are reported
    assert summary.partly_read  # a document followed by "... additional entries ...": its record is kept


def test_every_record_is_found(ingested: tuple[Path, Any]) -> None:
    from conftest import REALDATA

    ds, _ = ingested
    with Dataset(ds) as d:
        files = {r["source_file"]: r for r in d.sql("SELECT * FROM files").to_pylist()}
    for rel, row in files.items():
        if rel in LOOK_ALIKES or rel == "README.md":
            continue
        expected = expected_records(REALDATA / rel)
        if expected is None:  # not JSON for Python either: must be reported, never silently dropped
            assert reported_unreadable(row), rel
            continue
        assert rel not in MALFORMED
        assert row["status"] == "ingested", (rel, row["reason"])
        assert row["records"] == expected, rel
        assert row["rows_written"] + row["duplicates"] + row["rejected"] == row["records"]


def test_malformed_and_look_alikes_are_reported(ingested: tuple[Path, Any]) -> None:
    ds, _ = ingested
    with Dataset(ds) as d:
        files = {r["source_file"]: r for r in d.sql("SELECT * FROM files").to_pylist()}
    for rel in MALFORMED:
        assert reported_unreadable(files[rel]), rel
    for rel, fragment in LOOK_ALIKES.items():
        assert files[rel]["status"] == "skipped" and fragment in files[rel]["reason"], rel


def test_quirks_survive(ingested: tuple[Path, Any]) -> None:
    ds, _ = ingested
    with Dataset(ds) as d:

        def one(sql: str) -> Any:
            return d.sql(sql).to_pylist()

        types = {r["t"] for r in one("SELECT DISTINCT user_identity_type AS t FROM events")}
        assert {
            "IAMUser",
            "AssumedRole",
            "Root",
            "AWSService",
            "AWSAccount",
            "IdentityCenterUser",
            "SAMLUser",
        } <= types
        assert (
            one("SELECT count(*) AS n FROM events WHERE source_ip_address = '81.2.69.142, 192.168.10.10'")[0]["n"] == 1
        )
        assert one("SELECT count(*) AS n FROM events WHERE user_identity_arn LIKE 'arn:aws-us-gov:%'")[0]["n"] >= 1
        compact = one(
            "SELECT session_creation_date AS t FROM events WHERE json_extract_string(user_identity, "
            "'$.sessionContext.attributes.creationDate') = '20131102T010628Z'"
        )
        assert compact and compact[0]["t"].isoformat() == "2013-11-02T01:06:28+00:00"
        plaso = one("SELECT source_format, count(*) AS n FROM events WHERE source_file LIKE 'plaso/%' GROUP BY ALL")
        assert plaso == [{"source_format": "lookup-events", "n": 6}]
        bridge = one("SELECT count(*) AS n FROM events WHERE source_format = 'eventbridge'")
        assert bridge[0]["n"] == 2
        misspelled = one("SELECT 1 FROM events WHERE insight_details LIKE '%insffightContext%'")
        assert misspelled
        assert one("SELECT count(*) AS n FROM events WHERE event_type = 'AwsConsoleSignin'")[0]["n"] >= 1
