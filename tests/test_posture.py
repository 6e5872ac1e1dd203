"""Posture: trails reconstruction, credential tracing, least-privilege policies, region coverage."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import posture_fixtures as pf
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from trailforensics.cli import _register_commands, app
from trailforensics.engine import Dataset
from trailforensics.output.formats import FORMATS
from trailforensics.posture import SessionGraph, coverage, heatmap_lines, map_event, policy, trace, trails
from trailforensics.posture.graph import UNKNOWN_ORIGIN
from trailforensics.posture.least_privilege import PolicyError, _collapse
from trailforensics.posture.trace import TraceError
from trailforensics.posture.trails import TrailReport


@pytest.fixture(scope="module")
def ds_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pf.build_dataset(tmp_path_factory.mktemp("posture"))


@pytest.fixture(scope="module")
def ds(ds_path: Path) -> Dataset:
    return Dataset(ds_path)


@pytest.fixture(scope="module")
def report(ds: Dataset) -> TrailReport:
    return trails(ds)


@pytest.fixture(scope="module")
def graph(ds: Dataset) -> SessionGraph:
    return SessionGraph.build(ds)


def state(report: TrailReport, arn: str) -> dict[str, str]:
    return {r["field"]: r["value"] for r in report.state.to_pylist() if r["trail"] == arn}


def changes(report: TrailReport, trail_name: str) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in report.changes.to_pylist() if r["trail_name"] == trail_name]


# -- trails ---------------------------------------------------------------------------------------
def test_trail_created_then_weakened(report: TrailReport) -> None:
    s = state(report, pf.TRAIL_ARN)
    assert s["s3_bucket"] == pf.BUCKET and s["s3_key_prefix"] == "ct"
    assert s["kms_key"] == pf.KEY_ARN  # the response's key ARN, not the request's alias
    assert s["multi_region"] == "true" and s["global_service_events"] == "true"
    assert s["log_file_validation"] == "false"  # UpdateTrail by mallory
    assert s["management_events"] == "none" and s["data_events"] == "none"
    assert s["advanced_event_selectors"] == "none" and s["event_selectors"] == "All no management"
    assert s["insight_selectors"] == "ApiCallRateInsight" and s["tags"] == "owner=secops"
    assert s["logging"] == "on" and s["deleted"] == "false"
    assert s["bucket_versioning"] == "Suspended"
    assert s["bucket_policy"].startswith("public: Principal * without conditions (Open)")
    assert "999988887777" in s["bucket_policy"]
    assert s["bucket_lifecycle"] == "expire-logs: expires objects after 1 days"
    assert s["kms_key_state"] == "PendingDeletion (deletion 2026-03-17T01:15:00Z)"  # ISO 8601, like every time
    assert s["bucket_acl"] == "unknown"  # never shown: not guessed
    rows = [r for r in report.state.to_pylist() if r["trail"] == pf.TRAIL_ARN and r["field"] == "log_file_validation"]
    assert rows[0]["event_name"] == "UpdateTrail" and rows[0]["actor"].endswith("user/mallory")


def test_state_as_of_a_time_shows_the_setup(ds: Dataset) -> None:
    before = trails(ds, until=pf.DAY2)
    s = state(before, pf.TRAIL_ARN)
    assert s["log_file_validation"] == "true" and s["management_events"] == "all"
    assert s["data_events"] == "AWS::S3::Object write-only (s3-writes)"
    assert s["advanced_event_selectors"] == (
        "mgmt: eventCategory=Management | s3-writes: eventCategory=Data resources.type=AWS::S3::Object readOnly=false"
    )
    assert s["logging"] == "on" and s["bucket_policy"] == "services: cloudtrail.amazonaws.com"
    assert pf.TEMP_TRAIL_ARN not in before.trails


def test_trails_named_by_name_or_arn_and_unknown_settings(report: TrailReport) -> None:
    assert set(report.trails) == {pf.TRAIL_ARN, pf.OLD_TRAIL_ARN, pf.TEMP_TRAIL_ARN, pf.ORG_TRAIL_ARN}
    org = state(report, pf.ORG_TRAIL_ARN)
    assert org["home_region"] == "us-east-1" and org["logging"] == "on"
    for f in (
        "s3_bucket",
        "log_file_validation",
        "kms_key",
        "management_events",
        "data_events",
        "multi_region",
    ):
        assert org[f] == "unknown", f
    old = state(report, pf.OLD_TRAIL_ARN)  # CreateTrail without a response: the request and API defaults
    assert old["s3_bucket"] == pf.OLD_BUCKET and old["log_file_validation"] == "false"
    assert old["kms_key"].endswith(pf.OLD_ALIAS) and old["kms_key_state"] == "Disabled"
    temp = state(report, pf.TEMP_TRAIL_ARN)
    assert temp["deleted"] == "true" and temp["logging"] == "off"


def test_change_timeline(report: TrailReport) -> None:
    rows = changes(report, pf.TRAIL)
    names = [r["event_name"] for r in rows]
    # the VPC endpoint network-activity copy of an UpdateTrail is not a change
    assert names.count("UpdateTrail") == 2
    # the same second: PutEventSelectors applied before StartLogging
    assert names.index("PutEventSelectors") < names.index("StartLogging")
    failed = next(r for r in rows if r["error_code"])
    assert failed["change"] == "failed (AccessDenied): no change" and failed["source_ip"] == pf.MALLORY_IP
    update = next(r for r in rows if r["event_name"] == "UpdateTrail" and not r["error_code"])
    assert update["change"] == "log_file_validation: true -> false"
    assert update["user_agent"].endswith("kali") and update["access_key"] == "AKIAMALLORYEXAMP0001"
    weakened = next(r for r in rows if r["event_name"] == "PutEventSelectors" and r["actor"].endswith("mallory"))
    assert "management_events: all -> none" in weakened["change"]
    assert "data_events: AWS::S3::Object write-only (s3-writes) -> none" in weakened["change"]
    created = next(r for r in rows if r["event_name"] == "CreateTrail")
    assert created["change"].startswith("created: home_region=eu-west-1, s3_bucket=case-log-bucket")
    kinds = {(r["kind"], r["event_name"]) for r in rows}
    assert {
        ("bucket", "PutBucketPolicy"),
        ("bucket", "PutBucketLifecycle"),
        ("bucket", "PutBucketVersioning"),
        ("key", "ScheduleKeyDeletion"),
    } <= kinds
    # the bucket policy written before the trail existed is part of its timeline
    assert rows[0]["event_name"] == "PutBucketPolicy" and rows[0]["actor"].endswith("user/alice")


def test_findings_with_their_events(report: TrailReport) -> None:
    found = {(r["trail_name"], r["finding"]) for r in report.findings.to_pylist()}
    assert {
        (pf.TRAIL, "validation-off"),
        (pf.TRAIL, "management-excluded"),
        (pf.TRAIL, "data-events-removed"),
        (pf.TRAIL, "logging-stopped"),
        (pf.TRAIL, "bucket-policy-public"),
        (pf.TRAIL, "bucket-policy-cross-account"),
        (pf.TRAIL, "lifecycle-expires-logs"),
        (pf.TRAIL, "versioning-suspended"),
        (pf.TRAIL, "key-deletion-scheduled"),
        (pf.OLD_TRAIL, "key-disabled"),
        (pf.OLD_TRAIL, "logging-stopped"),
        ("temp-trail", "trail-deleted"),
        ("temp-trail", "no-kms"),
        ("temp-trail", "single-region"),
    } <= found
    assert (pf.TRAIL, "single-region") not in found and ("org-trail", "validation-off") not in found
    by_event = {r["event_id"]: r for r in report.changes.to_pylist()}
    for f in report.findings.to_pylist():
        assert f["event_id"] in by_event, f  # every finding points at the event that caused it
        assert by_event[f["event_id"]]["event_name"] == f["event_name"]
    stop = next(
        f for f in report.findings.to_pylist() if f["trail_name"] == pf.TRAIL and f["finding"] == "logging-stopped"
    )
    assert stop["detail"] == "logging stopped for 3h 05m (until StartLogging at 2026-03-10T04:10:00Z)"
    assert stop["actor"].endswith("user/mallory") and stop["severity"] == "high"


def test_stopped_periods(report: TrailReport) -> None:
    stops = {s["trail_name"]: s for s in report.stops.to_pylist()}
    case = stops[pf.TRAIL]
    assert case["stopped_at"] == pf.STOP_AT and case["started_at"] == pf.START_AT
    assert case["duration_seconds"] == (pf.START_AT - pf.STOP_AT).total_seconds() and case["status"] == "restarted"
    old = stops[pf.OLD_TRAIL]
    assert old["started_at"] is None and old["status"] == "still stopped at the end of the data"
    assert old["duration_seconds"] == (report.data_end - pf.OLD_STOP_AT).total_seconds()
    finding = next(
        f for f in report.findings.to_pylist() if f["trail_name"] == pf.OLD_TRAIL and f["finding"] == "logging-stopped"
    )
    assert "still stopped at the end of the data" in finding["detail"]


def test_deliveries_show_what_the_files_say(report: TrailReport) -> None:
    rows = {r["location"]: r for r in report.deliveries.to_pylist()}
    assert set(rows) == {pf.ACCOUNT_BUCKET, pf.ORG_BUCKET}
    org = rows[pf.ORG_BUCKET]
    assert org["org_id"] == pf.ORG_ID and org["digest_files"] == 0 and org["log_files"] > 0
    assert org["evidence"].startswith(f"organisation trail ({pf.ORG_ID}); no digest files")
    assert set(rows[pf.ACCOUNT_BUCKET]["accounts"]) == {pf.ACCT, pf.ACCT_B}


def test_trail_history_answers_questions_about_a_time(report: TrailReport) -> None:
    trail = report.trails[pf.TRAIL_ARN]
    during = trail.selection_at(pf.DAY1 + timedelta(hours=12))
    assert during.mgmt_read and during.mgmt_write
    s3 = during.data_for("AWS::S3::Object")
    assert s3 is not None and s3.write and not s3.read
    assert trail.logging_at(pf.STOP_AT + timedelta(minutes=1)) is False
    assert trail.logging_at(pf.START_AT) is True
    assert trail.values_at(pf.DAY1) is None  # before the logs show the trail


# -- trace ----------------------------------------------------------------------------------------
def chain(result) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return result.chain.to_pylist()


def test_three_hop_role_chain(ds: Dataset, graph: SessionGraph) -> None:
    result = trace(ds, "c-sess", graph=graph)
    hops = chain(result)
    assert [h["principal"] for h in hops] == [
        f"arn:aws:sts::{pf.ACCT}:assumed-role/role-c/c-sess",
        f"arn:aws:sts::{pf.ACCT}:assumed-role/role-b/b-sess",
        f"arn:aws:sts::{pf.ACCT}:assumed-role/role-a/a-sess",
        f"arn:aws:iam::{pf.ACCT}:user/dev1",
        f"arn:aws:iam::{pf.ACCT}:user/dev1",
    ]
    assert [h["access_key"] for h in hops[:4]] == [pf.ASIA_C, pf.ASIA_B, pf.ASIA_A, pf.DEV_KEY]
    assert [h["link"] for h in hops] == ["exact", "exact", "exact", "origin", "origin"]
    assert hops[0]["link_event"] == "AssumeRole" and hops[0]["source_identity"] == "dev1"
    assert hops[0]["events"] == 2 and hops[0]["event_names"] == ["GetObject"] and hops[0]["ips"] == ["198.51.100.99"]
    assert hops[1]["errors"] == 1
    assert hops[-1]["kind"] == "principal" and hops[-1]["origin_type"] == "IAMUser"
    assert result.chain.column("hop").to_pylist() == [0, 1, 2, 3, 4]
    # the same target by key id and by session ARN
    for target in (pf.ASIA_C, f"arn:aws:sts::{pf.ACCT}:assumed-role/role-c/c-sess"):
        assert chain(trace(ds, target, graph=graph))[0]["access_key"] == pf.ASIA_C


def test_forward_tree_from_the_origin(ds: Dataset, graph: SessionGraph) -> None:
    tree = trace(ds, pf.ASIA_C, graph=graph).tree.to_pylist()
    by_key = {r["access_key"]: r for r in tree if r["access_key"]}
    assert tree[0]["depth"] == 0 and tree[0]["principal"] == f"arn:aws:iam::{pf.ACCT}:user/dev1"
    assert by_key[pf.ASIA_C]["depth"] == 4 and by_key[pf.ASIA_C]["parent_id"] == by_key[pf.ASIA_B]["node_id"]
    assert by_key[pf.ASIA_X]["parent_id"] == by_key[pf.ASIA_B]["node_id"]
    assert by_key[pf.BD_KEY]["parent_id"] == by_key[pf.DEV_KEY]["node_id"]
    assert by_key[pf.ASIA_SYNC]["depth"] == 3
    assert {pf.ASIA_GST, pf.ASIA_FED} <= set(by_key) and pf.OPS_KEY not in by_key
    assert by_key[pf.ASIA_C]["label"].startswith("        " + pf.ASIA_C)
    from_target = trace(ds, pf.ASIA_B, graph=graph, tree_from="target").tree.to_pylist()
    assert [r["access_key"] for r in from_target] == [pf.ASIA_B, pf.ASIA_C, pf.ASIA_X]


def test_cross_account_hop_joins_both_copies(ds: Dataset, graph: SessionGraph) -> None:
    hops = chain(trace(ds, pf.ASIA_X, graph=graph))
    assert hops[0]["account"] == pf.ACCT_B and hops[0]["link"] == "exact"
    assert (
        f"cross-account {pf.ACCT} -> {pf.ACCT_B}, sharedEventID {pf.SHARED_ID} (both copies)" in hops[0]["link_reason"]
    )
    assert "cross-copy-b" in hops[0]["notes"]
    assert hops[1]["access_key"] == pf.ASIA_B  # the caller's copy names the parent session


def test_saml_and_identity_center(ds: Dataset, graph: SessionGraph) -> None:
    saml = chain(trace(ds, pf.ASIA_SAML, graph=graph))
    assert saml[0]["link_event"] == "AssumeRoleWithSAML" and saml[0]["link"] == "exact"
    assert pf.SAML_PROVIDER in saml[0]["link_reason"]
    assert saml[-1]["principal"] == "saml:CorpIdPqualifier/carol@example.com"
    assert saml[-1]["origin_type"] == "SAMLUser" and saml[-1]["events"] == 1  # the AssumeRoleWithSAML itself
    frank = chain(trace(ds, "frank", graph=graph))
    assert frank[0]["link"] == "exact" and frank[-1]["principal"] == "identitycenter:frank"
    assert frank[-1]["origin_type"] == "IdentityCenterUser"
    erin = chain(trace(ds, "erin", graph=graph))
    assert erin[0]["link"] == "inferred" and "AWSReservedSSO_" in erin[0]["link_reason"]
    assert erin[-1]["principal"] == "identitycenter:erin"


def test_recycled_access_key_links_each_use_to_its_issue(ds: Dataset, graph: SessionGraph) -> None:
    result = trace(ds, pf.ASIA_RE, graph=graph)
    assert len(result.targets) == 2
    rows = chain(result)
    first = [r for r in rows if r["target"] == result.targets[0].id]
    second = [r for r in rows if r["target"] == result.targets[1].id]
    assert first[0]["session_name"] == "first" and first[-1]["principal"].endswith("user/dev1")
    assert second[0]["session_name"] == "second" and second[-1]["principal"].endswith("user/ops1")
    assert first[0]["issued_at"] == pf.DAY2 + timedelta(hours=4)
    assert second[0]["issued_at"] == pf.DAY2 + timedelta(hours=8)
    # the use without a creationDate belongs to the second issue (time window), in one session
    assert second[0]["events"] == 2 and set(second[0]["event_names"]) == {"ListBuckets", "ListTopics"}
    assert first[0]["link"] == second[0]["link"] == "exact"


def test_session_token_federation_console_and_provenance(ds: Dataset, graph: SessionGraph) -> None:
    gst = chain(trace(ds, pf.ASIA_GST, graph=graph))
    assert (
        gst[0]["link_event"] == "GetSessionToken" and gst[0]["link"] == "exact" and gst[1]["access_key"] == pf.DEV_KEY
    )
    fed = chain(trace(ds, "fed-report", graph=graph))
    assert fed[0]["link_event"] == "GetFederationToken" and fed[0]["principal"].endswith("federated-user/fed-report")
    assert fed[1]["access_key"] == pf.DEV_KEY
    con = chain(trace(ds, pf.ASIA_CON, graph=graph))
    assert con[0]["kind"] == "console-session" and con[0]["link"] == "inferred"
    assert con[0]["link_event"] == "ConsoleLogin" and "MFAUsed=Yes" in con[0]["link_reason"]
    assert con[1]["principal"] == f"arn:aws:iam::{pf.ACCT}:user/gina" and con[1]["events"] == 1
    sync = chain(trace(ds, "sync", graph=graph))
    assert [h["link_event"] for h in sync[:2]] == ["AssumeRole", "CreateAccessKey"]
    assert sync[1]["principal"].endswith("user/svc-bd") and "user created by" in sync[1]["notes"]
    assert sync[2]["access_key"] == pf.DEV_KEY and sync[-1]["origin_type"] == "IAMUser"
    user = chain(trace(ds, f"arn:aws:iam::{pf.ACCT}:user/svc-bd", graph=graph))
    assert user[0]["access_key"] == pf.BD_KEY and user[1]["access_key"] == pf.DEV_KEY


def test_console_switch_role(ds: Dataset, graph: SessionGraph) -> None:
    hops = chain(trace(ds, pf.ASIA_SWITCH, graph=graph))
    assert hops[0]["link"] == "inferred" and hops[0]["link_event"] == "SwitchRole"
    assert "SwitchRole from arn:aws:iam::111122223333:user/henry" in hops[0]["link_reason"]
    assert hops[1]["access_key"] == pf.ASIA_HENRY and hops[1]["link_event"] == "ConsoleLogin"
    assert hops[2]["principal"] == f"arn:aws:iam::{pf.ACCT}:user/henry" and hops[2]["origin_type"] == "IAMUser"


def test_cross_account_with_one_copy(ds: Dataset, graph: SessionGraph) -> None:
    hops = chain(trace(ds, "partner-sync", graph=graph))
    assert hops[0]["link"] == "exact" and "(one copy)" in hops[0]["link_reason"]
    assert f"cross-account {pf.PARTNER_ACCT} -> {pf.ACCT}" in hops[0]["link_reason"]
    assert hops[1]["kind"] == "unknown" and hops[1]["principal"] == f"account:{pf.PARTNER_ACCT} AIDAPARTNEREXAMPLE"
    assert "not in the data" in hops[1]["notes"]


def test_missing_issuing_call_is_unknown(ds: Dataset, graph: SessionGraph) -> None:
    ghost = chain(trace(ds, "ghost", graph=graph))
    assert ghost[0]["link"] == "unknown" and ghost[-1]["principal"].startswith(UNKNOWN_ORIGIN)
    with pytest.raises(TraceError):
        trace(ds, "no-such-session", graph=graph)


# -- policy ---------------------------------------------------------------------------------------
def test_event_names_to_iam_actions() -> None:
    assert map_event("s3.amazonaws.com", "ListBuckets").actions == ("s3:ListAllMyBuckets",)
    assert map_event("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2").actions == (
        "lambda:UpdateFunctionConfiguration",
    )
    assert map_event("cloudfront.amazonaws.com", "GetDistribution2020_05_31").actions == ("cloudfront:GetDistribution",)
    assert map_event("monitoring.amazonaws.com", "PutMetricData").actions == ("cloudwatch:PutMetricData",)
    assert map_event("lambda.amazonaws.com", "Invoke").actions == ("lambda:InvokeFunction",)
    assert map_event("signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn").how == "no-action"
    assert map_event("sts.amazonaws.com", "GetCallerIdentity").how == "no-action"
    assert map_event("ec2.amazonaws.com", "SharedSnapshotCopyInitiated", "AwsServiceEvent").how == "not-an-api-call"
    assert map_event("example.com", "Thing").how == "unmapped"
    assert map_event("iam.amazonaws.com", "CreateUser").actions == ("iam:CreateUser",)


def test_policy_from_observed_actions(ds: Dataset, report: TrailReport) -> None:
    result = policy(ds, pf.APP_ARN, trail_report=report)
    doc = result.document
    assert doc["Version"] == "2012-10-17"
    by_action = {}
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        for a in st["Action"] if isinstance(st["Action"], list) else [st["Action"]]:
            by_action[a] = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
    b = pf.APP_BUCKET
    assert by_action["s3:ListAllMyBuckets"] == ["*"]
    assert by_action["s3:GetObject"] == [f"arn:aws:s3:::{b}/in/{i}.csv" for i in range(3)]
    assert by_action["s3:PutObject"] == [f"arn:aws:s3:::{b}/in/report.csv"]
    assert by_action["lambda:UpdateFunctionConfiguration"] == [
        f"arn:aws:lambda:{pf.REGION}:{pf.ACCT}:function:fn-report"
    ]
    assert by_action["lambda:CreateFunction"] == [f"arn:aws:lambda:{pf.REGION}:{pf.ACCT}:function:fn-new"]
    assert by_action["iam:PassRole"] == [f"arn:aws:iam::{pf.ACCT}:role/lambda-exec"]
    assert by_action["dynamodb:GetItem"] == [f"arn:aws:dynamodb:{pf.REGION}:{pf.ACCT}:table/orders"]
    assert by_action["cloudwatch:PutMetricData"] == ["*"] and by_action["ec2:DescribeInstances"] == ["*"]
    assert "iam:DeleteUser" not in by_action  # failed calls grant nothing
    assert "sts:GetCallerIdentity" not in by_action
    unmapped = {(u["event_name"], u["category"]) for u in result.unmapped.to_pylist()}
    assert unmapped == {
        ("DoThing", "unmapped"),
        ("ConsoleLogin", "no IAM action"),
        ("GetCallerIdentity", "no IAM action"),
    }
    rec = {r["events"]: r["status"] for r in result.recording.to_pylist()}
    assert rec["read management events"] == "recorded"
    assert rec["AWS::S3::Object data events (write)"] == "recorded"
    assert rec["AWS::S3::Object data events (read)"] == "not recorded"
    assert any("AWS::S3::Object data (read) not recorded" in w for w in result.warnings)
    actions = {r["action"]: r for r in result.actions.to_pylist()}
    assert actions["lambda:UpdateFunctionConfiguration"]["mapping"] == "default"
    assert actions["lambda:UpdateFunctionConfiguration"]["event_names"] == ["UpdateFunctionConfiguration20150331v2"]
    assert actions["s3:ListAllMyBuckets"]["mapping"] == "exception"
    assert actions["iam:PassRole"]["mapping"] == "inferred"
    json.dumps(doc)


def test_policy_warns_when_recording_is_unknown(ds: Dataset, report: TrailReport) -> None:
    result = policy(
        ds,
        f"arn:aws:iam::{pf.ACCT}:user/dev1",
        since=pf.DAY2 + timedelta(hours=4, minutes=45),
        trail_report=report,
    )
    rec = {r["events"]: r["status"] for r in result.recording.to_pylist()}
    # case-trail logs no management events by then; org-trail's selectors were never shown
    assert rec["read management events"] == "unknown"
    assert any("read management unknown" in w for w in result.warnings)
    session = policy(ds, f"arn:aws:sts::{pf.ACCT}:assumed-role/role-c/c-sess", trail_report=report)
    assert any("one role session" in w for w in session.warnings)
    role = policy(ds, pf.ROLE_C, trail_report=report)
    assert role.actions.column("action").to_pylist() == ["s3:GetObject"]
    with pytest.raises(PolicyError):
        policy(ds, "arn:aws:iam::000000000000:user/nobody", trail_report=report)


def test_policy_widens_many_resources() -> None:
    objects = {f"arn:aws:s3:::b/k{i}" for i in range(11)}
    assert _collapse(objects)[0] == ["arn:aws:s3:::b/*"]
    assert _collapse({"*", "arn:aws:s3:::b"})[0] == ["*"]
    assert _collapse({f"arn:aws:iam::1:user/u{i}" for i in range(25)})[0] == ["*"]


# -- coverage -------------------------------------------------------------------------------------
def test_coverage_counts_and_flags(ds: Dataset, report: TrailReport) -> None:
    result = coverage(ds, by="hour", trail_report=report)
    total = ds.sql("SELECT count(*) AS n FROM events").column("n")[0].as_py()
    assert sum(result.counts.column("events").to_pylist()) == total
    assert result.counts.column_names == ["account", "region", "bucket_start", "events"]
    flags = result.flags.to_pylist()
    gaps = {(f["source"], f["start"]): f for f in flags if f["kind"] == "gap"}
    # the account trail's own silence while it was stopped (the organisation trail kept delivering)
    stopped = gaps[(pf.ACCOUNT_BUCKET, pf.DAY2 + timedelta(hours=1, minutes=45))]
    assert stopped["account"] == pf.ACCT and stopped["region"] == pf.REGION
    assert stopped["end"] == pf.DAY2 + timedelta(hours=4, minutes=1)
    assert stopped["stopped_logging"].startswith(f"{pf.TRAIL} stopped 2026-03-10T01:05:00Z until 2026-03-10T04:10:00Z")
    # nothing logged at all for two hours: both locations are silent, and no StopLogging explains it
    for source in (pf.ACCOUNT_BUCKET, pf.ORG_BUCKET):
        other = gaps[(source, pf.DAY2 + timedelta(hours=12, minutes=45))]
        assert other["stopped_logging"] is None and other["detail"].startswith("no event for 2h 16m")
    assert len(gaps) == 3
    missing = [f for f in flags if f["kind"] == "missing-copies"]
    assert len(missing) == 1 and missing[0]["source"] == pf.ACCOUNT_BUCKET
    assert missing[0]["events"] == 24 and missing[0]["start"] == pf.GAP_HOURS_STOPPED[0] + timedelta(minutes=1)
    assert missing[0]["stopped_logging"].startswith(f"{pf.TRAIL} stopped")
    regions = {f["region"]: f for f in flags if f["kind"] == "region"}
    assert set(regions) == {pf.RARE_REGION}  # us-east-1 holds only global-service events: never flagged
    rare = regions[pf.RARE_REGION]
    assert rare["start"] == pf.RARE_T and rare["events"] == 3 and rare["first_event"] == "RunInstances"
    assert "rare: 3 events" in rare["detail"] and "new: first event ever seen in this region" in rare["detail"]
    assert rare["first_actor"].endswith("user/svc-bd")


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (pf.DAY2, pf.DAY2 + timedelta(hours=6)),  # the stopped trail's gap and missing copies
        (pf.DAY2 + timedelta(hours=13, minutes=30), pf.DAY2 + timedelta(hours=14)),  # inside the silence
        (pf.RARE_T, None),  # the rare region's only events
    ],
)
def test_coverage_window_changes_what_is_shown_not_the_flags(
    ds: Dataset, report: TrailReport, since: datetime, until: datetime | None
) -> None:
    full = coverage(ds, by="hour", trail_report=report)
    shown = coverage(ds, by="hour", since=since, until=until, trail_report=report)
    flags = shown.flags.to_pylist()
    assert flags and flags == [
        f for f in full.flags.to_pylist() if f["end"] >= since and (until is None or f["start"] < until)
    ]
    times = shown.counts.column("bucket_start").to_pylist()  # the counts are the window's
    assert all(since.replace(minute=0) <= t and (until is None or t < until) for t in times)


def test_coverage_by_day_heat_map(ds: Dataset, report: TrailReport) -> None:
    result = coverage(ds, trail_report=report)
    days = sorted({r["bucket_start"] for r in result.counts.to_pylist()})
    assert days == [pf.DAY1, pf.DAY2]
    lines = heatmap_lines(result)
    assert any(line.startswith(f"{pf.ACCT} {pf.RARE_REGION}  ·") for line in lines)
    assert lines[-1].startswith("scale:")
    hourly = heatmap_lines(coverage(ds, by="hour", trail_report=report))
    row = next(line for line in hourly if line.startswith(f"{pf.ACCT} {pf.REGION} 2026-03-10"))
    cells = row.split()[3]
    assert cells[13:15] == "··" and "·" not in cells[:13] + cells[15:]
    # even with a high threshold, us-east-1 (global-service events only) is never flagged
    assert {
        f["region"]
        for f in coverage(ds, rare_share=0.5, trail_report=report).flags.to_pylist()
        if f["kind"] == "region"
    } == {pf.RARE_REGION}


# -- CLI ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runner() -> CliRunner:
    import trailforensics.cli.posture_cmd  # noqa: F401  (registers the commands; see COMMAND_MODULES)

    _register_commands()
    return CliRunner()


COMMANDS = {
    "trails": ["trails"],
    "trace": ["trace", "c-sess"],
    "policy": ["policy", "--actor", pf.APP_ARN],
    "coverage": ["coverage", "--by", "hour"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_every_format(command: str, runner: CliRunner, ds_path: Path, tmp_path: Path) -> None:
    args = [*COMMANDS[command], "-d", str(ds_path)]
    for fmt in FORMATS:
        out = tmp_path / f"{command}.{fmt}"
        res = runner.invoke(app, [*args, "-f", fmt, "-o", str(out)])
        assert res.exit_code == 0, (fmt, res.output)
        assert out.stat().st_size > 0, fmt
        if fmt == "parquet":
            assert pq.read_table(out).num_rows > 0
        elif fmt == "json":
            json.loads(out.read_text())
        elif fmt == "csv":
            assert next(csv.reader(io.StringIO(out.read_text())))


def test_cli_table_output(runner: CliRunner, ds_path: Path) -> None:
    res = runner.invoke(app, ["trails", "-d", str(ds_path)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.index(f"trail {pf.TRAIL_ARN}") < out.index("findings") < out.index("changes")
    assert "log_file_validation: true -> false" in out
    res = runner.invoke(app, ["trace", pf.ASIA_C, "-d", str(ds_path)])
    assert res.exit_code == 0 and "tree of derived sessions" in res.output
    assert f"        {pf.ASIA_C} c-sess via AssumeRole [exact]" in res.output
    res = runner.invoke(app, ["coverage", "-d", str(ds_path)])
    assert res.exit_code == 0 and pf.RARE_REGION in res.output and "scale:" in res.output
    res = runner.invoke(app, ["policy", "--actor", pf.APP_ARN, "-d", str(ds_path)])
    assert res.exit_code == 0 and '"s3:ListAllMyBuckets"' in res.output and "warning:" in res.output


def test_cli_json_and_views(runner: CliRunner, ds_path: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["trails", "-d", str(ds_path), "-f", "json"])
    assert set(json.loads(res.output)) == {
        "trailforensics_version",
        "state",
        "findings",
        "changes",
        "stops",
        "deliveries",
    }
    res = runner.invoke(app, ["trails", "-d", str(ds_path), "-f", "jsonl", "--view", "findings"])
    assert all("finding" in json.loads(line) for line in res.output.splitlines())
    out = tmp_path / "policy.json"
    res = runner.invoke(
        app,
        [
            "policy",
            "--actor",
            pf.APP_ARN,
            "-d",
            str(ds_path),
            "-f",
            "json",
            "--view",
            "policy",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0 and json.loads(out.read_text())["Version"] == "2012-10-17"
    res = runner.invoke(app, ["trace", "c-sess", "-d", str(ds_path), "-f", "csv", "--view", "tree"])
    assert res.output.startswith("root,depth,parent_id,label")
    res = runner.invoke(app, ["coverage", "-d", str(ds_path), "-f", "csv"])
    assert res.output.startswith("account,region,bucket_start,events")
    res = runner.invoke(app, ["coverage", "-d", str(ds_path), "-f", "json"])
    assert set(json.loads(res.output)) == {"trailforensics_version", "by", "counts", "flags"}
    for bad in (
        ["trace", "nobody-at-all"],
        ["policy", "--actor", "arn:aws:iam::1:user/x"],
        ["coverage", "--by", "week"],
        ["trails", "-f", "xml"],
        ["trails", "--view", "nope", "-f", "csv"],
    ):
        res = runner.invoke(app, [*bad, "-d", str(ds_path)])
        assert res.exit_code == 1, bad
