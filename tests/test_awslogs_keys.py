"""The AWSLogs key grammar (trailforensics.awslogs): parsing and building object keys and paths."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from trailforensics import awslogs as k

ACCT = "111122223333"
ORG = "o-abcdef1234"
LOG_NAME = f"{ACCT}_CloudTrail_eu-west-1_20260310T0215Z_AbCdEfGh12345678.json.gz"
DIGEST_NAME = f"{ACCT}_CloudTrail-Digest_eu-west-1_my_trail_us-east-1_20260310T041408Z.json.gz"


def _t(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize(
    ("path", "org", "kind", "folder"),
    [
        (f"AWSLogs/{ACCT}/CloudTrail/eu-west-1/2026/03/10/{LOG_NAME}", None, k.LOG, "CloudTrail"),
        (f"AWSLogs/{ORG}/{ACCT}/CloudTrail/eu-west-1/2026/03/10/{LOG_NAME}", ORG, k.LOG, "CloudTrail"),
        (f"my-prefix/deeper/AWSLogs/{ACCT}/CloudTrail-Digest/eu-west-1/2026/03/10/x.json.gz", None, k.DIGEST, None),
        (f"bucket-a/AWSLogs/{ORG}/{ACCT}/CloudTrail-Insight/eu-west-1/2026/03/10/x.json.gz", ORG, k.INSIGHT, None),
        (f"AWSLogs/{ACCT}/elasticloadbalancing/eu-west-1/2026/03/10/x.log.gz", None, k.OTHER, "elasticloadbalancing"),
    ],
)
def test_parse_path(path: str, org: str | None, kind: str, folder: str | None) -> None:
    key = k.parse_path(path)
    assert key is not None
    assert (key.org_id, key.account, key.region, key.kind) == (org, ACCT, "eu-west-1", kind)
    assert (key.year, key.month, key.day) == ("2026", "03", "10")
    assert key.name == path.rsplit("/", 1)[-1]
    if folder:
        assert key.folder == folder
    assert key.day_epoch == _t("2026-03-10")


def test_parse_path_rejects_other_shapes() -> None:
    assert k.parse_path(f"AWSLogs/{ACCT}/CloudTrail/eu-west-1/{LOG_NAME}") is None  # no date folders
    assert k.parse_path(f"notAWSLogs/{ACCT}/CloudTrail/eu-west-1/2026/03/10/{LOG_NAME}") is None
    assert k.parse_path(f"AWSLogs/{ACCT}/CloudTrail/eu-west-1/2026/3/10/{LOG_NAME}") is None
    # an org id must look like one, else it is taken as the account folder
    odd = k.parse_path(f"AWSLogs/o-short/{ACCT}/CloudTrail/eu-west-1/2026/03/10/{LOG_NAME}")
    assert odd is None or odd.org_id is None


def test_invalid_date_folders_parse_but_have_no_day() -> None:
    key = k.parse_path(f"AWSLogs/{ACCT}/CloudTrail/eu-west-1/2026/02/30/{LOG_NAME}")
    assert key is not None and key.day_epoch is None
    assert k.epoch(0, 1, 5) is None and k.epoch(2026, 13, 1) is None and k.epoch(2024, 2, 29) is not None


def test_service_folder_at_any_depth() -> None:
    assert k.service_folder(f"x/AWSLogs/{ACCT}/vpcflowlogs/") == "vpcflowlogs"
    assert k.service_folder(f"AWSLogs/{ORG}/{ACCT}/CloudTrail/eu-west-1/loose.json") == "CloudTrail"
    assert k.service_folder("somewhere/else/file.json") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (LOG_NAME, datetime(2026, 3, 10, 2, 15, tzinfo=timezone.utc)),
        (DIGEST_NAME, datetime(2026, 3, 10, 4, 14, 8, tzinfo=timezone.utc)),
        (f"{ACCT}_CloudTrail_eu-west-1_20260230T0215Z_AbCdEfGh12345678.json.gz", None),  # 30 February
        ("no-time-here.json.gz", None),
    ],
)
def test_file_time(name: str, expected: datetime | None) -> None:
    assert k.file_time(name) == expected


def test_log_names() -> None:
    assert k.log_name_time(LOG_NAME) == _t("2026-03-10T02:15")
    assert k.log_name_time(f"{ACCT}_CloudTrail_eu-west-1_20261310T0215Z_x.json.gz") is None
    n = k.parse_log_name(LOG_NAME)
    assert n is not None and (n.account, n.region, n.minute) == (ACCT, "eu-west-1", "20260310T0215")
    assert k.parse_log_name(LOG_NAME.replace("AbCdEfGh12345678", "short")) is None
    assert k.parse_log_name(LOG_NAME.replace(".json.gz", ".json")) is None
    assert k.compact_time("20260310T0215") == _t("2026-03-10T02:15")
    assert k.compact_time("20260310T021508") == _t("2026-03-10T02:15:08")
    assert k.compact_time("2026-03-10T02") is None


def test_log_scope() -> None:
    rel = f"bucket/AWSLogs/{ORG}/{ACCT}/CloudTrail/eu-west-1/2026/03/10/{LOG_NAME}"
    s = k.log_scope(rel)
    assert s is not None
    assert s.scope == f"bucket/AWSLogs/{ORG}/{ACCT}/CloudTrail/eu-west-1"
    assert (s.org_id, s.account, s.region, s.rest) == (ORG, ACCT, "eu-west-1", f"2026/03/10/{LOG_NAME}")
    assert s.day == _t("2026-03-10")
    loose = k.log_scope(f"AWSLogs/{ACCT}/CloudTrail/eu-west-1/dropped.json")
    assert loose is not None and loose.day is None
    assert k.log_scope(f"AWSLogs/{ACCT}/CloudTrail-Digest/eu-west-1/2026/03/10/x") is None


def test_digest_keys() -> None:
    key = f"pre/fix/AWSLogs/{ORG}/{ACCT}/CloudTrail-Digest/eu-west-1/2026/03/10/{DIGEST_NAME}"
    d = k.parse_digest_key(key)
    assert d is not None
    assert (d.account, d.org_id, d.region, d.trail, d.home_region, d.backfill) == (
        ACCT,
        ORG,
        "eu-west-1",
        "my_trail",
        "us-east-1",
        False,
    )
    assert d.end == _t("2026-03-10T04:14:08")
    assert d.account_root == f"pre/fix/AWSLogs/{ORG}/{ACCT}"
    assert d.log_scope() == f"pre/fix/AWSLogs/{ORG}/{ACCT}/CloudTrail/eu-west-1"
    assert k.parse_digest_name(DIGEST_NAME) == k.DigestName(
        ACCT, None, "eu-west-1", "my_trail", "us-east-1", d.end, False, ""
    )
    backfill = k.parse_digest_name(DIGEST_NAME.replace(".json.gz", "_backfill.json.gz"))
    assert backfill is not None and backfill.backfill
    # another account's or region's digest in this folder, an impossible time: not a digest key
    assert k.parse_digest_key(key.replace(f"/{ACCT}/", "/444455556666/")) is None
    assert k.parse_digest_key(key.replace("CloudTrail-Digest/eu-west-1", "CloudTrail-Digest/eu-west-2")) is None
    assert k.parse_digest_key(key.replace("20260310T041408Z", "20260310T250000Z")) is None


def test_digest_trail_and_cloudtrail_keys() -> None:
    assert k.digest_trail(f"AWSLogs/{ACCT}/CloudTrail-Digest/eu-west-1/2026/03/10/{DIGEST_NAME}") == (
        "my_trail",
        "us-east-1",
    )
    assert k.digest_trail(LOG_NAME) is None
    assert k.is_cloudtrail_key(f"AWSLogs/{ACCT}/CloudTrail/eu-west-1/2026/03/10/{LOG_NAME}")
    assert k.is_cloudtrail_key(LOG_NAME)  # a bare name
    assert not k.is_cloudtrail_key(f"AWSLogs/{ACCT}/elasticloadbalancing/eu-west-1/x.log.gz")
    assert k.is_bucket_name("metrolio-audit-logs-483920175562")
    assert not k.is_bucket_name("AWSLogs") and not k.is_bucket_name("ab") and not k.is_bucket_name("-x-y")


def test_builders_round_trip() -> None:
    minute = _t("2026-03-10T23:59")
    log = k.log_key(ACCT, "eu-west-1", minute, "AbCdEfGh12345678", org_id=ORG, prefix="/pre/")
    name = f"{ACCT}_CloudTrail_eu-west-1_20260310T2359Z_AbCdEfGh12345678.json.gz"
    assert log == f"pre/AWSLogs/{ORG}/{ACCT}/CloudTrail/eu-west-1/2026/03/10/{name}"
    key = k.parse_path(log)
    assert key is not None and (key.kind, key.org_id, key.account) == (k.LOG, ORG, ACCT)
    assert k.log_name_time(key.name) == minute
    end = _t("2026-03-11T00:14:08")
    digest = k.digest_key(ACCT, "eu-west-1", "my_trail", "us-east-1", end, backfill=True)
    d = k.parse_digest_key(digest)
    assert d is not None and (d.end, d.trail, d.backfill, d.account_root) == (end, "my_trail", True, f"AWSLogs/{ACCT}")
    assert k.account_root(ACCT) == f"AWSLogs/{ACCT}"
