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
    backfill_generated: int | None = None

    @property
    def rel(self) -> str:
        return self.file.rel

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
        d.name = parse_digest_key(f.rel[f.rel.find("AWSLogs/") :] if "AWSLogs/" in f.rel else f.rel)
        return d
    d.sha256 = hashlib.sha256(raw).hexdigest()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        doc = None
        d.problems.append((m.DIGEST_INVALID_FORMAT, f"not JSON ({exc})"))
    if not isinstance(doc, dict):
        if doc is not None:
            d.problems.append((m.DIGEST_INVALID_FORMAT, "not a JSON object"))
        d.name = parse_digest_key(f.rel[f.rel.find("AWSLogs/") :] if "AWSLogs/" in f.rel else f.rel)
        return d
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
    when = d.backfill_generated if d.backfill else d.end
    if when is not None and not any(_covers(k, when) for k in keys):
        d.problems.append(
            (
                m.DIGEST_KEY_NOT_VALID,
                f"signed by key {d.fingerprint}, whose validity period does not cover {m.iso(when)}",
            )
        )


def _covers(key: PublicKey, when: int) -> bool:
    if key.valid_from is not None and when < key.valid_from - KEY_VALIDITY_SLACK:
        return False
    return not (key.valid_to is not None and when > key.valid_to + KEY_VALIDITY_SLACK)
