"""Small signed digest trees for the verify tests, built with the generator's digest helpers.

A `Dump` is one synced-bucket folder (``TREE/<bucket>/AWSLogs/...``, or the bucket at TREE
itself) holding hourly log files and the digest chain(s) that list them, plus the public key
(`aws cloudtrail list-public-keys` shape) and the newest digests' signatures kept OUTSIDE the
tree, the way a responder stores them.  Tests tamper with it and check what verify reports.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from trailforensics.generate import digests as dg
from trailforensics.generate.writer import gzip_bytes, log_key, write_object
from trailforensics.verify import VerifyReport
from trailforensics.verify.model import Finding

HOUR = 3600
T0 = 1_773_100_800  # 2026-03-10T00:00:00Z
ACCOUNT = "111122223333"
REGION = "eu-west-1"
TRAIL = "audit-trail"
BUCKET = "audit-bucket-111122223333"


@cache
def aws_key() -> rsa.RSAPrivateKey:
    """The stand-in for AWS's signing key (cached: RSA key generation is slow)."""
    return dg.new_private_key()


@cache
def attacker_key() -> rsa.RSAPrivateKey:
    return dg.new_private_key()


def log_bytes(key: str, n: int = 2) -> bytes:
    records = [
        {
            "eventVersion": "1.09",
            "eventID": hashlib.md5(f"{key}{i}".encode()).hexdigest(),
            "eventTime": "2026-03-10T00:00:00Z",
            "eventName": "DescribeInstances",
            "eventSource": "ec2.amazonaws.com",
            "awsRegion": REGION,
            "recipientAccountId": ACCOUNT,
        }
        for i in range(n)
    ]
    return orjson.dumps({"Records": records})


def write_log(
    bucket_root: Path,
    delivered: int,
    *,
    account: str = ACCOUNT,
    region: str = REGION,
    org_id: str | None = None,
    prefix: str = "",
    tag: str = "",
) -> dg.LogRef:
    rand = hashlib.md5(f"{account}{region}{delivered}{tag}".encode()).hexdigest()[:16]
    key = log_key(account, region, delivered, rand, org_id=org_id, prefix=prefix)
    raw = log_bytes(key)
    write_object(bucket_root, key, gzip_bytes(raw))
    return dg.LogRef(key, hashlib.sha256(raw).hexdigest(), delivered - 300, delivered - 60, delivered)


@dataclass
class Dump:
    tree: Path  # what is passed to verify
    bucket_root: Path  # the synced bucket folder
    bucket: str
    chains: list[list[dg.Digest]]
    logs: list[dg.LogRef]
    keys_path: Path
    sigs_path: Path
    extra_signatures: dict[str, str] = field(default_factory=dict)

    @property
    def chain(self) -> list[dg.Digest]:
        return self.chains[0]

    def rel(self, key: str) -> str:
        """A key's path relative to the tree (what verify reports)."""
        return self.bucket_root.joinpath(*key.split("/")).relative_to(self.tree).as_posix()

    def path(self, key: str) -> Path:
        return self.bucket_root.joinpath(*key.split("/"))

    def logs_of(self, digest: dg.Digest) -> list[str]:
        return list(digest.logs)

    def write_signatures(self, signatures: dict[str, str] | None = None) -> Path:
        sigs = dg.newest_signatures(self.chains) if signatures is None else signatures
        sigs = {**sigs, **self.extra_signatures}
        self.sigs_path.write_bytes(orjson.dumps(dict(sorted(sigs.items()))))
        return self.sigs_path

    def verify_kwargs(self) -> dict[str, Any]:
        return {"public_keys": [self.keys_path], "signatures": [self.sigs_path]}


def make_dump(
    tmp: Path,
    *,
    hours: int = 6,
    logs_per_hour: int = 2,
    org_id: str | None = None,
    prefix: str = "",
    bucket_folder: bool = True,
    regions: tuple[str, ...] = (REGION,),
    start: int = T0,
) -> Dump:
    """Hourly digests [start, start + hours h) per region, `logs_per_hour` logs delivered in each hour."""
    tree = tmp / "dump"
    bucket_root = tree / BUCKET if bucket_folder else tree
    bucket_root.mkdir(parents=True, exist_ok=True)
    chains = []
    all_logs: list[dg.LogRef] = []
    for region in regions:
        logs = [
            write_log(bucket_root, start + h * HOUR + 600 + i * 1200, region=region, org_id=org_id, prefix=prefix)
            for h in range(hours)
            for i in range(logs_per_hour)
        ]
        all_logs += logs
        chains.append(
            dg.build_chain(
                bucket_root,
                logs,
                account=ACCOUNT,
                region=region,
                trail_name=TRAIL,
                home_region=REGION,
                bucket=BUCKET,
                start=start,
                end=start + hours * HOUR,
                offset=0,
                private_key=aws_key(),
                org_id=org_id,
                prefix=prefix,
            )
        )
    outside = tmp / "evidence-meta"
    outside.mkdir(exist_ok=True)
    keys_path = outside / "public-keys.json"
    keys_path.write_bytes(
        orjson.dumps(dg.public_keys_document(aws_key().public_key(), start - 86400, start + 30 * 86400))
    )
    d = Dump(tree, bucket_root, BUCKET, chains, all_logs, keys_path, outside / "digest-signatures.json")
    d.write_signatures()
    return d


def restart_chain(d: Dump, *, stop: int, restart: int, region: str = REGION) -> None:
    """Rebuild the chain as StopLogging at `stop` and StartLogging at `restart`: the first
    segment ends with the last window holding a delivery before `stop`, the second starts with
    null previousDigest* fields at `restart` (logs between are never delivered)."""
    for digest in d.chains[0]:
        d.path(digest.key).unlink()
    for ref in d.logs:
        if stop <= ref.delivered < restart:
            d.path(ref.key).unlink()
    keep = [x for x in d.logs if not stop <= x.delivered < restart]
    seg1 = [x for x in keep if x.delivered < stop]
    seg2 = [x for x in keep if x.delivered >= restart]
    common = dict(
        account=ACCOUNT,
        region=region,
        trail_name=TRAIL,
        home_region=REGION,
        bucket=BUCKET,
        offset=0,
        private_key=aws_key(),
    )
    first = dg.build_chain(d.bucket_root, seg1, start=T0, end=stop, **common)  # type: ignore[arg-type]
    end2 = max([x.delivered for x in seg2] + [restart + HOUR])
    second = dg.build_chain(d.bucket_root, seg2, start=restart, end=end2, **common)  # type: ignore[arg-type]
    d.chains = [first, second]
    d.logs = keep
    d.write_signatures()


def keys_document(
    public_key: rsa.RSAPublicKey,
    *,
    spki: bool = False,
    fingerprint: str | None = None,
    value: bytes | None = None,
) -> dict[str, Any]:
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo if spki else serialization.PublicFormat.PKCS1
    der = public_key.public_bytes(serialization.Encoding.DER, fmt)
    shown = value if value is not None else der
    return {
        "PublicKeyList": [
            {
                "Value": base64.b64encode(shown).decode(),
                "ValidityStartTime": "2026-03-01T00:00:00Z",
                "ValidityEndTime": "2026-04-01T00:00:00Z",
                "Fingerprint": fingerprint or hashlib.md5(der).hexdigest(),
            }
        ]
    }


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def backfill(d: Dump) -> tuple[dg.LogRef, dg.Digest]:
    """A log the hourly digest missed, listed by a backfill digest (its signature entry is the caller's)."""
    late = write_log(d.bucket_root, T0 + HOUR + 3000, tag="late")
    back = dg.write_digest(
        d.bucket_root,
        account=ACCOUNT,
        region=REGION,
        trail_name=TRAIL,
        home_region=REGION,
        bucket=BUCKET,
        start=T0 + HOUR,
        end=T0 + 2 * HOUR,
        logs=[late],
        private_key=aws_key(),
        previous=None,
        backfill=True,
    )
    return late, back


def kinds(r: VerifyReport, severity: str | None = None) -> list[str]:
    """The kinds of a report's findings (of one severity), sorted."""
    return sorted(f.kind for f in r.findings if severity is None or f.severity == severity)


def only(r: VerifyReport, kind: str) -> Finding:
    """The one finding of ``kind`` (fails when there are none or several)."""
    (f,) = r.by_kind(kind)
    return f
