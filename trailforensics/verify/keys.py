"""Public keys (``aws cloudtrail list-public-keys`` output) and digest signatures (S3 metadata).

Public keys
    ``{"PublicKeyList": [{"Value": <base64 DER>, "ValidityStartTime", "ValidityEndTime",
    "Fingerprint"}, ...]}``; a bare list of such entries is accepted too.  The fingerprint is
    the lowercase hex MD5 of the DER bytes: it is recomputed and a key whose stated fingerprint
    differs from its bytes is refused.  DER may be PKCS#1 ``RSAPublicKey`` or
    SubjectPublicKeyInfo.  Keys are the trust anchor: they are only read from the files given,
    never picked up from the evidence tree.

Signatures (``aws s3 sync`` drops S3 object metadata, where the newest digest's signature lives)
    Each ``--signatures`` path is a JSON file or a folder of them (read recursively).  A file is:

    * a map ``{object key: signature}``: the key is the digest's ``digestS3Object``
      (``[prefix/]AWSLogs/...json.gz``), or ``bucket/key``, ``s3://bucket/key``, or its path
      relative to TREE; the value is the hex signature, or an object holding it (below);
    * a list of ``{"Key": ..., "Metadata": {...}}`` (or ``"Bucket"`` too);
    * the output of ``aws s3api head-object`` for ONE digest:
      ``{"Metadata": {"signature": ..., "signature-algorithm": "SHA256withRSA"}, ...}``.  It applies
      to the digest named by the file: the file name minus ``.json`` (and minus ``.head`` /
      ``.metadata`` / ``.meta`` before that) is the digest's file name, with or without its
      ``.json.gz`` (``<digest>.json.gz.json``, ``<digest>.head.json``...).  When several digests
      in the tree share that name (several buckets), the file's own path must end like the
      digest's path (mirror the bucket layout: ``<dir>/<bucket>/AWSLogs/.../<digest>.json``),
      otherwise it is reported as ambiguous and not used.  A ``"Key"`` (and ``"Bucket"``)
      member, when present, names the digest instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from trailforensics.errors import TrailforensicsError


class KeyFileError(TrailforensicsError, ValueError):
    """A key or signature file that cannot be read at all (the run stops)."""


@dataclass
class PublicKey:
    fingerprint: str
    key: rsa.RSAPublicKey
    valid_from: int | None
    valid_to: int | None
    source: str


@dataclass
class Keyring:
    keys: dict[str, list[PublicKey]] = field(default_factory=dict)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (source, stated fingerprint, reason)
    supplied: bool = False  # at least one key file was given

    def __len__(self) -> int:
        return sum(len(v) for v in self.keys.values())


_MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z
_MS_ABOVE = 100_000_000_000  # epoch numbers this large are milliseconds (year 5138 in seconds)


def _time(value: Any) -> int | None:
    """Epoch seconds from ISO 8601 text or an epoch number (seconds or milliseconds); None if neither."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _epoch_number(value)
    text = str(value).strip()
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return _epoch_number(float(text))
        except (ValueError, OverflowError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def _epoch_number(value: float) -> int | None:
    if value != value or abs(value) == float("inf"):  # NaN, infinities
        return None
    seconds = value / 1000 if abs(value) >= _MS_ABOVE else value
    return int(seconds) if -_MAX_EPOCH <= seconds <= _MAX_EPOCH else None


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")  # SEQUENCE { rsaEncryption, NULL }


def load_der_rsa(der: bytes) -> rsa.RSAPublicKey:
    """An RSA public key from DER: SubjectPublicKeyInfo or PKCS#1 RSAPublicKey."""
    try:
        key = serialization.load_der_public_key(der)
    except ValueError:
        # older cryptography releases only take SubjectPublicKeyInfo: wrap the PKCS#1 key
        bits = b"\x03" + _der_len(len(der) + 1) + b"\x00" + der
        body = _RSA_ALGORITHM + bits
        key = serialization.load_der_public_key(b"\x30" + _der_len(len(body)) + body)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"not an RSA key ({type(key).__name__})")
    return key


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise KeyFileError(f"{path} is not JSON ({exc})") from exc


def load_public_keys(paths: list[Path] | tuple[Path, ...]) -> Keyring:
    ring = Keyring(supplied=bool(paths))
    for path in paths:
        doc = _read_json(Path(path))
        entries = doc.get("PublicKeyList") if isinstance(doc, dict) else doc
        if isinstance(doc, dict) and entries is None and "Value" in doc:
            entries = [doc]
        if not isinstance(entries, list):
            raise KeyFileError(f"{path}: expected `aws cloudtrail list-public-keys` output (PublicKeyList)")
        for i, entry in enumerate(entries):
            source = f"{Path(path).name}[{i}]"
            if not isinstance(entry, dict):
                ring.rejected.append((source, "", "not an object"))
                continue
            stated = str(entry.get("Fingerprint") or "").strip().lower()
            try:
                der = base64.b64decode(str(entry.get("Value") or ""), validate=True)
            except (binascii.Error, ValueError):
                ring.rejected.append((source, stated, "Value is not base64"))
                continue
            actual = hashlib.md5(der).hexdigest()
            if not stated:
                ring.rejected.append((source, stated, f"no Fingerprint (its bytes hash to {actual})"))
                continue
            if stated != actual:
                ring.rejected.append(
                    (
                        source,
                        stated,
                        f"the MD5 of the key bytes is {actual}, not the stated "
                        f"fingerprint {stated}: key bytes altered or substituted",
                    )
                )
                continue
            try:
                key = load_der_rsa(der)
            except ValueError as exc:
                ring.rejected.append((source, stated, f"not a DER RSA public key ({exc})"))
                continue
            ring.keys.setdefault(actual, []).append(
                PublicKey(
                    actual,
                    key,
                    _time(entry.get("ValidityStartTime")),
                    _time(entry.get("ValidityEndTime")),
                    source,
                )
            )
    return ring


# -- signatures ------------------------------------------------------------------------------------
@dataclass
class SignatureEntry:
    signature: str
    algorithm: str | None
    source: str
    backfill_generated: int | None = None
    used: bool = False
    target: str = ""  # the digest it names: object key, bucket/key, tree path or file name
    backfill_raw: str | None = None  # backfill-generation-timestamp as given (None: absent)
    metadata: bool = False  # from S3 metadata (head-object shape), not a bare signature


@dataclass
class SignatureBook:
    by_key: dict[str, SignatureEntry] = field(default_factory=dict)  # object key, bucket/key or tree path
    by_name: dict[str, list[tuple[str, SignatureEntry]]] = field(default_factory=dict)  # file name -> (path, e)
    problems: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.by_key) + sum(len(v) for v in self.by_name.values())

    def entries(self) -> list[SignatureEntry]:
        return list(self.by_key.values()) + [e for v in self.by_name.values() for _, e in v]


def _entry(value: Any, source: str) -> SignatureEntry | None:
    if isinstance(value, str):
        return SignatureEntry(value.strip(), None, source)
    if isinstance(value, dict):
        meta: dict[str, Any] = value["Metadata"] if isinstance(value.get("Metadata"), dict) else value
        lowered = {str(k).lower().removeprefix("x-amz-meta-"): v for k, v in meta.items()}
        sig = lowered.get("signature")
        if isinstance(sig, str):
            algo = lowered.get("signature-algorithm")
            generated = lowered.get("backfill-generation-timestamp")
            return SignatureEntry(
                sig.strip(),
                str(algo) if algo is not None else None,
                source,
                _time(generated),
                backfill_raw=str(generated) if generated is not None else None,
                metadata=True,
            )
    return None


def _normalise_key(key: str) -> str:
    key = key.strip()
    return key[5:] if key.startswith("s3://") else key.lstrip("/")


_NAME_SUFFIXES = (".head", ".metadata", ".meta")


def _digest_name_for(file_name: str) -> str:
    stem = file_name[:-5] if file_name.endswith(".json") else file_name
    for suffix in _NAME_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem if stem.endswith(".json.gz") else stem + ".json.gz"


def _looks_like_head_object(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("Metadata"), dict) or any(
        k in doc for k in ("ETag", "ContentLength", "LastModified", "VersionId")
    )


def _add_doc(book: SignatureBook, doc: Any, path: Path, rel: str) -> None:
    source = str(path)
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            if not isinstance(item, dict) or not item.get("Key"):
                book.problems.append(f"{path}[{i}]: no Key")
                continue
            e = _entry(item, f"{source}[{i}]")
            if e is None:
                book.problems.append(f"{path}[{i}]: no signature in its Metadata")
                continue
            key = _normalise_key(str(item["Key"]))
            e.target = key
            book.by_key[f"{item['Bucket']}/{key}" if item.get("Bucket") else key] = e
        return
    if not isinstance(doc, dict):
        book.problems.append(f"{path}: neither a signature map nor head-object output")
        return
    if _looks_like_head_object(doc):
        e = _entry(doc, source)
        if e is None:
            book.problems.append(f"{path}: head-object output without Metadata.signature")
            return
        if doc.get("Key"):
            key = _normalise_key(str(doc["Key"]))
            e.target = key
            book.by_key[f"{doc['Bucket']}/{key}" if doc.get("Bucket") else key] = e
        else:
            e.target = _digest_name_for(path.name)
            book.by_name.setdefault(e.target, []).append((rel, e))
        return
    for key, value in doc.items():
        e = _entry(value, f"{source}:{key}")
        if e is None:
            book.problems.append(f"{path}: entry {key!r} has no signature")
            continue
        e.target = _normalise_key(str(key))
        book.by_key[e.target] = e


def load_signatures(paths: list[Path] | tuple[Path, ...]) -> SignatureBook:
    book = SignatureBook()
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*.json")):
                if f.is_file():
                    _add_doc(book, _read_json(f), f, f.relative_to(path).as_posix())
        else:
            _add_doc(book, _read_json(path), path, path.name)
    return book


def lookup_signature(
    book: SignatureBook, *, key: str, bucket: str | None, rel: str, same_name: int
) -> tuple[SignatureEntry | None, str | None]:
    """The entry for a digest, and a problem note (ambiguous head-object file) if any."""
    for candidate in (key, f"{bucket}/{key}" if bucket else None, rel):
        if candidate and candidate in book.by_key:
            return book.by_key[candidate], None
    name = key.rsplit("/", 1)[-1]
    found = book.by_name.get(name)
    if not found:
        return None, None
    matching = [e for frel, e in found if _mirrors(frel, rel, name)]
    if len(matching) == 1:
        return matching[0], None
    if not matching and len(found) == 1 and same_name == 1:
        return found[0][1], None
    return None, (
        f"signature file(s) for {name} are ambiguous: {same_name} digest(s) in the tree have that name "
        f"and {len(found)} head-object file(s) name it; mirror the bucket layout to say which"
    )


def _mirrors(frel: str, rel: str, name: str) -> bool:
    """A head-object file at `frel` (relative to its --signatures folder) mirrors the digest at `rel`."""
    if "/" not in frel:
        return False
    target = f"{frel.rsplit('/', 1)[0]}/{name}"
    return rel == target or rel.endswith("/" + target)
