"""Reading digest files and checking them one by one: format, location, signature.

The string to sign is rebuilt from the digest's own fields and the SHA-256 of its exact
decompressed bytes (never re-serialised JSON)::

    digestEndTime \\n digestS3Bucket/digestS3Object \\n sha256(uncompressed) \\n
    previousDigestSignature or 'null'

and checked with RSASSA-PKCS1-v1_5 and SHA-256, pinned: the hash is never inferred from the
signature (awscli's python-rsa does), and any other declared algorithm is refused.
"""

from __future__ import annotations

import calendar
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from trailforensics.readers.decompress import DecompressError, gunzip_strict
from trailforensics.verify import model as m
from trailforensics.verify.keys import Keyring, PublicKey
from trailforensics.verify.paths import (
    DigestName,
    TreeFile,
    epoch,
    guess_root,
    join,
    local_root,
    parse_digest_key,
)

REQUIRED = (
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
)  # the six awscli insists on
SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"
MAX_DIGEST_BYTES = 256 << 20
KEY_VALIDITY_SLACK = 2 * 3600  # digests are signed just after their end (awscli's rotation fix: aws-cli#10073)
BACKFILL_KEY_SLACK = 3600  # awscli looks a backfill digest's key up within its generation time +- 1 h
UNCHECKED = (m.SIG_UNCHECKED_NO_KEYS, m.SIG_UNCHECKED_NO_SIGNATURE)
CLOUDTRAIL_EPOCH = 1_383_264_000  # 2013-11-01: nothing CloudTrail wrote is older
MAX_WINDOW = 2 * 86400  # digests are hourly: a longer window is not CloudTrail's


def parse_time(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if (
        len(text) == 20
        and text[4] == "-"
        and text[7] == "-"
        and text[10] == "T"
        and text[13] == ":"
        and text[16] == ":"
        and text[19] == "Z"
    ):
        digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
        if digits.isdigit():
            return epoch(
                int(text[0:4]),
                int(text[5:7]),
                int(text[8:10]),
                int(text[11:13]),
                int(text[14:16]),
                int(text[17:19]),
            )
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return calendar.timegm(time.strptime(text, fmt))
        except ValueError:
            continue
    return None


@dataclass
class Digest:
    file: TreeFile
    sha256: str | None = None  # of the decompressed bytes
    doc: dict[str, Any] | None = None
    key: str = ""  # digestS3Object (the claimed key), else the found path
    bucket: str | None = None  # digestS3Bucket
    name: DigestName | None = None
    root: str | None = None  # tree-relative bucket root when found where it claims to be
    start: int | None = None
    end: int | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (finding kind, reason)
    signature: str = ""  # signature status (model.SIG_*)
    signature_note: str = ""
    successors: list[Digest] = field(default_factory=list)  # digests naming it as previous (2+: a fork)
    predecessor: Digest | None = None
    chain: str | None = None
    primary: bool = True  # False for a second copy of the same claimed key
    metadata_signature: str | None = None
    metadata_algorithm: str | None = None
    metadata_backfill: str | None = None  # backfill-generation-timestamp as given (None: absent)
    backfill_generated: int | None = None
    has_metadata: bool = False  # an entry of --signatures matched it

    @property
    def rel(self) -> str:
        return self.file.rel

    @property
    def proven(self) -> bool:
        """Every check passed: only such a digest vouches for the logs it lists."""
        return self.signature == m.SIG_VALID and not self.problems

    @property
    def sound(self) -> bool:
        """No check failed (its signature may be unchecked): it may set its chain's extent."""
        return not self.problems and self.signature in (m.SIG_VALID, *UNCHECKED)

    @property
    def aliases(self) -> list[str]:
        """The object keys it may be named by: its digestS3Object; for a digest that cannot be
        read, its path minus any leading folders (the bucket folder is not known)."""
        if self.doc is not None:
            return [self.key]
        parts = self.rel.split("/")
        return ["/".join(parts[i:]) for i in range(len(parts)) if "AWSLogs" in parts[i:]]

    @property
    def successor(self) -> Digest | None:
        return self.successors[0] if self.successors else None

    @property
    def readable(self) -> bool:
        return self.doc is not None

    def field(self, name: str) -> Any:
        return self.doc.get(name) if self.doc else None

    @property
    def prev_key(self) -> str | None:
        v = self.field("previousDigestS3Object")
        return v if isinstance(v, str) and v else None

    @property
    def fingerprint(self) -> str:
        return str(self.field("digestPublicKeyFingerprint") or "").lower()

    @property
    def backfill(self) -> bool:
        return bool(self.name and self.name.backfill)

    @property
    def bucket_root(self) -> str:
        """Where its bucket is in the tree (a guess when the digest was moved)."""
        return self.root if self.root is not None else guess_root(self.rel)

    @property
    def scope(self) -> str | None:
        return join(self.bucket_root, self.name.log_scope()) if self.name else None

    def local_path(self) -> str:
        return self.rel


def read_digest(tree_root: Path, f: TreeFile, top_folders: frozenset[str]) -> Digest:
    d = Digest(file=f)
    path = tree_root.joinpath(*f.rel.split("/"))
    d.key = f.rel
    try:
        if f.size > MAX_DIGEST_BYTES:
            raise DecompressError(f"{f.size:,} bytes: too large for a digest file")
        raw = gunzip_strict(path.read_bytes(), MAX_DIGEST_BYTES)
    except (DecompressError, OSError) as exc:
        d.problems.append((m.DIGEST_INVALID_FORMAT, f"cannot read the digest: {exc}"))
        return _named_by_path(d)
    d.sha256 = hashlib.sha256(raw).hexdigest()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        doc = None
        d.problems.append((m.DIGEST_INVALID_FORMAT, f"not JSON ({exc})"))
    if not isinstance(doc, dict):
        if doc is not None:
            d.problems.append((m.DIGEST_INVALID_FORMAT, "not a JSON object"))
        return _named_by_path(d)
    d.doc = doc
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        d.problems.append((m.DIGEST_INVALID_FORMAT, f"missing required fields: {', '.join(missing)}"))
    key = doc.get("digestS3Object")
    d.bucket = doc.get("digestS3Bucket") if isinstance(doc.get("digestS3Bucket"), str) else None
    if isinstance(key, str) and key:
        d.key = key
        d.name = parse_digest_key(key)
        if d.name is None:
            d.problems.append((m.DIGEST_INVALID_FORMAT, f"digestS3Object is not a digest object key: {key!r}"))
    if d.name is None:
        d.name = parse_digest_key(f.rel[f.rel.find("AWSLogs/") :] if "AWSLogs/" in f.rel else f.rel)
    d.start = parse_time(doc.get("digestStartTime"))
    d.end = parse_time(doc.get("digestEndTime"))
    if d.start is None or d.end is None:
        d.problems.append((m.DIGEST_INVALID_FORMAT, "digestStartTime/digestEndTime are not ISO 8601 UTC times"))
    elif d.name and d.name.end != d.end:
        d.problems.append(
            (
                m.DIGEST_INVALID_FORMAT,
                f"the time in its key differs from digestEndTime ({doc.get('digestEndTime')})",
            )
        )
    if d.end is None and d.name:
        d.end = d.name.end
    algo = doc.get("digestSignatureAlgorithm")
    if algo is not None and algo != SIGNATURE_ALGORITHM:
        d.problems.append(
            (
                m.DIGEST_SIGNATURE_INVALID,
                f"digestSignatureAlgorithm is {algo!r}: only {SIGNATURE_ALGORITHM} is accepted",
            )
        )
    if not isinstance(doc.get("logFiles", []), list):
        d.problems.append((m.DIGEST_INVALID_FORMAT, "logFiles is not a list"))
    # where it was found against where it says it is
    if isinstance(key, str) and key:
        d.root = local_root(f.rel, key)
        if d.root is None:
            d.problems.append((m.DIGEST_MOVED, f"found at {f.rel}, but its digestS3Object is {key}"))
        elif d.bucket and d.bucket in top_folders and d.root.split("/", 1)[0] != d.bucket:
            d.problems.append(
                (
                    m.DIGEST_MOVED,
                    f"found in bucket folder {d.root.split('/', 1)[0]}, but its "
                    f"digestS3Bucket is {d.bucket} (also a folder of the tree)",
                )
            )
            d.root = None
    return d


def _named_by_path(d: Digest) -> Digest:
    """An unreadable digest still takes its place in its chain, by the end time in its path
    (so that it is reported invalid, not also missing)."""
    rel = d.file.rel
    d.name = parse_digest_key(rel[rel.find("AWSLogs/") :] if "AWSLogs/" in rel else rel)
    if d.name is not None:
        d.end = d.name.end
    return d


def check_times(d: Digest, latest: int) -> None:
    """A digest whose signature is not proven cannot claim any time: its window must lie between
    CloudTrail's start and `latest` (now, or the newest proven digest), and last about an hour."""
    if d.signature == m.SIG_VALID or d.end is None:
        return
    times = [t for t in (d.start, d.end) if t is not None]
    if any(t < CLOUDTRAIL_EPOCH or t > latest for t in times):
        d.problems.append(
            (
                m.DIGEST_INVALID_FORMAT,
                f"its window ({m.iso(d.start)} to {m.iso(d.end)}) is implausible: before CloudTrail existed or "
                f"after {m.iso(latest)}",
            )
        )
    elif d.start is not None and not 0 <= d.end - d.start <= MAX_WINDOW:
        d.problems.append(
            (
                m.DIGEST_INVALID_FORMAT,
                f"its window ({m.iso(d.start)} to {m.iso(d.end)}) is implausible for an hourly digest",
            )
        )


def string_to_sign(d: Digest) -> bytes:
    doc = d.doc or {}
    prev = doc.get("previousDigestSignature")
    return (
        f"{doc.get('digestEndTime')}\n{doc.get('digestS3Bucket')}/{doc.get('digestS3Object')}\n"
        f"{d.sha256}\n{prev or 'null'}"
    ).encode()


def verify_signature(key: PublicKey, data: bytes, signature_hex: str) -> bool:
    try:
        sig = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    try:
        key.key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def check_signature(d: Digest, ring: Keyring) -> None:
    """Set d.signature (and add problems) from the signatures known for it."""
    if not d.readable or d.sha256 is None:
        d.signature = m.SIG_INVALID
        return
    sources: list[tuple[str, str]] = []
    for succ in d.successors:
        succ_sig = succ.field("previousDigestSignature")
        if isinstance(succ_sig, str) and succ_sig and all(s != succ_sig for _, s in sources):
            sources.append((f"previousDigestSignature of its successor {succ.key.rsplit('/', 1)[-1]}", succ_sig))
    if d.metadata_signature:
        if d.metadata_algorithm and d.metadata_algorithm != SIGNATURE_ALGORITHM:
            d.problems.append(
                (
                    m.DIGEST_SIGNATURE_INVALID,
                    f"its S3 metadata declares signature-algorithm {d.metadata_algorithm!r}: only "
                    f"{SIGNATURE_ALGORITHM} is accepted",
                )
            )
        if all(s != d.metadata_signature for _, s in sources):
            sources.append(("the signature from its S3 metadata (--signatures)", d.metadata_signature))
    if not ring.supplied:
        d.signature = m.SIG_UNCHECKED_NO_KEYS
        d.signature_note = "no public keys supplied"
        return
    keys = ring.keys.get(d.fingerprint, [])
    if not keys:
        d.signature = m.SIG_NO_KEY
        rejected = [r for r in ring.rejected if r[1] == d.fingerprint]
        why = f" (a key stating that fingerprint was refused: {rejected[0][2]})" if rejected else ""
        d.problems.append(
            (
                m.DIGEST_NO_PUBLIC_KEY,
                f"no supplied public key has its fingerprint {d.fingerprint or '(none)'}{why}",
            )
        )
        return
    if not sources:
        d.signature = m.SIG_UNCHECKED_NO_SIGNATURE
        d.signature_note = "newest digest of its chain and no signature for it in --signatures"
        return
    data = string_to_sign(d)
    failed: list[str] = []
    good: PublicKey | None = None
    succeeded: list[str] = []
    for label, sig in sources:
        ok = next((k for k in keys if verify_signature(k, data, sig)), None)
        if ok is None:
            failed.append(label)
        else:
            succeeded.append(label)
            good = ok
    if len(d.successors) > 1 and any(s.startswith("previousDigestSignature") for s in succeeded):
        # a fork: a forged successor may carry anything; one genuine successor's signature suffices
        failed = [f for f in failed if not f.startswith("previousDigestSignature")]
    if failed:
        d.signature = m.SIG_INVALID
        d.problems.append(
            (
                m.DIGEST_SIGNATURE_INVALID,
                "signature does not verify with public key " + d.fingerprint + ": " + "; ".join(failed),
            )
        )
        return
    d.signature = m.SIG_VALID
    assert good is not None
    _check_key_validity(d, keys)


def _check_key_validity(d: Digest, keys: list[PublicKey]) -> None:
    """The key must have been valid when the digest was signed (reference 4.4): standard digests
    just after their window, backfill digests at their generation time (S3 metadata) +- 1 h."""
    window = _backfill_window(d) if d.backfill else _standard_window(d)
    if window is None:
        return
    lo, hi = window
    if not any(_overlaps(k, lo, hi) for k in keys):
        when = f"{m.iso(lo)} to {m.iso(hi)}" if hi is not None else f"any time after {m.iso(lo)}"
        d.problems.append(
            (m.DIGEST_KEY_NOT_VALID, f"signed by key {d.fingerprint}, whose validity period does not cover {when}")
        )


def _standard_window(d: Digest) -> tuple[int, int | None] | None:
    if d.end is None:
        return None
    return (d.start if d.start is not None else d.end - 3600), d.end + KEY_VALIDITY_SLACK


def _backfill_window(d: Digest) -> tuple[int, int | None] | None:
    """When a backfill digest was signed; None (with a problem) when its metadata cannot say."""
    if d.has_metadata and d.metadata_backfill is None:
        # awscli: a backfill digest without this metadata is "invalid format"
        d.problems.append(
            (
                m.DIGEST_INVALID_FORMAT,
                "backfill digest without the backfill-generation-timestamp of its S3 metadata in --signatures "
                "(awscli: invalid format)",
            )
        )
        return None
    if d.has_metadata and d.backfill_generated is None:
        d.problems.append(
            (
                m.DIGEST_INVALID_FORMAT,
                f"backfill-generation-timestamp {d.metadata_backfill!r} in its S3 metadata is not a time",
            )
        )
        return None
    if d.backfill_generated is not None:
        return d.backfill_generated - BACKFILL_KEY_SLACK, d.backfill_generated + BACKFILL_KEY_SLACK
    # no metadata (signature from its successor): generated after its window, the key was valid then or later
    return (d.end, None) if d.end is not None else None


def _overlaps(key: PublicKey, lo: int, hi: int | None) -> bool:
    if key.valid_from is not None and hi is not None and hi < key.valid_from:
        return False
    return not (key.valid_to is not None and lo > key.valid_to)
