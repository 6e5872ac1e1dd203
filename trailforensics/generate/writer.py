"""Object keys and byte-exact, deterministic gzip files (one member, mtime 0)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from trailforensics.generate.delivery import Batch
from trailforensics.generate.model import JSON
from trailforensics.generate.timeutil import compact_min, date_path

try:  # python-isal is several times faster than zlib at level 1
    from isal import igzip as _igzip

    def gzip_bytes(data: bytes) -> bytes:
        """One gzip member, header mtime 0, so equal input gives equal bytes."""
        return _igzip.compress(data, compresslevel=1, mtime=0)

    GZIP_BACKEND = "isal"
except ImportError:  # pragma: no cover - isal is a declared dependency
    import gzip as _gzip

    def gzip_bytes(data: bytes) -> bytes:
        """One gzip member, header mtime 0, so equal input gives equal bytes."""
        return _gzip.compress(data, compresslevel=1, mtime=0)

    GZIP_BACKEND = "zlib"


@dataclass(frozen=True)
class FileMeta:
    key: str  # object key inside the bucket, "/"-separated
    account: str
    region: str
    delivered: int
    oldest: int
    newest: int
    records: int
    size: int  # compressed bytes on disk
    sha256: str  # hex SHA-256 of the uncompressed JSON
    kind: str = "CloudTrail"


def account_root(account: str, org_id: str | None, prefix: str = "") -> str:
    parts = [prefix.strip("/")] if prefix else []
    parts.append("AWSLogs")
    if org_id:
        parts.append(org_id)
    parts.append(account)
    return "/".join(parts)


def log_key(
    account: str,
    region: str,
    delivered: int,
    rand16: str,
    *,
    org_id: str | None = None,
    kind: str = "CloudTrail",
    prefix: str = "",
) -> str:
    """``[prefix/]AWSLogs/[o-id/]acct/<kind>/region/Y/M/D/acct_<kind>_region_YYYYMMDDTHHmmZ_rand.json.gz``."""
    return (
        f"{account_root(account, org_id, prefix)}/{kind}/{region}/{date_path(delivered)}/"
        f"{account}_{kind}_{region}_{compact_min(delivered)}_{rand16}.json.gz"
    )


def dump_records(records: list[JSON]) -> bytes:
    return orjson.dumps({"Records": records})


def write_object(root: Path, key: str, data: bytes) -> int:
    path = root.joinpath(*key.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    return len(data)


def write_batch(
    root: Path, batch: Batch, *, org_id: str | None = None, kind: str = "CloudTrail", prefix: str = ""
) -> FileMeta:
    """Serialise, gzip and write one delivery; returns its metadata (for digests)."""
    key = log_key(batch.account, batch.region, batch.delivered, batch.name, org_id=org_id, kind=kind, prefix=prefix)
    raw = dump_records(batch.records)
    size = write_object(root, key, gzip_bytes(raw))
    return FileMeta(
        key=key,
        account=batch.account,
        region=batch.region,
        delivered=batch.delivered,
        oldest=batch.oldest,
        newest=batch.newest,
        records=len(batch.records),
        size=size,
        sha256=hashlib.sha256(raw).hexdigest(),
        kind=kind,
    )


def tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    return total
