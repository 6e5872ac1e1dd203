"""Tests of the synthetic CloudTrail generator and of the committed sample (sample_logs/)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib
import ipaddress
import json
import re
import zlib
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tools.sample import build_sample
from tools.sample import org as m
from tools.sample.readme import FACTS_BEGIN, FACTS_END
from trailforensics.generate import GenerateStats, generate_tree
from trailforensics.generate import digests as dg

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs"
BUCKETS = (m.ORG_BUCKET, m.AUDIT_BUCKET, m.S3_BUCKET)
LOG_RE = re.compile(
    r"^AWSLogs/(?:(o-[a-z0-9]{10,32})/)?(\d{12})/(CloudTrail|CloudTrail-Insight)/([a-z0-9-]+)/"
    r"(\d{4})/(\d{2})/(\d{2})/\2_\3_\4_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$"
)
DIGEST_RE = re.compile(
    r"^AWSLogs/(?:(o-[a-z0-9]{10,32})/)?(\d{12})/CloudTrail-Digest/([a-z0-9-]+)/"
    r"(\d{4})/(\d{2})/(\d{2})/\2_CloudTrail-Digest_\3_([\w.-]+)_([a-z0-9-]+)_(\d{8}T\d{6}Z)"
    r"(_backfill)?\.json\.gz$"
)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
AWS_ORDER = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "resources",
    "eventType",
    "apiVersion",
    "managementEvent",
    "recipientAccountId",
    "sharedEventID",
    "vpcEndpointId",
    "vpcEndpointAccountId",
    "serviceEventDetails",
    "eventCategory",
    "tlsDetails",
    "sessionCredentialFromConsole",
]
CORE = (
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "eventID",
    "eventType",
    "recipientAccountId",
    "eventCategory",
)
ALL_TYPES = {
    "IAMUser",
    "AssumedRole",
    "Root",
    "AWSService",
    "FederatedUser",
    "AWSAccount",
    "IdentityCenterUser",
    "SAMLUser",
    "WebIdentityUser",
}
MINTING = {
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
    "GetFederationToken",
}


# ----------------------------------------------------------------------------- helpers


def gunzip_one_member(path: Path) -> bytes:
    """Decompress, asserting exactly one gzip member and no trailing bytes."""
    data = path.read_bytes()
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    raw = d.decompress(data) + d.flush()
    assert d.eof and not d.unused_data, f"{path}: more than one gzip member or trailing data"
    return raw


def rel(root: Path, p: Path) -> str:
    return p.relative_to(root).as_posix()


def files_under(root: Path, kind: str) -> list[Path]:
    return sorted(p for p in root.rglob("*.json.gz") if f"/{kind}/" in p.as_posix())


def records(root: Path, kind: str = "CloudTrail") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in files_under(root, kind):
        out += json.loads(gunzip_one_member(p))["Records"]
    return out


def public_key(root: Path) -> Any:
    doc = json.loads((root / "_verification" / "public-keys.json").read_text())
    entry = doc["PublicKeyList"][0]
    der = base64.b64decode(entry["Value"])
    assert hashlib.md5(der).hexdigest() == entry["Fingerprint"]
    try:  # SubjectPublicKeyInfo or PKCS#1 RSAPublicKey, as the doc samples show both
        key = serialization.load_der_public_key(der)
    except ValueError:
        pem = b"-----BEGIN RSA PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END RSA PUBLIC KEY-----\n"
        key = serialization.load_pem_public_key(pem)
    return key, entry["Fingerprint"]


def verify_digests(bucket_root: Path, bucket: str, pub: Any, fp: str, sigs: dict[str, str]) -> dict[str, Any]:
    """Check every digest under `bucket_root` like an offline validator would; returns a report."""
    docs: dict[str, tuple[bytes, dict[str, Any]]] = {}
    for p in files_under(bucket_root, "CloudTrail-Digest"):
        key = rel(bucket_root, p)
        assert DIGEST_RE.match(key), key
        raw = gunzip_one_member(p)
        docs[key] = (raw, json.loads(raw))
    successor = {d["previousDigestS3Object"]: k for k, (_, d) in docs.items() if d["previousDigestS3Object"]}
    missing, starts, referenced = [], [], set()
    for key, (raw, d) in docs.items():
        assert list(d)[:6] == [
            "awsAccountId",
            "digestStartTime",
            "digestEndTime",
            "digestS3Bucket",
            "digestS3Object",
            "digestPublicKeyFingerprint",
        ]
        assert d["digestS3Bucket"] == bucket and d["digestS3Object"] == key
        assert d["digestPublicKeyFingerprint"] == fp and d["digestSignatureAlgorithm"] == "SHA256withRSA"
        assert key[-24:-8] == d["digestEndTime"].replace("-", "").replace(":", "")
        sig = sigs.get(key) or docs[successor[key]][1]["previousDigestSignature"]
        data = (
            f"{d['digestEndTime']}\n{bucket}/{key}\n{hashlib.sha256(raw).hexdigest()}\n"
            f"{d['previousDigestSignature'] or 'null'}"
        ).encode()
        pub.verify(bytes.fromhex(sig), data, padding.PKCS1v15(), hashes.SHA256())
        prev = d["previousDigestS3Object"]
        if prev is None:
            starts.append(key)
            assert all(
                d[f] is None
                for f in (
                    "previousDigestS3Bucket",
                    "previousDigestHashValue",
                    "previousDigestHashAlgorithm",
                    "previousDigestSignature",
                )
            )
        else:
            assert d["previousDigestHashValue"] == hashlib.sha256(docs[prev][0]).hexdigest()
            assert d["previousDigestHashAlgorithm"] == "SHA-256"
        if not d["logFiles"]:
            assert d["newestEventTime"] is None and d["oldestEventTime"] is None
        for lf in d["logFiles"]:
            referenced.add(lf["s3Object"])
            path = bucket_root / lf["s3Object"]
            if not path.exists():
                missing.append(lf["s3Object"])
                continue
            assert hashlib.sha256(gunzip_one_member(path)).hexdigest() == lf["hashValue"]
    logs = {rel(bucket_root, p) for p in files_under(bucket_root, "CloudTrail")}
    return {
        "digests": len(docs),
        "missing": missing,
        "starts": starts,
        "unreferenced": logs - referenced,
        "docs": docs,
    }


# ----------------------------------------------------------------------------- generated trees


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateStats, Any]:
    key = dg.new_private_key()
    out = tmp_path_factory.mktemp("tree")
    stats = generate_tree(
        out,
        events=20000,
        seed=11,
        org_id="o-abc123defg",
        digests=True,
        private_key=key,
        start=datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc),
        workers=2,
    )
    return out, stats, key


@pytest.fixture(scope="module")
def tree_records(tree: tuple[Path, GenerateStats, Any]) -> list[dict[str, Any]]:
    return records(tree[0])


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {rel(root, p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    kw: dict[str, Any] = {
        "events": 6000,
        "seed": 5,
        "accounts": ["111111111111", "222222222222", "333333333333"],
    }
    generate_tree(tmp_path / "a", workers=1, **kw)
    generate_tree(tmp_path / "b", workers=2, **kw)
    generate_tree(tmp_path / "c", workers=1, **kw)
    a, b, c = (_tree_bytes(tmp_path / x) for x in "abc")
    assert a == b == c and len(a) > 20
    generate_tree(tmp_path / "d", workers=1, **{**kw, "seed": 6})
    assert _tree_bytes(tmp_path / "d") != a


def test_event_count_and_stats(tree: tuple[Path, GenerateStats, Any], tree_records: list[dict[str, Any]]) -> None:
    out, stats, _ = tree
    assert abs(stats.events - 20000) / 20000 < 0.05
    assert len(tree_records) == stats.events
    assert stats.files == len(files_under(out, "CloudTrail"))
    assert stats.insight_files == len(files_under(out, "CloudTrail-Insight")) >= 2
    assert stats.digest_files == len(files_under(out, "CloudTrail-Digest")) > 0
    assert stats.start == datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc) and stats.end > stats.start
    assert stats.public_keys_path and stats.public_keys_path.is_file()
    assert stats.signatures_path and stats.signatures_path.is_file()


def test_layout_names_and_gzip(tree: tuple[Path, GenerateStats, Any]) -> None:
    out = tree[0]
    for p in sorted(out.rglob("*.json.gz")):
        key = rel(out, p)
        data = p.read_bytes()
        assert data[:3] == b"\x1f\x8b\x08" and data[4:8] == b"\0\0\0\0", "gzip header mtime must be 0"
        raw = gunzip_one_member(p)
        if "/CloudTrail-Digest/" in key:
            mt = DIGEST_RE.match(key)
            assert mt and mt.group(1) == "o-abc123defg" and mt.group(7) == "org-trail"
            continue
        mt = LOG_RE.match(key)
        assert mt, key
        org, acct, _kind, region, y, mo, d, stamp = mt.groups()
        assert org == "o-abc123defg" and stamp.startswith(f"{y}{mo}{d}")
        doc = json.loads(raw)
        assert list(doc) == ["Records"] and doc["Records"]
        assert raw.startswith(b'{"Records":[{"eventVersion"'), "compact JSON in AWS key order"
        for r in doc["Records"]:
            assert r["recipientAccountId"] == acct and r["awsRegion"] == region


def test_records_fields_order_and_ids(tree_records: list[dict[str, Any]]) -> None:
    order = {k: i for i, k in enumerate(AWS_ORDER)}
    ids = Counter()
    for r in tree_records:
        if r["eventType"] == "AwsCloudTrailInsight":
            continue
        for k in CORE:
            assert k in r, (k, r)
        known = [k for k in r if k in order]
        assert known == sorted(known, key=order.__getitem__), list(r)
        assert r["eventVersion"] in ("1.08", "1.09", "1.10", "1.11")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["eventTime"])
        assert UUID_RE.match(r["eventID"])
        ids[r["eventID"]] += 1
        if r["eventCategory"] == "Data":
            assert r["managementEvent"] is False and r["resources"]
        if r.get("errorCode"):
            assert r["responseElements"] is None
    assert max(ids.values()) == 1


def test_delivery_is_realistic(tree: tuple[Path, GenerateStats, Any]) -> None:
    unsorted = late = total = 0
    for p in files_under(tree[0], "CloudTrail"):
        recs = json.loads(gunzip_one_member(p))["Records"]
        times = [r["eventTime"] for r in recs]
        unsorted += times != sorted(times)
        stamp = LOG_RE.match(rel(tree[0], p)).group(8)  # type: ignore[union-attr]
        delivered = datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=timezone.utc)
        for t in times:
            total += 1
            age = (delivered - datetime.fromisoformat(t.replace("Z", "+00:00"))).total_seconds()
            assert age >= 0
            late += age > 600
    assert unsorted > 0
    assert 0.005 < late / total < 0.1


def test_identity_types_and_shapes(tree_records: list[dict[str, Any]]) -> None:
    by_type = defaultdict(list)
    for r in tree_records:
        if "userIdentity" in r:
            by_type[r["userIdentity"].get("type")].append(r)
    assert set(by_type) >= ALL_TYPES
    for r in by_type["AssumedRole"]:
        ui = r["userIdentity"]
        assert ui["accessKeyId"].startswith("ASIA") and len(ui["accessKeyId"]) == 20
        attrs = ui["sessionContext"]["attributes"]
        assert attrs["mfaAuthenticated"] in ("true", "false") and attrs["creationDate"] <= r["eventTime"]
        assert ui["sessionContext"]["sessionIssuer"]["type"] == "Role"
    assert any("ec2RoleDelivery" in r["userIdentity"]["sessionContext"] for r in by_type["AssumedRole"])
    assert any(r["userIdentity"]["sessionContext"]["webIdFederationData"] for r in by_type["AssumedRole"])
    assert any("sourceIdentity" in r["userIdentity"]["sessionContext"] for r in by_type["AssumedRole"])
    assert all("arn" not in r["userIdentity"] for r in by_type["AWSService"])
    assert all(
        r["userIdentity"]["onBehalfOf"]["identityStoreArn"].startswith("arn:aws:identitystore::")
        for r in by_type["IdentityCenterUser"]
    )
    iam_keys = {r["userIdentity"]["accessKeyId"] for r in by_type["IAMUser"]}
    assert any(k.startswith("AKIA") and len(k) == 20 for k in iam_keys)
    assert any(r.get("sharedEventID") for r in by_type["AWSAccount"])


def check_asia_minted(recs: list[dict[str, Any]]) -> int:
    minted: dict[str, str] = {}
    for r in recs:
        resp = r.get("responseElements")
        if r["eventSource"] == "sts.amazonaws.com" and r["eventName"] in MINTING and isinstance(resp, dict):
            minted[resp["credentials"]["accessKeyId"]] = r["eventTime"]
    console = 0
    for r in recs:
        key = r.get("userIdentity", {}).get("accessKeyId") or ""
        if not key.startswith("ASIA"):
            continue
        if key in minted:
            assert minted[key] <= r["eventTime"], (key, r["eventName"])
        else:
            assert r.get("sessionCredentialFromConsole") == "true", (key, r["userIdentity"])
            assert r["userIdentity"]["type"] in ("IAMUser", "Root")
            console += 1
    return len(minted)


_LOOKS_LIKE_AN_ADDRESS = re.compile(r"[0-9.]+|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*")


def test_every_source_address_is_a_valid_ip(tree_records: list[dict[str, Any]]) -> None:
    """Service names (``ec2.amazonaws.com``, ``AWS Internal``) are legitimate; anything that looks like an
    address must be one (no ``86.14.99`` with three octets)."""
    seen = Counter(r["sourceIPAddress"] for r in tree_records if isinstance(r.get("sourceIPAddress"), str))
    addresses = [ip for ip in seen if _LOOKS_LIKE_AN_ADDRESS.fullmatch(ip)]
    assert len(addresses) > 100  # the check reaches the users', runners' and AWS egress addresses
    bad = []
    for ip in addresses:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            bad.append(ip)
    assert bad == []
    others = {ip for ip in seen if ip not in addresses}
    assert others and all(ip == "AWS Internal" or ip.endswith(".amazonaws.com") for ip in others), sorted(others)[:5]


def test_asia_keys_are_minted_by_logged_sts_calls(tree_records: list[dict[str, Any]]) -> None:
    assert check_asia_minted(tree_records) > 50


def test_services_errors_and_type_conflicts(tree_records: list[dict[str, Any]]) -> None:
    sources = {r["eventSource"] for r in tree_records if "eventSource" in r}
    assert len(sources) >= 38
    errors = [r for r in tree_records if r.get("errorCode")]
    assert 0.03 < len(errors) / len(tree_records) < 0.08
    assert {"AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"} <= {r["errorCode"] for r in errors}
    types: dict[str, set[str]] = defaultdict(set)
    for r in tree_records:
        rp = r.get("requestParameters")
        if isinstance(rp, dict):
            for k in ("filter", "tags", "maxResults"):
                if k in rp:
                    types[k].add(type(rp[k]).__name__)
    assert {"str", "dict", "list"} <= types["filter"]
    assert {"dict", "list"} <= types["tags"]
    assert {"int", "str"} <= types["maxResults"]
    data = {(r["eventSource"], r["eventName"]) for r in tree_records if r.get("eventCategory") == "Data"}
    assert {
        ("s3.amazonaws.com", "GetObject"),
        ("lambda.amazonaws.com", "Invoke"),
        ("dynamodb.amazonaws.com", "GetItem"),
    } <= data
    get = next(r for r in tree_records if r["eventName"] == "GetObject" and not r.get("errorCode"))
    assert {x["type"] for x in get["resources"]} == {"AWS::S3::Object", "AWS::S3::Bucket"}
    assert {"bytesTransferredOut", "x-amz-id-2", "SignatureVersion", "CipherSuite"} <= set(get["additionalEventData"])
    logins = [r for r in tree_records if r["eventName"] == "ConsoleLogin"]
    assert logins and all(r["eventType"] == "AwsConsoleSignIn" for r in logins)
    assert all({"LoginTo", "MobileVersion", "MFAUsed"} <= set(r["additionalEventData"]) for r in logins)


def test_insights(tree: tuple[Path, GenerateStats, Any]) -> None:
    recs = records(tree[0], "CloudTrail-Insight")
    pairs = defaultdict(list)
    for r in recs:
        assert r["eventType"] == "AwsCloudTrailInsight" and r["eventCategory"] == "Insight"
        pairs[r["sharedEventID"]].append(r["insightDetails"]["state"])
    assert pairs and all(sorted(v) == ["End", "Start"] for v in pairs.values())


def test_digests_of_a_tree(tree: tuple[Path, GenerateStats, Any]) -> None:
    out, _, key = tree
    pub, fp = public_key(out)
    assert fp == dg.fingerprint(key.public_key())
    sigs = json.loads((out / "_verification" / "digest-signatures.json").read_text())
    report = verify_digests(out, "trailforensics-demo-bucket", pub, fp, sigs)
    assert not report["missing"] and not report["unreferenced"]
    assert set(sigs) == {
        k
        for k, (_, d) in report["docs"].items()
        if k not in {x["previousDigestS3Object"] for _, x in report["docs"].values()}
    }
    assert len(report["starts"]) == len(sigs)  # one chain per (account, region), each starting with nulls
    assert not any("PRIVATE" in p.read_text(errors="ignore") for p in (out / "_verification").iterdir())


def test_digest_helpers_support_tampering(tmp_path: Path) -> None:
    key = dg.new_private_key()
    logs = [
        dg.LogRef(
            f"AWSLogs/123456789012/CloudTrail/eu-west-1/2026/01/01/x{i}.json.gz",
            "ab" * 32,
            1767225600 + i * 600,
            1767225600 + i * 600,
            1767225900 + i * 600,
        )
        for i in range(12)
    ]
    chain = dg.build_chain(
        tmp_path,
        logs,
        account="123456789012",
        region="eu-west-1",
        trail_name="t",
        home_region="eu-west-1",
        bucket="b",
        start=1767225600,
        end=1767225600 + 3 * 3600,
        offset=900,
        private_key=key,
    )
    assert len(chain) >= 3 and chain[0].raw.count(b'"previousDigestS3Object":null') == 1
    assert sum(len(d.logs) for d in chain) == 12
    forged = dg.resign_digest(tmp_path, chain[1].key, key, lambda d: d["logFiles"].pop())
    pub = key.public_key()
    data = dg.string_to_sign(
        dg.read_digest(tmp_path, forged.key)["digestEndTime"],
        "b",
        forged.key,
        forged.sha256,
        chain[0].signature,
    )
    pub.verify(bytes.fromhex(forged.signature), data, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):  # the old signature no longer matches the rewritten digest
        pub.verify(bytes.fromhex(chain[1].signature), data, padding.PKCS1v15(), hashes.SHA256())
    back = dg.write_digest(
        tmp_path,
        account="123456789012",
        region="eu-west-1",
        trail_name="t",
        home_region="eu-west-1",
        bucket="b",
        start=chain[0].start,
        end=chain[0].end,
        logs=logs[:1],
        private_key=key,
        previous=None,
        backfill=True,
    )
    assert back.key.endswith("_backfill.json.gz") and DIGEST_RE.match(back.key)


def test_cli_generate(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import trailforensics.cli as cli

    cli._register_commands()
    importlib.import_module("trailforensics.cli.generate_cmd")  # registers `generate`
    name = ["generate"] if len(cli.app.registered_commands) > 1 else []  # a lone command runs unnamed
    result = CliRunner().invoke(
        cli.app,
        [
            *name,
            str(tmp_path / "o"),
            "--events",
            "1500",
            "--seed",
            "3",
            "--accounts",
            "111111111111,222222222222",
            "--org-id",
            "o-abcdefghij",
            "--start",
            "2026-02-01T10:00:00Z",
            "-j",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "log files" in result.output and "2026-02-01T10:00:00Z" in result.output
    keys = [rel(tmp_path / "o", p) for p in (tmp_path / "o").rglob("*.json.gz")]
    assert keys and all(k.startswith("AWSLogs/o-abcdefghij/") for k in keys)
    assert {k.split("/")[2] for k in keys} == {"111111111111", "222222222222"}


# ----------------------------------------------------------------------------- the committed sample


@pytest.fixture(scope="module")
def sample_facts() -> dict[str, Any]:
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    block = text[text.index(FACTS_BEGIN) + len(FACTS_BEGIN) : text.index(FACTS_END)]
    facts: dict[str, Any] = json.loads(block.strip().removeprefix("```json").removesuffix("```"))
    return facts


@pytest.fixture(scope="module")
def sample_recs() -> dict[str, list[dict[str, Any]]]:
    return {b: records(SAMPLE / b) for b in BUCKETS}


def test_sample_regenerates_byte_for_byte(tmp_path: Path) -> None:
    build_sample(tmp_path)
    for bucket in BUCKETS:
        new, old = tmp_path / bucket, SAMPLE / bucket
        new_files = {rel(new, p) for p in new.rglob("*.json.gz")}
        assert new_files == {rel(old, p) for p in old.rglob("*.json.gz")}, bucket
        for key in new_files:
            a, b = (new / key).read_bytes(), (old / key).read_bytes()
            if "/CloudTrail-Digest/" not in key:
                assert a == b, key
                continue
            da, db = json.loads(gzip.decompress(a)), json.loads(gzip.decompress(b))
            for d in (da, db):  # these depend on the (ephemeral) signing key
                for k in ("digestPublicKeyFingerprint", "previousDigestSignature", "previousDigestHashValue"):
                    d.pop(k)
            assert da == db, key
    assert (tmp_path / "README.md").read_text() == (SAMPLE / "README.md").read_text()
    sigs = json.loads((tmp_path / "_verification" / "digest-signatures.json").read_text())
    assert set(sigs) == set(json.loads((SAMPLE / "_verification" / "digest-signatures.json").read_text()))


def test_sample_storyline_is_not_in_the_package() -> None:
    import tomllib

    import trailforensics.generate

    # the storyline lives in tools/sample/ (make sample); the package keeps the generic generator only
    package = Path(trailforensics.generate.__file__).parent
    assert not list(package.glob("sample*.py"))
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert not [p for p in packages if not p.startswith("trailforensics")]
    assert build_sample.__module__ == "tools.sample.build"


def test_sample_size_and_volume(sample_facts: dict[str, Any]) -> None:
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 5_000_000
    assert 2000 <= sample_facts["unique_events"] <= 6000


def test_sample_digests_verify(sample_facts: dict[str, Any]) -> None:
    pub, fp = public_key(SAMPLE)
    sigs = json.loads((SAMPLE / "_verification" / "digest-signatures.json").read_text())
    audit = verify_digests(SAMPLE / m.AUDIT_BUCKET, m.AUDIT_BUCKET, pub, fp, sigs)
    s3 = verify_digests(SAMPLE / m.S3_BUCKET, m.S3_BUCKET, pub, fp, sigs)
    sl = sample_facts["stop_logging"]
    assert audit["missing"] == [sl["deleted_log_key"]] and not audit["unreferenced"]
    assert not s3["missing"] and not s3["unreferenced"] and len(s3["starts"]) == 1
    assert audit["digests"] == sample_facts["trails"][m.AUDIT_TRAIL]["digest_files"]
    assert s3["digests"] == sample_facts["trails"][m.S3_TRAIL]["digest_files"]
    regions = sample_facts["digest_regions"]
    assert {m.MAIN, m.DR, m.GLOBAL, m.MINING_REGION} <= set(regions)
    assert len(audit["starts"]) == 2 * len(regions)  # chain start at the sample start + restart after StartLogging
    assert sl["deleted_log_key"] in {f["s3Object"] for f in audit["docs"][sl["deleted_log_digest"]][1]["logFiles"]}
    for region, key in sample_facts["digest_restarts"].items():
        doc = audit["docs"][key][1]
        assert key in audit["starts"] and f"/CloudTrail-Digest/{region}/" in key
        assert doc["digestStartTime"] == sample_facts["start_logging"]["time"]
    assert set(sample_facts["digest_restarts"]) == set(regions)
    assert not files_under(SAMPLE / m.ORG_BUCKET, "CloudTrail-Digest")


def test_sample_trails_and_dedup(sample_facts: dict[str, Any], sample_recs: dict[str, list[dict[str, Any]]]) -> None:
    trails = sample_facts["trails"]
    for name, bucket in (
        (m.ORG_TRAIL, m.ORG_BUCKET),
        (m.AUDIT_TRAIL, m.AUDIT_BUCKET),
        (m.S3_TRAIL, m.S3_BUCKET),
    ):
        recs = sample_recs[bucket]
        assert len(recs) == trails[name]["records"]
        assert len(files_under(SAMPLE / bucket, "CloudTrail")) == trails[name]["log_files"]
        assert len({r["eventID"] for r in recs}) == len(recs)
    assert len(files_under(SAMPLE / m.AUDIT_BUCKET, "CloudTrail-Insight")) == 2
    for p in files_under(SAMPLE / m.ORG_BUCKET, "CloudTrail"):
        assert rel(SAMPLE / m.ORG_BUCKET, p).startswith(f"AWSLogs/{m.ORG_ID}/")
    org = {r["eventID"]: r for r in sample_recs[m.ORG_BUCKET]}
    for r in sample_recs[m.AUDIT_BUCKET]:  # the audit trail's records are the org trail's prod copies
        assert r["recipientAccountId"] == m.PROD and r["eventCategory"] == "Management"
        assert json.dumps(org[r["eventID"]]) == json.dumps(r)
    prod_mgmt = [r for r in org.values() if r["recipientAccountId"] == m.PROD and r["eventCategory"] == "Management"]
    gap = sample_facts["audit_gap"]
    audit_ids = {r["eventID"] for r in sample_recs[m.AUDIT_BUCKET]}
    missing = []
    for r in prod_mgmt:
        inside = gap["from"] < r["eventTime"] < gap["to"]
        assert not (inside and r["eventID"] in audit_ids)
        if not inside and r["eventID"] not in audit_ids:
            missing.append(r)  # only the records of the deleted audit log file
    assert len(missing) == sample_facts["stop_logging"]["deleted_log_records"]
    assert sample_facts["stop_logging"]["eventID"] in {r["eventID"] for r in missing}
    assert all(r["eventTime"] <= gap["from"] for r in missing)
    for r in sample_recs[m.S3_BUCKET]:
        assert r["eventCategory"] == "Data" and r["readOnly"] is False and r["awsRegion"] == m.MAIN
        if r["requestParameters"]["bucketName"] == m.EXPORTS:
            assert json.dumps(org[r["eventID"]]) == json.dumps(r)
    union = {r["eventID"] for recs in sample_recs.values() for r in recs}
    assert len(union) == sample_facts["unique_events"]


def test_sample_storyline_facts(sample_facts: dict[str, Any], sample_recs: dict[str, list[dict[str, Any]]]) -> None:
    f = sample_facts
    org = {r["eventID"]: r for r in sample_recs[m.ORG_BUCKET]}
    s3 = {r["eventID"]: r for r in sample_recs[m.S3_BUCKET]}
    every = {**org, **s3}
    for st in f["steps"]:
        r = every[st["eventID"]]
        ui = r["userIdentity"]
        assert (
            r["eventTime"],
            r["eventSource"],
            r["eventName"],
            r["awsRegion"],
            r["sourceIPAddress"],
            r["userAgent"],
            r.get("errorCode"),
        ) == (
            st["time"],
            st["eventSource"],
            st["eventName"],
            st["region"],
            st["source_ip"],
            st["user_agent"],
            st["errorCode"],
        )
        assert ui.get("accessKeyId") == st["access_key_id"] and ui.get("arn") == st["actor_arn"]
        assert r["sourceIPAddress"] in f["attacker"]["source_ips"]
    # compromised key: normal use on 2026-03-09 from home, malicious use from the Kali host
    ck = f["compromised_key"]
    uses = [r for r in org.values() if r["userIdentity"].get("accessKeyId") == ck["access_key_id"]]
    normal = [r for r in uses if r["sourceIPAddress"] == ck["normal_source_ip"]]
    assert normal and all(r["userAgent"].startswith(ck["normal_user_agent_prefix"]) for r in normal)
    assert any(r["eventTime"].startswith("2026-03-09") for r in normal)
    bad = [r for r in uses if r["sourceIPAddress"] == f["attacker"]["source_ips"][0]]
    assert len(bad) == ck["malicious_events"] and min(r["eventTime"] for r in bad) == ck["first_malicious_use"]
    assert all(r["userAgent"] == f["attacker"]["user_agents"][0] for r in bad)
    assert sum(1 for r in bad if r.get("errorCode") == "AccessDenied") >= 8
    assert f["recon"]["access_denied"] == sum(1 for r in bad if str(r.get("errorCode", "")).startswith("AccessDenied"))
    # persistence and the key it returned
    created = next(r for r in bad if r["eventName"] == "CreateAccessKey")
    assert created["responseElements"]["accessKey"]["accessKeyId"] == f["backdoor"]["access_key_id"]
    attach = next(r for r in bad if r["eventName"] == "AttachUserPolicy")
    assert attach["requestParameters"]["policyArn"] == f["backdoor"]["policy"]
    # the role chain: each AssumeRole minted the key used next
    chain = f["role_chain"]
    assert chain[0]["caller_access_key_id"] == f["backdoor"]["access_key_id"]
    assert chain[1]["caller_access_key_id"] == chain[0]["access_key_id"]
    for link in chain:
        r = org[link["eventID"]]
        assert r["responseElements"]["credentials"]["accessKeyId"] == link["access_key_id"]
        users = [x for x in org.values() if x["userIdentity"].get("accessKeyId") == link["access_key_id"]]
        assert users and all(
            x["userIdentity"]["sessionContext"]["attributes"]["creationDate"] == link["assumed_at"] for x in users
        )
    ex = f["exfiltration"]
    gets = [
        r
        for r in org.values()
        if r["eventName"] == "GetObject" and r["userIdentity"].get("accessKeyId") == ex["access_key_id"]
    ]
    assert len(gets) == ex["get_object_count"] and 250 <= len(gets) <= 400
    assert (min(r["eventTime"] for r in gets), max(r["eventTime"] for r in gets)) == (ex["first"], ex["last"])
    assert sum(r["additionalEventData"]["bytesTransferredOut"] for r in gets) == ex["bytes_out"]
    assert all(r["requestParameters"]["bucketName"] == m.EXPORTS for r in gets)
    # mining in a region nobody else uses
    mining = [r for r in org.values() if r["awsRegion"] == m.MINING_REGION]
    assert mining and all(r["sourceIPAddress"] == m.ATTACKER_IP_2 for r in mining)
    run = next(r for r in mining if r["eventName"] == "RunInstances" and not r.get("errorCode"))
    assert [i["instanceId"] for i in run["responseElements"]["instancesSet"]["items"]] == f["mining"]["instance_ids"]
    assert run["requestParameters"]["instanceType"] == "p3.16xlarge"
    ingress = next(r for r in mining if r["eventName"] == "AuthorizeSecurityGroupIngress")
    perm = ingress["requestParameters"]["ipPermissions"]["items"][0]
    assert perm["ipRanges"]["items"][0]["cidrIp"] == "0.0.0.0/0" and perm["fromPort"] == 22
    # StopLogging survives in the org trail only; its audit log file was deleted (DeleteObject in S3 trail)
    sl = f["stop_logging"]
    stop = org[sl["eventID"]]
    assert stop["eventName"] == "StopLogging" and stop["requestParameters"]["name"] == m.AUDIT_TRAIL_ARN
    assert sl["eventID"] not in {r["eventID"] for r in sample_recs[m.AUDIT_BUCKET]}
    assert not (SAMPLE / m.AUDIT_BUCKET / sl["deleted_log_key"]).exists()
    ref = next(
        x
        for x in json.loads(gunzip_one_member(SAMPLE / m.AUDIT_BUCKET / sl["deleted_log_digest"]))["logFiles"]
        if x["s3Object"] == sl["deleted_log_key"]
    )
    assert ref["oldestEventTime"] <= sl["time"] <= ref["newestEventTime"] and sl["deleted_log_records"] >= 1
    delete = s3[sl["delete_eventID"]]
    assert delete["eventName"] == "DeleteObject" and delete["requestParameters"]["bucketName"] == m.AUDIT_BUCKET
    assert delete["requestParameters"]["key"] == sl["deleted_log_key"] and delete["eventTime"] == sl["delete_time"]
    start = org[f["start_logging"]["eventID"]]
    assert start["eventName"] == "StartLogging" and start["eventTime"] == f["start_logging"]["time"]
    # the S3 trail set-up
    su = f["s3_trail_setup"]
    by_name = {
        r["eventName"]: r
        for r in org.values()
        if r["userIdentity"].get("arn") == su["actor_arn"] and r["eventTime"].startswith("2026-03-09T10:1")
    }
    ct = by_name["CreateTrail"]
    assert ct["eventTime"] == su["CreateTrail"] and ct["sourceIPAddress"] == su["source_ip"]
    assert ct["requestParameters"]["kmsKeyId"].endswith(su["kms_alias"])
    assert (
        ct["responseElements"]["kmsKeyId"] == su["kms_key_arn"] and ct["responseElements"]["logFileValidationEnabled"]
    )
    sel = by_name["PutEventSelectors"]["requestParameters"]["advancedEventSelectors"][0]
    assert sel["name"] == "s3-write-selector" and by_name["StartLogging"]["eventTime"] == su["StartLogging"]
    assert min(r["eventTime"] for r in s3.values()) > su["StartLogging"]
    # insights on the recon's error spike
    ins = records(SAMPLE / m.AUDIT_BUCKET, "CloudTrail-Insight")
    assert sorted(r["insightDetails"]["state"] for r in ins) == ["End", "Start"]
    assert {r["insightDetails"]["insightType"] for r in ins} == {f["insight"]["insightType"]}
    assert {r["eventTime"] for r in ins} == {f["insight"]["start"], f["insight"]["end"]}


def test_sample_readme_prose_matches_facts(sample_facts: dict[str, Any]) -> None:
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    prose = text[: text.index(FACTS_BEGIN)]
    f = sample_facts
    for value in (
        f["stop_logging"]["deleted_log_key"],
        f["backdoor"]["access_key_id"],
        f["compromised_key"]["access_key_id"],
        *f["attacker"]["source_ips"],
        *f["attacker"]["user_agents"],
        f["stop_logging"]["time"],
        f["start_logging"]["time"],
        f["exfiltration"]["first"],
        f["exfiltration"]["last"],
        str(f["exfiltration"]["get_object_count"]),
        *(c["access_key_id"] for c in f["role_chain"]),
        *f["mining"]["instance_ids"],
        m.ORG_TRAIL,
        m.AUDIT_TRAIL,
        m.S3_TRAIL,
        m.LOG_KEY_ALIAS,
    ):
        assert value in prose, value


def test_sample_background_is_clean(sample_facts: dict[str, Any], sample_recs: dict[str, list[dict[str, Any]]]) -> None:
    recs = list({r["eventID"]: r for rs in sample_recs.values() for r in rs}.values())
    attacker = set(sample_facts["attacker"]["source_ips"])
    background = [r for r in recs if r["sourceIPAddress"] not in attacker]
    types = {r["userIdentity"]["type"] for r in background}
    assert ALL_TYPES - {"Root"} <= types and "Root" not in types
    assert {r["awsRegion"] for r in background} <= {m.MAIN, m.DR, m.GLOBAL}
    assert not [
        r
        for r in background
        if r["eventName"]
        in (
            "StopLogging",
            "DeleteTrail",
            "CreateUser",
            "CreateLoginProfile",
            "AttachUserPolicy",
            "ImportKeyPair",
            "GetAccountAuthorizationDetails",
        )
    ]
    for r in background:
        assert "kali" not in r["userAgent"].lower() and "1.16.312" not in r["userAgent"]
        assert "0.0.0.0/0" not in json.dumps(r.get("requestParameters"))
    errors = sum(1 for r in background if r.get("errorCode"))
    assert 0.03 < errors / len(background) < 0.08
    check_asia_minted(recs)
    rids = Counter(r["requestID"] for r in recs if r.get("requestID"))
    for rid, n in rids.items():  # only the two copies of a cross-account call share a requestID
        if n > 1:
            pair = [r for r in recs if r.get("requestID") == rid]
            assert n == 2 and pair[0]["sharedEventID"] == pair[1]["sharedEventID"]
            assert {r["recipientAccountId"] for r in pair} == {m.PROD, m.DEV}
