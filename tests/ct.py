"""Hand-made CloudTrail fixtures: records and AWSLogs trees written by the tests themselves."""

from __future__ import annotations

import gzip
import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

UTC = timezone.utc


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    event_name: str = "DescribeInstances",
    when: datetime | None = None,
    *,
    account: str = "111122223333",
    region: str = "eu-west-1",
    user: str = "alice",
    key: str = "AKIAEXAMPLEKEY000001",
    ip: str = "198.51.100.7",
    source: str = "ec2.amazonaws.com",
    event_id: str | None = None,
    rng: random.Random | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rng = rng or random.Random()
    when = when or datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE" + user.upper()[:8],
            "arn": f"arn:aws:iam::{account}:user/{user}",
            "accountId": account,
            "accessKeyId": key,
            "userName": user,
        },
        "eventTime": iso(when),
        "eventSource": source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64",
        "requestParameters": {"instancesSet": {}, "filterSet": {}},
        "responseElements": None,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "eventID": event_id or str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "readOnly": event_name.startswith(("Describe", "List", "Get")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"ec2.{region}.amazonaws.com",
        },
    }
    rec.update(extra)
    return rec


def log_key(
    account: str,
    region: str,
    delivered: datetime,
    *,
    org_id: str | None = None,
    rng: random.Random | None = None,
    insight: bool = False,
) -> str:
    rng = rng or random.Random()
    kind = "CloudTrail-Insight" if insight else "CloudTrail"
    rand = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
    org = f"{org_id}/" if org_id else ""
    return (
        f"AWSLogs/{org}{account}/{kind}/{region}/{delivered:%Y/%m/%d}/"
        f"{account}_{kind}_{region}_{delivered:%Y%m%dT%H%MZ}_{rand}.json.gz"
    )


def write_log(
    root: Path,
    records: list[dict[str, Any]],
    *,
    account: str = "111122223333",
    region: str = "eu-west-1",
    delivered: datetime | None = None,
    org_id: str | None = None,
    rng: random.Random | None = None,
    key: str | None = None,
    raw: bytes | None = None,
) -> Path:
    delivered = delivered or datetime(2026, 3, 10, 2, 5, tzinfo=UTC)
    rel = key or log_key(account, region, delivered, org_id=org_id, rng=rng)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    body = raw if raw is not None else json.dumps({"Records": records}).encode()
    path.write_bytes(gzip.compress(body, mtime=0))
    return path


def simple_tree(
    root: Path,
    *,
    files: int = 6,
    per_file: int = 20,
    seed: int = 1,
    org_id: str | None = None,
    account: str = "111122223333",
) -> list[dict[str, Any]]:
    """A small tree over two regions and two days; returns every record written."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    written: list[dict[str, Any]] = []
    names = ["DescribeInstances", "GetObject", "ListBuckets", "AssumeRole", "CreateUser", "ConsoleLogin"]
    for f in range(files):
        region = ("eu-west-1", "us-east-1")[f % 2]
        delivered = start + timedelta(minutes=20 * f + 5)
        recs = [
            record(
                rng.choice(names),
                delivered - timedelta(minutes=5, seconds=rng.randrange(300)),
                region=region,
                account=account,
                rng=rng,
            )
            for _ in range(per_file)
        ]
        write_log(root, recs, account=account, region=region, delivered=delivered, org_id=org_id, rng=rng)
        written.extend(recs)
    return written
