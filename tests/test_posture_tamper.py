"""Posture against log tampering: trails proven by their delivered files, log files deleted from
their bucket, logs redirected, delivery blocked by a bucket policy, failed attempts, coverage
judged against the whole dataset, and the full activity lists of `trace`.

One hand-written case: ``audit-trail`` (created before the logs begin, so only its digest files
show its settings) delivers to the folder ``audit-logs-bucket``; an organisation trail delivers
everything to ``org-logs-bucket``; ``s3-trail`` delivers eu-west-1 only to
``s3-trail-bucket/logs``.  Mallory stops the audit trail, mines in sa-east-1 while it is stopped,
deletes its log files and then blocks and redirects its delivery.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from ct import iso, record, write_log
from typer.testing import CliRunner

from trailforensics.cli import _register_commands, app
from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.posture import coverage, trace, trails
from trailforensics.posture.credentials import merge_activity, rank_activity
from trailforensics.posture.resource_policies import read_lifecycle, read_policy
from trailforensics.posture.trails import TrailReport

UTC = timezone.utc
ACCT = "111122223333"
ORG_ID = "o-z9y8x7w6v5"
HOME = "eu-west-1"
DAY1 = datetime(2026, 3, 9, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
END = DAY2 + timedelta(hours=6)
AUDIT = "audit-trail"
AUDIT_ARN = f"arn:aws:cloudtrail:{HOME}:{ACCT}:trail/{AUDIT}"
AUDIT_BUCKET = "audit-logs-bucket"
ORG_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/org-trail"
ORG_BUCKET = "org-logs-bucket"
S3_TRAIL_ARN = f"arn:aws:cloudtrail:{HOME}:{ACCT}:trail/s3-trail"
S3_LOCATION = "s3-trail-bucket/logs"  # a key prefix: two folders named like buckets
STOP_AT, START_AT = DAY2 + timedelta(hours=1), DAY2 + timedelta(hours=2)
FIRST_DIGEST = DAY1 + timedelta(hours=1)
MINING = "sa-east-1"
MALLORY_IP = "203.0.113.66"
DELETED_LOG = (
    f"AWSLogs/{ACCT}/CloudTrail/{HOME}/2026/03/10/{ACCT}_CloudTrail_{HOME}_20260310T0105Z_abcdEFGH12345678.json.gz"
)
DELETED_DIGEST = (
    f"AWSLogs/{ACCT}/CloudTrail-Digest/{HOME}/2026/03/10/"
    f"{ACCT}_CloudTrail-Digest_{HOME}_{AUDIT}_{HOME}_20260310T011408Z.json.gz"
)
WIDE_KEY = "AKIAWIDEEXAMPLE00001"
WIDE_NAMES = [f"Describe{c}" for c in "ABCDEFGHIJKLM"]  # 13 names, the most used first below
RARE_NAME, RARE_IP = "UpdateLoginProfile", "99.99.99.99"  # used once: sorts last by name and as text
WIDE_IPS = ["10.0.0.1", *(f"10.0.0.{i + 2}" for i in range(len(WIDE_NAMES))), RARE_IP]

_RNG = random.Random(5)


def ev(name: str, when: datetime, source: str, who: str = "svc", **kw: Any) -> dict[str, Any]:
    key = {"mallory": "AKIAMALLORYEXAMP0001", "wide": WIDE_KEY}.get(who, "AKIASVCEXAMPLE000001")
    rec = record(name, when, account=ACCT, source=source, user=who, key=key, rng=_RNG, **kw)
    rec["readOnly"] = name.startswith(("Describe", "List", "Get"))
    return rec


def mallory(name: str, when: datetime, source: str, **kw: Any) -> dict[str, Any]:
    return ev(name, when, source, "mallory", ip=MALLORY_IP, **kw)


def deletion(when: datetime, bucket: str, keys: list[str], *, batch: bool = False, **kw: Any) -> dict[str, Any]:
    """A DeleteObject (or a DeleteObjects whose keys are only in resources[]) data event."""
    req: dict[str, Any] = {"bucketName": bucket, "Host": f"{bucket}.s3.{HOME}.amazonaws.com"}
    if batch:
        req["delete"] = ""
    else:
        req["key"] = keys[0]
    resources = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{k}"} for k in keys]
    resources.append({"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}", "accountId": ACCT})
    return mallory(
        "DeleteObjects" if batch else "DeleteObject",
        when,
        "s3.amazonaws.com",
        requestParameters=req,
        resources=resources,
        eventCategory="Data",
        managementEvent=False,
        **kw,
    )


def bucket_policy(when: datetime, statements: list[dict[str, Any]]) -> dict[str, Any]:
    doc = {"Version": "2012-10-17", "Statement": statements}
    req = {"bucketName": AUDIT_BUCKET, "bucketPolicy": doc, "policy": ""}
    return mallory("PutBucketPolicy", when, "s3.amazonaws.com", requestParameters=req)


ALLOW_CLOUDTRAIL = {
    "Sid": "AWSCloudTrailWrite",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": f"arn:aws:s3:::{AUDIT_BUCKET}/AWSLogs/{ACCT}/*",
}
DENY_INSECURE = {  # common hardening: conditional, must not count as blocking delivery
    "Sid": "DenyInsecure",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": f"arn:aws:s3:::{AUDIT_BUCKET}/*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
DENY_CLOUDTRAIL = {
    "Sid": "NoDelivery",
    "Effect": "Deny",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": ["s3:Put*"],
    "Resource": f"arn:aws:s3:::{AUDIT_BUCKET}/*",
}


def background() -> list[dict[str, Any]]:
    """A worker's calls every 10 minutes in eu-west-1, from the start to the end of the data."""
    out, t = [], DAY1
    while t < END:
        out.append(ev("DescribeInstances", t, "ec2.amazonaws.com", ip="10.0.1.5"))
        t += timedelta(minutes=10)
    return out


def wide_records() -> list[dict[str, Any]]:
    """One key with 14 event names and 15 IPs: most calls from 10.0.0.1, one rare call last."""
    t = DAY1 + timedelta(hours=8)
    out = []
    for i, name in enumerate(WIDE_NAMES):
        for j in range(len(WIDE_NAMES) - i):  # DescribeA 13 times ... DescribeM once
            ip = "10.0.0.1" if j else f"10.0.0.{i + 2}"
            out.append(ev(name, t + timedelta(minutes=i, seconds=j), "ec2.amazonaws.com", "wide", ip=ip))
    out.append(ev(RARE_NAME, t + timedelta(hours=1), "iam.amazonaws.com", "wide", ip=RARE_IP))
    return out


def attack() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(records every trail delivers, records only the organisation trail delivers)."""
    both = [
        # StopLogging by name, called in us-east-1: the digests say the trail's home is eu-west-1
        mallory(
            "StopLogging", STOP_AT, "cloudtrail.amazonaws.com", requestParameters={"name": AUDIT}, region="us-east-1"
        ),
        mallory("StartLogging", START_AT, "cloudtrail.amazonaws.com", requestParameters={"name": AUDIT_ARN}),
        bucket_policy(DAY2 + timedelta(hours=3), [ALLOW_CLOUDTRAIL, DENY_CLOUDTRAIL]),
        bucket_policy(DAY2 + timedelta(hours=3, minutes=5), [ALLOW_CLOUDTRAIL, DENY_INSECURE]),
        bucket_policy(DAY2 + timedelta(hours=3, minutes=10), [DENY_INSECURE]),
        mallory(
            "StopLogging",
            DAY2 + timedelta(hours=3, minutes=20),
            "cloudtrail.amazonaws.com",
            requestParameters={"name": ORG_ARN},
            region="us-east-1",
            errorCode="AccessDenied",
            errorMessage="not authorized",
        ),
        mallory(
            "UpdateTrail",
            DAY2 + timedelta(hours=3, minutes=30),
            "cloudtrail.amazonaws.com",
            requestParameters={"name": AUDIT, "s3BucketName": "attacker-bucket"},
        ),
        mallory(
            "UpdateTrail",
            DAY2 + timedelta(hours=3, minutes=31),
            "cloudtrail.amazonaws.com",
            requestParameters={"name": ORG_ARN, "s3BucketName": "attacker-bucket"},
            region="us-east-1",
        ),
        mallory(
            "PutBucketLifecycle",
            DAY2 + timedelta(hours=3, minutes=40),
            "s3.amazonaws.com",
            requestParameters={
                "bucketName": "s3-trail-bucket",
                "LifecycleConfiguration": {"Rule": {"ID": "gone", "Status": "Enabled", "Expiration": {"Days": 1}}},
            },
        ),
    ]
    t = STOP_AT + timedelta(minutes=10)
    org_only = [mallory("RunInstances", t + timedelta(minutes=i), "ec2.amazonaws.com", region=MINING) for i in range(6)]
    org_only += [  # six more actors, one call each: the region flag names the most active
        ev("DescribeImages", t + timedelta(minutes=i, seconds=30), "ec2.amazonaws.com", f"helper-{i}", region=MINING)
        for i in range(6)
    ]
    org_only += [
        deletion(STOP_AT + timedelta(minutes=30), AUDIT_BUCKET, [DELETED_LOG]),
        deletion(STOP_AT + timedelta(minutes=31), AUDIT_BUCKET, [DELETED_DIGEST, "notes/readme.txt"], batch=True),
        deletion(
            STOP_AT + timedelta(minutes=32),
            AUDIT_BUCKET,
            [DELETED_LOG.replace("abcd", "wxyz")],
            errorCode="AccessDenied",
            errorMessage="Access Denied",
        ),
        deletion(STOP_AT + timedelta(minutes=33), "unknown-bucket", [DELETED_LOG]),
        deletion(STOP_AT + timedelta(minutes=34), AUDIT_BUCKET, ["reports/old.csv"]),
        deletion(STOP_AT + timedelta(minutes=35), "app-bucket", ["tmp/x.bin"]),
    ]
    return both, org_only


def write_digests(root: Path, trail: str, regions: list[str]) -> None:
    """Empty digest files every 6 hours (ingest files them by their path; only `verify` reads them)."""
    t = FIRST_DIGEST
    while t < END:
        for region in regions:
            folder = root / "AWSLogs" / ACCT / "CloudTrail-Digest" / region / f"{t:%Y/%m/%d}"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{ACCT}_CloudTrail-Digest_{region}_{trail}_{HOME}_{t:%Y%m%dT%H%M%S}Z.json.gz"
            (folder / name).write_bytes(gzip.compress(b"{}", mtime=0))
        t += timedelta(hours=6)


def write_logs(root: Path, records: list[dict[str, Any]], org_id: str | None = None) -> None:
    by_region: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_region.setdefault(rec["awsRegion"], []).append(rec)
    for region, recs in sorted(by_region.items()):
        for i in range(0, len(recs), 100):
            delivered = END + timedelta(minutes=i // 100)
            write_log(
                root, recs[i : i + 100], account=ACCT, region=region, delivered=delivered, org_id=org_id, rng=_RNG
            )


@pytest.fixture(scope="module")
def ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tmp = tmp_path_factory.mktemp("tamper")
    src = tmp / "logs"
    both, org_only = attack()
    calls = background()
    stopped = [r for r in calls if iso(STOP_AT) <= r["eventTime"] < iso(START_AT)]  # the audit trail missed these
    common = [r for r in calls if r not in stopped] + wide_records() + both
    write_logs(src / AUDIT_BUCKET, common)
    write_digests(src / AUDIT_BUCKET, AUDIT, [HOME, "us-east-1", MINING])
    write_logs(src / ORG_BUCKET, common + stopped + org_only, org_id=ORG_ID)
    write_logs(src / S3_LOCATION, [r for r in common + stopped if r["awsRegion"] == HOME])
    write_digests(src / S3_LOCATION, "s3-trail", [HOME])
    ingest([src], tmp / "ds", IngestOptions(workers=1))
    return Dataset(tmp / "ds")


@pytest.fixture(scope="module")
def report(ds: Dataset) -> TrailReport:
    return trails(ds)


def state_rows(report: TrailReport, arn: str) -> dict[str, dict[str, Any]]:
    return {r["field"]: r for r in report.state.to_pylist() if r["trail"] == arn}


def found(report: TrailReport) -> dict[tuple[str | None, str], dict[str, Any]]:
    return {(r["trail_name"], r["finding"]): r for r in report.findings.to_pylist()}


# -- trails: what the delivered files prove -------------------------------------------------------
def test_trail_older_than_the_logs_takes_what_its_digests_prove(ds: Dataset, report: TrailReport) -> None:
    before = state_rows(trails(ds, until=DAY2 + timedelta(hours=3)), AUDIT_ARN)
    value = {f: r["value"] for f, r in before.items()}
    # validation on, multi-region (digests for other regions), not an organisation trail, its bucket
    assert value["log_file_validation"] == "true" and value["multi_region"] == "true"
    assert value["organization_trail"] == "false" and value["s3_bucket"] == AUDIT_BUCKET
    for f in ("log_file_validation", "multi_region", "organization_trail", "s3_bucket"):
        assert before[f]["event_name"] == "delivered files" and before[f]["since"] == FIRST_DIGEST, f
    assert value["global_service_events"] == "unknown" and value["kms_key"] == "unknown"  # not proven: not guessed
    assert value["bucket_log_files_deleted"] == "2"  # DeleteObject + DeleteObjects; the failed one deleted nothing
    # the StopLogging named the trail in us-east-1: still one trail, at its home region
    assert [a for a in report.trails if a.endswith(f"trail/{AUDIT}")] == [AUDIT_ARN]
    stop = next(s for s in report.stops.to_pylist() if s["trail"] == AUDIT_ARN)
    assert stop["stopped_at"] == STOP_AT and stop["started_at"] == START_AT
    # before its first digest nothing shows the trail at all
    assert AUDIT_ARN not in trails(ds, until=FIRST_DIGEST).trails


def test_single_region_digests_prove_no_multi_region(report: TrailReport) -> None:
    rows = state_rows(report, S3_TRAIL_ARN)  # known from its digests only
    assert rows["log_file_validation"]["value"] == "true" and rows["multi_region"]["value"] == "unknown"
    # two folders named like buckets (bucket/prefix): the bucket is not guessed, but tied to the trail
    assert rows["s3_bucket"]["value"] == "unknown"
    assert rows["bucket_lifecycle"]["value"] == "gone: expires objects after 1 days"
    assert found(report)[("s3-trail", "lifecycle-expires-logs")]["actor"].endswith("user/mallory")


# -- trails: tampering with the logs ----------------------------------------------------------------
def test_log_files_deleted_from_the_trail_bucket(report: TrailReport) -> None:
    rows = [r for r in report.findings.to_pylist() if r["finding"] == "log-files-deleted"]
    by_trail = {(r["trail_name"], r["event_name"]): r for r in rows}
    single = by_trail[(AUDIT, "DeleteObject")]
    assert single["severity"] == "high" and DELETED_LOG in single["detail"] and AUDIT_BUCKET in single["detail"]
    batch = by_trail[(AUDIT, "DeleteObjects")]  # keys from resources[]; the digest's name names the trail
    assert DELETED_DIGEST in batch["detail"] and "readme" not in batch["detail"]
    orphan = by_trail[(None, "DeleteObject")]  # CloudTrail files in a bucket no known trail uses
    assert orphan["trail"] is None and "no trail in the data delivers to unknown-bucket" in orphan["detail"]
    assert len(rows) == 3
    attempt = found(report)[(AUDIT, "attempted-log-files-deleted")]
    assert attempt["severity"] == "medium" and attempt["detail"].startswith("failed attempt (AccessDenied): ")
    changes = [r for r in report.changes.to_pylist() if r["kind"] == "bucket" and r["event_name"] == "DeleteObject"]
    other = next(r for r in changes if "reports/old.csv" in r["change"])  # a change on the trail's bucket
    assert other["trail"] == AUDIT_ARN and other["event_id"] not in {r["event_id"] for r in report.findings.to_pylist()}
    assert not any("app-bucket" in r["target"] for r in changes)  # not a trail's bucket, not CloudTrail files
    batch_change = next(r for r in report.changes.to_pylist() if r["event_name"] == "DeleteObjects")
    assert "1 other object(s) deleted: notes/readme.txt" in batch_change["change"]


def test_delivery_blocked_redirected_or_attempted(report: TrailReport) -> None:
    f = found(report)
    deny = f[(AUDIT, "bucket-policy-denies-cloudtrail")]
    assert deny["severity"] == "high" and "(NoDelivery)" in deny["detail"]
    excluded = f[(AUDIT, "bucket-policy-excludes-cloudtrail")]
    assert excluded["severity"] == "medium" and excluded["event_time"] == DAY2 + timedelta(hours=3, minutes=10)
    # the policy with the usual conditional Deny and CloudTrail's Allow is fine
    assert not [r for r in report.findings.to_pylist() if r["event_time"] == DAY2 + timedelta(hours=3, minutes=5)]
    redirected = f[(AUDIT, "bucket-changed")]
    assert redirected["severity"] == "high"
    assert redirected["detail"] == f"logs redirected: now delivered to attacker-bucket instead of {AUDIT_BUCKET}"
    unknown_before = f[("org-trail", "bucket-changed")]  # the org trail's bucket was never shown
    assert unknown_before["severity"] == "medium" and "not in the data" in unknown_before["detail"]
    attempt = f[("org-trail", "attempted-logging-stopped")]
    assert attempt["severity"] == "medium" and attempt["detail"] == "failed attempt (AccessDenied): logging stopped"
    assert ("org-trail", "logging-stopped") not in f
    assert state_rows(report, ORG_ARN)["logging"]["value"] == "unknown"  # a failed call changes nothing


def test_finding_times_are_iso(report: TrailReport) -> None:
    stop = found(report)[(AUDIT, "logging-stopped")]
    assert stop["detail"] == f"logging stopped for 1h 00m (until StartLogging at {iso(START_AT)})"


def test_policy_reading_of_cloudtrail_denies() -> None:
    def denies(statement: dict[str, Any]) -> tuple[str, ...]:
        return read_policy({"Statement": [statement]}, ACCT, what="bucket-policy").denies_delivery

    assert denies(DENY_CLOUDTRAIL) == ("NoDelivery",)
    assert denies({**DENY_INSECURE, "Condition": None}) == ("DenyInsecure",)  # unconditional * on s3:*
    assert denies(DENY_INSECURE) == ()
    assert denies({**DENY_CLOUDTRAIL, "Action": "s3:GetObject"}) == ()  # not what delivery needs
    assert denies({**DENY_CLOUDTRAIL, "Action": "s3:GetBucketAcl"}) == ("NoDelivery",)
    everyone_but_ct = {**DENY_INSECURE, "Condition": None, "Principal": None}
    assert denies({**everyone_but_ct, "NotPrincipal": {"Service": "cloudtrail.amazonaws.com"}}) == ()
    assert denies({**everyone_but_ct, "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCT}:root"}}) == ("DenyInsecure",)
    not_action = {**DENY_CLOUDTRAIL, "Action": None, "NotAction": ["s3:Get*"]}
    assert denies(not_action) == ("NoDelivery",)
    assert denies({**not_action, "NotAction": ["s3:PutObject", "s3:GetBucketAcl"]}) == ()
    assert denies({**DENY_CLOUDTRAIL, "Effect": "Allow"}) == ()


def test_lifecycle_dates_read_as_iso() -> None:
    rule = {"ID": "r", "Status": "Enabled", "Expiration": {"Date": "2026-04-01T00:00:00.000Z"}}
    reading = read_lifecycle({"LifecycleConfiguration": {"Rule": [rule]}})
    assert reading.summary == "r: expires objects on 2026-04-01T00:00:00Z"


# -- coverage -------------------------------------------------------------------------------------
def test_missing_copies_in_a_region_the_trail_delivers_for(ds: Dataset, report: TrailReport) -> None:
    flags = [f for f in coverage(ds, trail_report=report).flags.to_pylist() if f["kind"] == "missing-copies"]
    mining = [f for f in flags if f["region"] == MINING]
    # never used before, so no per-region share: the audit trail's digests cover sa-east-1 and it holds
    # most of the account's events where it delivers
    assert [f["source"] for f in mining] == [AUDIT_BUCKET]
    assert mining[0]["events"] == 12 and f"{AUDIT} stopped {iso(STOP_AT)}" in mining[0]["stopped_logging"]
    assert "delivers files for sa-east-1" in mining[0]["detail"]
    # the single-region s3-trail delivers eu-west-1 only: nothing is expected of it elsewhere
    assert not [f for f in flags if f["source"] == S3_LOCATION]


def test_region_flag_names_every_actor_most_active_first(ds: Dataset, report: TrailReport) -> None:
    flags = coverage(ds, trail_report=report).flags.to_pylist()
    flag = next(f for f in flags if f["kind"] == "region" and f["region"] == MINING)
    helpers = [f"arn:aws:iam::{ACCT}:user/helper-{i}" for i in range(6)]
    assert flag["actors"] == [f"arn:aws:iam::{ACCT}:user/mallory", *helpers]
    assert f"7 actor(s): arn:aws:iam::{ACCT}:user/mallory, " in flag["detail"]
    assert flag["detail"].endswith(f"{helpers[3]}, +2 more")


@pytest.mark.parametrize(
    ("since", "until"),
    [(STOP_AT, START_AT), (STOP_AT + timedelta(minutes=15), STOP_AT + timedelta(minutes=16)), (DAY2, None)],
)
def test_coverage_window_only_filters_the_flags(
    ds: Dataset, report: TrailReport, since: datetime, until: datetime | None
) -> None:
    full = coverage(ds, trail_report=report).flags.to_pylist()
    shown = coverage(ds, since=since, until=until, trail_report=report).flags.to_pylist()
    assert {(f["kind"], f["region"]) for f in shown} >= {("region", MINING), ("missing-copies", MINING)}
    assert shown == [f for f in full if f["end"] >= since and (until is None or f["start"] < until)]


# -- trace: full activity lists ---------------------------------------------------------------------
def test_trace_lists_every_name_and_ip_most_used_first(ds: Dataset) -> None:
    hop = trace(ds, WIDE_KEY).chain.to_pylist()[0]
    assert hop["event_names"] == [*WIDE_NAMES, RARE_NAME]  # most used first; the rare call kept
    assert hop["distinct_event_names"] == len(WIDE_NAMES) + 1
    assert hop["ips"][0] == "10.0.0.1" and sorted(hop["ips"]) == sorted(WIDE_IPS)


def test_merged_session_groups_sum_their_counts() -> None:
    def group(names: dict[str, int], ips: dict[str, int]) -> dict[str, Any]:
        row = {
            "first_seen": DAY1,
            "last_seen": DAY2,
            "events": sum(names.values()),
            "errors": 0,
            "regions": [HOME],
            "no_creation_date": True,
            "console": False,
            "start": None,
            "event_name_counts": list(names.items()),
            "ip_counts": list(ips.items()),
        }
        rank_activity(row)
        return row

    into = group({"A": 3, "B": 2}, {"10.0.0.1": 5})
    merge_activity(into, group({"B": 2, "C": 1}, {"10.0.0.2": 6}))
    assert into["event_names"] == ["B", "A", "C"] and into["distinct_event_names"] == 3
    assert into["ips"] == ["10.0.0.2", "10.0.0.1"]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    import trailforensics.cli.posture_cmd  # noqa: F401  (registers the commands)

    _register_commands()
    return CliRunner()


def test_trace_cuts_only_the_table_and_says_so(runner: CliRunner, ds: Dataset) -> None:
    res = runner.invoke(app, ["trace", WIDE_KEY, "-d", str(ds.path)])
    assert res.exit_code == 0, res.output
    line = next(line for line in res.output.splitlines() if WIDE_KEY in line and "names (" in line)
    assert f"{WIDE_NAMES[0]}, {WIDE_NAMES[1]}, {WIDE_NAMES[2]}, {WIDE_NAMES[3]}, +10 more" in line
    assert "IPs 10.0.0.1, " in line and f", +{len(WIDE_IPS) - 3} more;" in line
    res = runner.invoke(app, ["trace", WIDE_KEY, "-d", str(ds.path), "--view", "chain", "-f", "csv"])
    row = next(csv.DictReader(io.StringIO(res.output)))
    assert RARE_NAME in row["event_names"] and RARE_IP in row["ips"]
