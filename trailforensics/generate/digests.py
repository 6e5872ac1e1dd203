"""CloudTrail digest files (log file integrity validation), faithful to
``shared/reference/digest-validation.md``.

Reusable pieces, for the generator and for tests that tamper with trees:

* :func:`digest_key` - the object key of a digest (``..._backfill.json.gz`` with ``backfill=True``).
* :func:`write_digest` - build, sign and write ONE digest given its window, the log
  files it references (:class:`LogRef`) and its predecessor (a :class:`Digest`, or
  None for a chain start whose ``previousDigest*`` fields are null).  Returns a
  :class:`Digest` with the uncompressed bytes, their SHA-256 and the hex signature
  (what S3 keeps in ``x-amz-meta-signature``).
* :func:`build_chain` - hourly digests from ``start`` to ``end`` for one
  (account, region, trail), each referencing the logs *delivered* in its window,
  empty digests (``logFiles: []``) included, linked through
  ``previousDigestSignature`` / ``previousDigestHashValue``.  Call it again with
  ``previous=None`` to model a restarted chain (StopLogging/StartLogging).
* :func:`resign_digest` - rewrite a digest on disk after mutating its JSON and
  sign it again (forged-but-valid digests, moved digests...).
* :func:`sign` / :func:`string_to_sign` / :func:`fingerprint` - the primitives:
  RSASSA-PKCS1-v1_5 with SHA-256 over
  ``f"{digestEndTime}\\n{digestS3Bucket}/{digestS3Object}\\n{sha256(uncompressed)}\\n"``
  ``f"{previousDigestSignature or 'null'}"``;
  the fingerprint is the lowercase hex MD5 of the DER (PKCS#1) public key.
* :func:`public_keys_document` / :func:`write_verification` - the
  ``aws cloudtrail list-public-keys`` JSON and the ``{object key: signature}`` map
  of the newest digest of each chain (``aws s3 sync`` does not keep S3 metadata).

Digests hash the UNCOMPRESSED bytes of logs and of the previous digest.  No
private key is ever written to disk.
"""

from __future__ import annotations

import base64
import bisect
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from trailforensics.generate.timeutil import compact_sec, date_path, iso, parse_iso
from trailforensics.generate.writer import FileMeta, account_root, gzip_bytes, write_object

HOUR = 3600


@dataclass(frozen=True)
class LogRef:
    key: str
    sha256: str
    oldest: int
    newest: int
    delivered: int

    @classmethod
    def from_meta(cls, m: FileMeta) -> LogRef:
        return cls(m.key, m.sha256, m.oldest, m.newest, m.delivered)


@dataclass
class Digest:
    key: str
    bucket: str
    start: int
    end: int
    raw: bytes
    sha256: str
    signature: str
    logs: list[str] = field(default_factory=list)
    backfill: bool = False


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_der(public_key: rsa.RSAPublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def fingerprint(public_key: rsa.RSAPublicKey) -> str:
    return hashlib.md5(public_der(public_key)).hexdigest()


def digest_key(
    account: str,
    region: str,
    trail_name: str,
    home_region: str,
    end: int,
    *,
    org_id: str | None = None,
    prefix: str = "",
    backfill: bool = False,
) -> str:
    suffix = "_backfill" if backfill else ""
    return (
        f"{account_root(account, org_id, prefix)}/CloudTrail-Digest/{region}/{date_path(end)}/"
        f"{account}_CloudTrail-Digest_{region}_{trail_name}_{home_region}_{compact_sec(end)}{suffix}.json.gz"
    )


def string_to_sign(end_time: str, bucket: str, key: str, sha256_hex: str, previous_signature: str | None) -> bytes:
    return f"{end_time}\n{bucket}/{key}\n{sha256_hex}\n{previous_signature or 'null'}".encode()


def sign(private_key: rsa.RSAPrivateKey, data: bytes) -> str:
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()


def digest_document(
    *,
    account: str,
    bucket: str,
    key: str,
    start: int,
    end: int,
    public_fp: str,
    logs: list[LogRef],
    log_bucket: str,
    previous: Digest | None,
) -> dict[str, Any]:
    """The digest JSON, keys in the order AWS writes them."""
    return {
        "awsAccountId": account,
        "digestStartTime": iso(start),
        "digestEndTime": iso(end),
        "digestS3Bucket": bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": public_fp,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": iso(max(x.newest for x in logs)) if logs else None,
        "oldestEventTime": iso(min(x.oldest for x in logs)) if logs else None,
        "previousDigestS3Bucket": previous.bucket if previous else None,
        "previousDigestS3Object": previous.key if previous else None,
        "previousDigestHashValue": previous.sha256 if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous.signature if previous else None,
        "logFiles": [
            {
                "s3Bucket": log_bucket,
                "s3Object": x.key,
                "hashValue": x.sha256,
                "hashAlgorithm": "SHA-256",
                "newestEventTime": iso(x.newest),
                "oldestEventTime": iso(x.oldest),
            }
            for x in sorted(logs, key=lambda x: (x.delivered, x.key))
        ],
    }


def _sign_and_write(
    root: Path,
    doc: dict[str, Any],
    private_key: rsa.RSAPrivateKey,
    *,
    start: int,
    end: int,
    logs: list[str],
    backfill: bool,
) -> Digest:
    raw = orjson.dumps(doc)
    sha = hashlib.sha256(raw).hexdigest()
    sig = sign(
        private_key,
        string_to_sign(
            doc["digestEndTime"],
            doc["digestS3Bucket"],
            doc["digestS3Object"],
            sha,
            doc["previousDigestSignature"],
        ),
    )
    write_object(root, doc["digestS3Object"], gzip_bytes(raw))
    return Digest(doc["digestS3Object"], doc["digestS3Bucket"], start, end, raw, sha, sig, logs, backfill)


def write_digest(
    root: Path,
    *,
    account: str,
    region: str,
    trail_name: str,
    home_region: str,
    bucket: str,
    start: int,
    end: int,
    logs: list[LogRef],
    private_key: rsa.RSAPrivateKey,
    previous: Digest | None,
    org_id: str | None = None,
    prefix: str = "",
    backfill: bool = False,
    log_bucket: str | None = None,
) -> Digest:
    """Build, sign and write one digest file under `root` (the synced bucket folder)."""
    key = digest_key(account, region, trail_name, home_region, end, org_id=org_id, prefix=prefix, backfill=backfill)
    doc = digest_document(
        account=account,
        bucket=bucket,
        key=key,
        start=start,
        end=end,
        public_fp=fingerprint(private_key.public_key()),
        logs=logs,
        log_bucket=log_bucket or bucket,
        previous=previous,
    )
    return _sign_and_write(root, doc, private_key, start=start, end=end, logs=[x.key for x in logs], backfill=backfill)


def hourly_windows(start: int, end: int, offset: int) -> list[tuple[int, int]]:
    """[start, b1), [b1, b1+1h) ... until a window ends at or after `end`.

    Boundaries are `offset` seconds past each hour."""
    first = ((start - offset) // HOUR + 1) * HOUR + offset
    if first - start < 300:
        first += HOUR
    out = [(start, first)]
    while out[-1][1] < end:
        s = out[-1][1]
        out.append((s, s + HOUR))
    return out


def build_chain(
    root: Path,
    logs: Iterable[LogRef],
    *,
    account: str,
    region: str,
    trail_name: str,
    home_region: str,
    bucket: str,
    start: int,
    end: int,
    offset: int,
    private_key: rsa.RSAPrivateKey,
    previous: Digest | None = None,
    org_id: str | None = None,
    prefix: str = "",
    log_bucket: str | None = None,
) -> list[Digest]:
    """Hourly digests for one (account, region, trail) from `start` to `end`.

    Each log goes to the window containing its delivery time (logs delivered
    outside [start, last window end) are ignored).  `previous=None` starts a
    new chain (null ``previousDigest*``)."""
    windows = hourly_windows(start, end, offset)
    buckets: list[list[LogRef]] = [[] for _ in windows]
    ends = [w[1] for w in windows]
    for x in logs:
        if x.delivered < start:
            continue
        i = bisect.bisect_right(ends, x.delivered)
        if i < len(windows):
            buckets[i].append(x)
    chain: list[Digest] = []
    prev = previous
    for (s, e), refs in zip(windows, buckets, strict=True):
        prev = write_digest(
            root,
            account=account,
            region=region,
            trail_name=trail_name,
            home_region=home_region,
            bucket=bucket,
            start=s,
            end=e,
            logs=refs,
            private_key=private_key,
            previous=prev,
            org_id=org_id,
            prefix=prefix,
            log_bucket=log_bucket,
        )
        chain.append(prev)
    return chain


def read_digest(root: Path, key: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(root.joinpath(*key.split("/")).read_bytes()))
    return data


def resign_digest(
    root: Path,
    key: str,
    private_key: rsa.RSAPrivateKey,
    mutate: Callable[[dict[str, Any]], None] | None = None,
    *,
    new_key: str | None = None,
) -> Digest:
    """Load digest `key`, apply `mutate` to its JSON, optionally move it to `new_key`
    (updating ``digestS3Object``), sign it again and write it.  Returns the new Digest."""
    doc = read_digest(root, key)
    if mutate is not None:
        mutate(doc)
    if new_key is not None and new_key != key:
        doc["digestS3Object"] = new_key
        root.joinpath(*key.split("/")).unlink()
    return _sign_and_write(
        root,
        doc,
        private_key,
        start=parse_iso(doc["digestStartTime"]),
        end=parse_iso(doc["digestEndTime"]),
        logs=[f["s3Object"] for f in doc["logFiles"]],
        backfill=doc["digestS3Object"].endswith("_backfill.json.gz"),
    )


def public_keys_document(public_key: rsa.RSAPublicKey, valid_from: int, valid_to: int) -> dict[str, Any]:
    """The shape `aws cloudtrail list-public-keys` prints."""
    der = public_der(public_key)
    return {
        "PublicKeyList": [
            {
                "Value": base64.b64encode(der).decode(),
                "ValidityStartTime": iso(valid_from),
                "ValidityEndTime": iso(valid_to),
                "Fingerprint": hashlib.md5(der).hexdigest(),
            }
        ]
    }


def newest_signatures(chains: Iterable[list[Digest]]) -> dict[str, str]:
    """{object key: signature} of the newest digest of each chain."""
    return {c[-1].key: c[-1].signature for c in chains if c}


def write_verification(
    out: Path,
    public_key: rsa.RSAPublicKey,
    signatures: dict[str, str],
    valid_from: int,
    valid_to: int,
    subdir: str = "_verification",
) -> tuple[Path, Path]:
    """Write ``public-keys.json`` and ``digest-signatures.json`` outside the AWSLogs tree."""
    d = out / subdir
    d.mkdir(parents=True, exist_ok=True)
    pk = d / "public-keys.json"
    pk.write_bytes(
        orjson.dumps(public_keys_document(public_key, valid_from, valid_to), option=orjson.OPT_INDENT_2) + b"\n"
    )
    sg = d / "digest-signatures.json"
    sg.write_bytes(orjson.dumps(dict(sorted(signatures.items())), option=orjson.OPT_INDENT_2) + b"\n")
    return pk, sg
