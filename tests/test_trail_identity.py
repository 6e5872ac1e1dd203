"""A trail is known by its account and home region, not its name: three accounts each with a
trail called ``account-trail`` are three trails, from their events and from their digest files."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from posture_fixtures import ev, iam_user, write_tree

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.posture import trails
from trailforensics.posture.trails import TrailReport

UTC = timezone.utc
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
NAME = "account-trail"
HOME = "eu-west-1"
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
CT = "cloudtrail.amazonaws.com"


def arn(account: str) -> str:
    return f"arn:aws:cloudtrail:{HOME}:{account}:trail/{NAME}"


def account_records(i: int, account: str) -> list[dict]:  # type: ignore[type-arg]
    admin = iam_user(f"admin{i}", f"AKIAADMIN{i}EXAMPLE0001"[:20], account)
    t = T0 + timedelta(minutes=i)
    bucket = f"logs-{account}"
    recs = [
        ev(
            "CreateTrail",
            t,
            CT,
            admin,
            req={"name": NAME, "s3BucketName": bucket, "isMultiRegionTrail": i != 1},
            resp={"name": NAME, "s3BucketName": bucket, "trailARN": arn(account), "isMultiRegionTrail": i != 1},
        ),
        ev("StartLogging", t + timedelta(minutes=1), CT, admin, req={"name": NAME}),
    ]
    if i == 2:  # only the third account's trail is stopped
        recs.append(ev("StopLogging", t + timedelta(hours=1), CT, admin, req={"name": NAME}))
    return recs


def digest_time(i: int) -> datetime:
    return T0 + timedelta(hours=2, minutes=10 * i)


def write_digests(root: Path, accounts: tuple[str, ...] = ACCOUNTS) -> None:
    """One digest file per account (each at its own time), all filed in the same synced bucket."""
    for i, account in enumerate(accounts):
        stamp = digest_time(i)
        key = (
            f"AWSLogs/{account}/CloudTrail-Digest/{HOME}/{stamp:%Y/%m/%d}/"
            f"{account}_CloudTrail-Digest_{HOME}_{NAME}_{HOME}_{stamp:%Y%m%dT%H%M%SZ}.json.gz"
        )
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(b"{}", mtime=0))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> TrailReport:
    tmp = tmp_path_factory.mktemp("trail-identity")
    src = tmp / "logs" / "shared-log-bucket"  # synced as a bucket folder, so its name is known
    write_tree(src, [r for i, a in enumerate(ACCOUNTS) for r in account_records(i, a)])
    write_digests(src)
    ingest([src.parent], tmp / "ds", IngestOptions(workers=1))
    return trails(Dataset(tmp / "ds"))


def test_same_name_in_three_accounts_is_three_trails(report: TrailReport) -> None:
    assert sorted(report.trails) == sorted(arn(a) for a in ACCOUNTS)
    for account in ACCOUNTS:
        values = report.trails[arn(account)].values
        assert (values["name"], values["account"], values["home_region"]) == (NAME, account, HOME)
        assert values["s3_bucket"] == f"logs-{account}"


def test_each_trails_events_stay_with_it(report: TrailReport) -> None:
    a, b, c = (report.trails[arn(x)].values for x in ACCOUNTS)
    assert (a["multi_region"], b["multi_region"], c["multi_region"]) == (True, False, True)
    assert (a["logging"], b["logging"], c["logging"]) == (True, True, False)
    assert {s["trail"] for s in report.stopped_periods()} == {arn(ACCOUNTS[2])}


def test_each_accounts_digests_go_to_its_own_trail(report: TrailReport) -> None:
    for i, account in enumerate(ACCOUNTS):
        delivered = [when for when, bucket in report.trails[arn(account)].buckets if bucket == "shared-log-bucket"]
        assert delivered == [digest_time(i)]


def test_digests_alone_name_one_trail_per_account(tmp_path: Path) -> None:
    """No trail event in the logs (a trail older than them): the digest files still tell the
    three trails apart, each with its account."""
    src = tmp_path / "shared-log-bucket"
    write_tree(
        src, [ev("ListBuckets", T0, "s3.amazonaws.com", iam_user("u", "AKIAUEXAMPLE00000001", a)) for a in ACCOUNTS]
    )
    write_digests(src)
    ingest([src], tmp_path / "ds", IngestOptions(workers=1))
    report = trails(Dataset(tmp_path / "ds"))
    assert sorted(report.trails) == sorted(arn(a) for a in ACCOUNTS)
    state = {(r["trail"], r["field"]): r["value"] for r in report.state.to_pylist()}
    for account in ACCOUNTS:
        assert state[(arn(account), "account")] == account
        assert state[(arn(account), "log_file_validation")] == "true"
        assert state[(arn(account), "organization_trail")] == "false"
