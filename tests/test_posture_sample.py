"""Posture on the repository's sample (the Metrolio incident): facts from sample_logs/README.md."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_LOGS, sample_facts

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.posture import TrailReport, coverage, policy, trace, trails
from trailforensics.posture.common import parse_any_time

PROD = "483920175562"
S3_TRAIL = f"arn:aws:cloudtrail:eu-west-1:{PROD}:trail/metrolio-s3-trail"
AUDIT_TRAIL = f"arn:aws:cloudtrail:eu-west-1:{PROD}:trail/metrolio-audit-trail"


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    return sample_facts()


@pytest.fixture(scope="module")
def ds(facts: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    path: Path = tmp_path_factory.mktemp("sample") / "ds"
    ingest([SAMPLE_LOGS], path, IngestOptions(workers=1))
    return Dataset(path)


@pytest.fixture(scope="module")
def report(ds: Dataset) -> TrailReport:
    return trails(ds)


def t(text: str) -> Any:
    return parse_any_time(text)


def test_s3_trail_exactly_as_set_up(report: TrailReport, facts: dict[str, Any]) -> None:
    setup = facts["s3_trail_setup"]
    rows = {r["field"]: r for r in report.state.to_pylist() if r["trail"] == S3_TRAIL}
    value = {k: r["value"] for k, r in rows.items()}
    assert value["s3_bucket"] == facts["trails"]["metrolio-s3-trail"]["bucket"]
    assert value["kms_key"] == setup["kms_key_arn"] and value["kms_key_aliases"] == setup["kms_alias"]
    assert value["log_file_validation"] == "true"
    assert value["multi_region"] == "false" and value["global_service_events"] == "false"
    assert value["management_events"] == "none"
    assert value["data_events"] == "AWS::S3::Object write-only (s3-write-selector)"
    assert value["advanced_event_selectors"].startswith("s3-write-selector: eventCategory=Data")
    assert value["logging"] == "on" and value["deleted"] == "false"
    assert rows["logging"]["since"] == t(setup["StartLogging"])
    assert rows["s3_bucket"]["since"] == t(setup["CreateTrail"])
    assert rows["data_events"]["since"] == t(setup["PutEventSelectors"])
    assert rows["bucket_policy"]["since"] == t(setup["PutBucketPolicy"])
    assert {rows[f]["actor"] for f in ("s3_bucket", "data_events", "logging")} == {setup["actor_arn"]}


def test_audit_trail_stop_logging(report: TrailReport, facts: dict[str, Any]) -> None:
    stops = [s for s in report.stops.to_pylist() if s["trail"] == AUDIT_TRAIL]
    assert len(stops) == 1
    stop, gap = stops[0], facts["audit_gap"]
    assert stop["stopped_at"] == t(gap["from"]) and stop["started_at"] == t(gap["to"])
    assert stop["duration_seconds"] == (t(gap["to"]) - t(gap["from"])).total_seconds()
    assert stop["duration"] == "50m 46s" and stop["status"] == "restarted"
    assert stop["stopped_by"] == facts["backdoor"]["user_arn"]
    assert stop["stop_event_id"] == facts["stop_logging"]["eventID"]
    assert stop["start_event_id"] == facts["start_logging"]["eventID"]
    finding = next(f for f in report.findings.to_pylist() if f["event_id"] == facts["stop_logging"]["eventID"])
    assert finding["finding"] == "logging-stopped" and "50m 46s" in finding["detail"]


def test_deliveries_name_the_trails(report: TrailReport, facts: dict[str, Any]) -> None:
    rows = {r["location"]: r for r in report.deliveries.to_pylist()}
    org = rows[facts["trails"]["metrolio-org-trail"]["bucket"]]
    assert org["org_id"] == facts["organization"]["org_id"] and org["digest_files"] == 0
    audit = rows[facts["trails"]["metrolio-audit-trail"]["bucket"]]
    assert audit["digest_trails"] == ["metrolio-audit-trail (home eu-west-1)"]
    assert audit["digest_files"] == facts["trails"]["metrolio-audit-trail"]["digest_files"]


def test_trace_exporter_back_to_the_stolen_key(ds: Dataset, facts: dict[str, Any]) -> None:
    result = trace(ds, "exporter")
    hops = result.chain.to_pylist()
    sync, exporter = facts["role_chain"]
    assert [h["access_key"] for h in hops[:4]] == [
        exporter["access_key_id"],
        sync["access_key_id"],
        facts["backdoor"]["access_key_id"],
        facts["compromised_key"]["access_key_id"],
    ]
    assert [h["link_event"] for h in hops[:3]] == ["AssumeRole", "AssumeRole", "CreateAccessKey"]
    assert [h["link_event_id"] for h in hops[:2]] == [exporter["eventID"], sync["eventID"]]
    assert [h["link"] for h in hops[:3]] == ["exact", "exact", "exact"]
    assert hops[0]["issued_at"] == t(exporter["assumed_at"]) and hops[1]["issued_at"] == t(sync["assumed_at"])
    assert hops[2]["principal"] == facts["backdoor"]["user_arn"]
    assert "user created by " + facts["compromised_key"]["user_arn"] in hops[2]["notes"]
    assert hops[-1]["principal"] == facts["compromised_key"]["user_arn"] and hops[-1]["origin_type"] == "IAMUser"
    ex = facts["exfiltration"]
    assert hops[0]["events"] == ex["get_object_count"] + 2  # and the two ListObjects
    assert hops[0]["ips"] == [ex["source_ip"]] and hops[0]["last_seen"] == t(ex["last"])
    tree = {r["access_key"]: r for r in result.tree.to_pylist() if r["access_key"]}
    assert tree[exporter["access_key_id"]]["depth"] == 4


def test_coverage_flags_the_new_regions_and_the_audit_gap(
    ds: Dataset, report: TrailReport, facts: dict[str, Any]
) -> None:
    flags = coverage(ds, trail_report=report).flags.to_pylist()
    regions = {f["region"]: f for f in flags if f["kind"] == "region"}
    assert facts["mining"]["region"] in regions
    assert set(regions) == {"sa-east-1", "us-west-2", "ap-southeast-1"}
    mining = regions["sa-east-1"]
    assert "metrolio-audit-trail stopped" in mining["stopped_logging"]  # only the org trail saw it
    gap = facts["audit_gap"]
    missing = [f for f in flags if f["kind"] == "missing-copies" and f["region"] == "eu-west-1"]
    assert [f["source"] for f in missing] == [facts["trails"]["metrolio-audit-trail"]["bucket"]]
    assert t(gap["from"]) - timedelta(minutes=2) <= missing[0]["start"] <= t(gap["from"])
    assert missing[0]["end"] <= t(gap["to"]) and "metrolio-audit-trail stopped" in missing[0]["stopped_logging"]


def test_policy_of_the_exporter_session(ds: Dataset, report: TrailReport, facts: dict[str, Any]) -> None:
    arn = f"arn:aws:sts::{PROD}:assumed-role/metrolio-data-admin/exporter"
    result = policy(ds, arn, trail_report=report)
    bucket = facts["exfiltration"]["bucket"]
    by_action = {st["Action"]: st["Resource"] for st in result.document["Statement"]}
    assert by_action["s3:GetObject"] == f"arn:aws:s3:::{bucket}/*"  # 310 objects: widened
    assert by_action["s3:ListBucket"] == f"arn:aws:s3:::{bucket}"
    rec = {r["events"]: r for r in result.recording.to_pylist()}
    reads = rec["AWS::S3::Object data events (read)"]
    assert reads["status"] == "not recorded" and "yet some were seen" in reads["detail"]
    backdoor = policy(ds, facts["backdoor"]["user_arn"], trail_report=report)
    actions = {a["action"]: a["resources"] for a in backdoor.actions.to_pylist()}
    assert actions["cloudtrail:StopLogging"] == [AUDIT_TRAIL] and actions["cloudtrail:DescribeTrails"] == ["*"]
    assert actions["sts:AssumeRole"] == [facts["role_chain"][0]["role_arn"]]
    assert actions["s3:DeleteObject"] == [
        f"arn:aws:s3:::{facts['trails']['metrolio-audit-trail']['bucket']}/{facts['stop_logging']['deleted_log_key']}"
    ]
