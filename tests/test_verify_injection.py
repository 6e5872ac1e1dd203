"""verify: injected files whatever their names, digests that cannot vouch for logs, absurd times.

Each test builds a small signed tree (`verify_fixtures.make_dump`: 4 hourly digests, 2 logs an
hour, from 2026-03-10T00:00Z) and tampers with it the way an attacker would.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from verify_fixtures import (
    ACCOUNT,
    BUCKET,
    HOUR,
    REGION,
    T0,
    TRAIL,
    Dump,
    attacker_key,
    aws_key,
    backfill,
    kinds,
    make_dump,
    write_json,
    write_log,
)

from trailforensics.generate import digests as dg
from trailforensics.generate.writer import gzip_bytes, write_object
from trailforensics.verify import EXIT_INVALID, EXIT_UNCHECKED, EXIT_UNREFERENCED, VerifyReport, verify_tree
from trailforensics.verify import model as m
from trailforensics.verify.paths import compact_time, epoch

LOG_DIR = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/03/10"


def run(d: Dump, **kw: Any) -> VerifyReport:
    return verify_tree(d.tree, **{**d.verify_kwargs(), **kw})


def status(r: VerifyReport, d: Dump, key: str) -> str:
    row = r.file(d.rel(key))
    assert row is not None, key
    return row.status


def forged_log(d: Dump, key: str) -> str:
    """A one-record CloudTrail log (a forged DeleteTrail) written at object key `key`."""
    record = {
        "eventVersion": "1.09",
        "eventID": hashlib.md5(key.encode()).hexdigest(),
        "eventTime": "2026-03-10T01:40:00Z",
        "eventName": "DeleteTrail",
        "eventSource": "cloudtrail.amazonaws.com",
        "awsRegion": REGION,
        "recipientAccountId": ACCOUNT,
    }
    write_object(d.bucket_root, key, gzip_bytes(orjson.dumps({"Records": [record]})))
    return key


@pytest.fixture
def dump(tmp_path: Path) -> Dump:
    return make_dump(tmp_path, hours=4)


# -- finding 1: a file no digest lists in a covered folder is suspicious whatever its name --------------------
@pytest.mark.parametrize(
    "name",
    [
        "evil.json.gz",
        "x.json",
        f"{ACCOUNT}_CloudTrail_{REGION}_20260310T0141Z.json.gz",  # no random part
        f"{ACCOUNT}_CloudTrail_{REGION}_20260310T0141_AAAAbbbbCCCCdddd.json.gz",  # no Z
        f"{ACCOUNT}_CloudTrail_{REGION}_20260309T2300Z_AAAAbbbbCCCCdddd.json.gz",  # another day than its folder
        f"{ACCOUNT}_CloudTrail_us-east-1_20260310T0141Z_AAAAbbbbCCCCdddd.json.gz",  # another region's name
        f"{ACCOUNT}_CloudTrail_{REGION}_20260310T0141Z_AAAAbbbbCCCCdddd.json.gz.bak",
    ],
)
def test_injected_file_with_a_name_cloudtrail_never_writes_is_unreferenced(dump: Dump, name: str) -> None:
    key = forged_log(dump, f"{LOG_DIR}/{name}")
    r = run(dump)
    assert kinds(r) == [m.LOG_UNREFERENCED] and r.exit_code == EXIT_UNREFERENCED
    assert status(r, dump, key) == m.UNREFERENCED and r.summary.logs_unreferenced == 1
    assert "not a file CloudTrail delivered" in r.findings[0].message


@pytest.mark.parametrize(
    "where", [f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/evil.json.gz", f"{LOG_DIR}/sub/evil.json.gz"]
)
def test_injected_file_outside_the_date_folders_of_a_covered_region(dump: Dump, where: str) -> None:
    key = forged_log(dump, where)
    r = run(dump)
    assert kinds(r) == [m.LOG_UNREFERENCED] and r.exit_code == EXIT_UNREFERENCED
    assert status(r, dump, key) == m.UNREFERENCED


def test_odd_names_outside_digest_coverage_stay_notes(dump: Dump) -> None:
    # another region (no digests there) and a day the chain does not reach: nothing to compare with
    other = forged_log(dump, f"AWSLogs/{ACCOUNT}/CloudTrail/ap-south-1/2026/03/10/evil.json.gz")
    old = forged_log(dump, f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/02/01/evil.json.gz")
    r = run(dump)
    assert kinds(r) == [m.LOGS_NOT_COVERED] and r.exit_code == 0
    assert r.findings[0].count == 2 == r.summary.logs_not_covered
    assert status(r, dump, other) == status(r, dump, old) == m.UNVERIFIED
    row = r.file(dump.rel(old))
    assert row is not None and "not a CloudTrail log file name" in (row.reason or "")


def test_injected_timeless_file_is_unreferenced_in_the_dataset(dump: Dump, tmp_path: Path) -> None:
    from trailforensics.engine.dataset import Dataset
    from trailforensics.ingest import ingest
    from trailforensics.verify import store_results

    forged_log(dump, f"{LOG_DIR}/evil.json.gz")
    ds = tmp_path / "case"
    assert ingest([dump.tree], ds).committed
    store_results(run(dump), ds)
    with Dataset(ds) as dataset:
        rows = dataset.sql("SELECT verification_status AS s FROM events WHERE event_name = 'DeleteTrail'").to_pylist()
        assert rows == [{"s": m.UNREFERENCED}]


# -- finding 2: only proven digests vouch for a log ------------------------------------------------------------
def fake_digest(d: Dump, key: str, logs: list[dg.LogRef], start: int, end: int) -> None:
    """An unsigned digest an attacker writes: a chain start (null previous digest), no S3 metadata."""
    doc = dg.digest_document(
        account=ACCOUNT,
        bucket=BUCKET,
        key=key,
        start=start,
        end=end,
        public_fp=dg.fingerprint(aws_key().public_key()),
        logs=logs,
        log_bucket=BUCKET,
        previous=None,
    )
    write_object(d.bucket_root, key, gzip_bytes(orjson.dumps(doc)))


@pytest.mark.parametrize("backfill", [False, True])
def test_unsigned_fake_digest_does_not_launder_an_injected_log(dump: Dump, backfill: bool) -> None:
    injected = write_log(dump.bucket_root, T0 + HOUR + 1500, tag="injected")
    end = T0 + 2 * HOUR
    trail = TRAIL if backfill else "x-trail"
    key = dg.digest_key(ACCOUNT, REGION, trail, REGION, end, backfill=backfill)
    fake_digest(dump, key, [injected], T0 + HOUR, end)
    r = run(dump)
    assert r.exit_code & EXIT_UNREFERENCED
    assert status(r, dump, injected.key) == m.UNREFERENCED
    (f,) = r.by_kind(m.LOG_UNREFERENCED)
    assert "not proven" in f.message and dump.chain[1].key.rsplit("/", 1)[-1] in f.message
    # without the genuine digest's proof (no keys), nothing can be said either way
    assert status(run(dump, public_keys=[]), dump, injected.key) == m.UNVERIFIED


def test_logs_of_a_genuine_newest_digest_without_signature_stay_unverified(tmp_path: Path) -> None:
    # two trails write to one folder; the second trail's newest signature is not supplied
    d = make_dump(tmp_path, hours=3)
    logs_b = [write_log(d.bucket_root, T0 + h * HOUR + 2400, tag="b") for h in range(3)]
    chain_b = dg.build_chain(
        d.bucket_root,
        logs_b,
        account=ACCOUNT,
        region=REGION,
        trail_name="second-trail",
        home_region=REGION,
        bucket=BUCKET,
        start=T0,
        end=T0 + 3 * HOUR,
        offset=0,
        private_key=aws_key(),
    )
    r = run(d)
    # NOT PROVEN (exit 32): the second trail's newest digest cannot be checked; nothing else is wrong
    assert r.exit_code == EXIT_UNCHECKED and kinds(r, m.ERROR) == [] and r.result == ["NOT PROVEN"]
    assert status(r, d, logs_b[-1].key) == m.UNVERIFIED  # listed by the unchecked newest digest of its own trail
    assert {status(r, d, x.key) for x in logs_b[:-1]} == {m.VALID}
    assert [f.files for f in r.by_kind(m.SIGNATURE_UNCHECKED)] == [[d.rel(chain_b[-1].key)]]


def test_unsigned_newest_digest_listing_a_log_deep_in_a_proven_hour(dump: Dump) -> None:
    # the attacker edits the unsigned newest digest (no signature supplied) to list an injected log
    injected = write_log(dump.bucket_root, T0 + HOUR + 1500, tag="injected")
    newest = dump.chain[-1]

    def add(doc: dict[str, Any]) -> None:
        doc["logFiles"].append({"s3Bucket": BUCKET, "s3Object": injected.key, "hashValue": injected.sha256})

    dg.resign_digest(dump.bucket_root, newest.key, attacker_key(), add)  # its signature is not supplied anyway
    r = run(dump, signatures=[dump.write_signatures({})])
    assert status(r, dump, injected.key) == m.UNREFERENCED and r.exit_code & EXIT_UNREFERENCED


# -- finding 8: a digest that failed any check vouches for nothing -------------------------------------------
def test_logs_of_digests_signed_outside_the_key_validity_are_not_valid(dump: Dump, tmp_path: Path) -> None:
    doc = dg.public_keys_document(aws_key().public_key(), T0 - 90 * 86400, T0 - 60 * 86400)
    r = run(dump, public_keys=[write_json(tmp_path / "expired.json", doc)])
    assert set(kinds(r)) == {m.DIGEST_KEY_NOT_VALID} and r.exit_code == EXIT_INVALID
    assert r.summary.logs_valid == 0 and r.summary.logs_unverified == len(dump.logs)
    assert {c.state for c in r.coverage} == {m.INVALID_DIGEST}


def test_logs_of_a_digest_whose_successor_records_another_hash_are_not_valid(dump: Dump) -> None:
    newest, victim = dump.chain[-1], dump.chain[-2]
    re = dg.resign_digest(
        dump.bucket_root, newest.key, aws_key(), lambda doc: doc.update(previousDigestHashValue="0" * 64)
    )
    r = run(dump, signatures=[dump.write_signatures({newest.key: re.signature})])
    row = r.file(dump.rel(victim.key))
    assert row is not None and row.signature == m.SIG_VALID and row.status == m.INVALID
    assert kinds(r) == [m.DIGEST_HASH_MISMATCH]
    assert {status(r, dump, k) for k in victim.logs} == {m.UNVERIFIED}
    assert {status(r, dump, k) for k in newest.logs} == {m.VALID}


def test_logs_of_a_signed_digest_with_a_format_error_are_not_valid(dump: Dump) -> None:
    newest = dump.chain[-1]
    re = dg.resign_digest(dump.bucket_root, newest.key, aws_key(), lambda doc: doc["logFiles"].append({"s3Object": 42}))
    r = run(dump, signatures=[dump.write_signatures({newest.key: re.signature})])
    assert kinds(r) == [m.DIGEST_INVALID_FORMAT] and r.exit_code == EXIT_INVALID
    assert {status(r, dump, k) for k in newest.logs} == {m.UNVERIFIED}


def test_logs_of_a_moved_digest_are_not_valid(dump: Dump) -> None:
    victim = dump.chain[1]
    moved = dump.path(victim.key).with_name(victim.key.rsplit("/", 1)[-1].replace("T02", "T12"))
    dump.path(victim.key).rename(moved)
    r = run(dump)
    assert kinds(r) == [m.DIGEST_MOVED]
    assert {status(r, dump, k) for k in victim.logs} == {m.UNVERIFIED}
    assert r.summary.logs_valid == len(dump.logs) - len(victim.logs)


# -- finding 9: backfill digests as awscli checks them --------------------------------------------------------
@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        ("plain", m.DIGEST_INVALID_FORMAT),  # a bare signature: no backfill-generation-timestamp
        ({"backfill-generation-timestamp": "soon"}, m.DIGEST_INVALID_FORMAT),
        ({"backfill-generation-timestamp": "2025-01-01T00:00:00Z"}, m.DIGEST_KEY_NOT_VALID),  # key not valid then
        ({"backfill-generation-timestamp": "0000-01-01T00:00:00Z"}, m.DIGEST_INVALID_FORMAT),
    ],
)
def test_backfill_digest_needs_its_generation_time(dump: Dump, entry: Any, kind: str) -> None:
    late, back = backfill(dump)
    value = back.signature if entry == "plain" else {"Metadata": {"signature": back.signature, **entry}}
    write_json(dump.sigs_path, {**dg.newest_signatures(dump.chains), back.key: value})
    r = run(dump)
    assert kinds(r, m.ERROR) == sorted({kind, m.LOG_UNREFERENCED}) and r.exit_code & EXIT_INVALID
    # the late log is inside a proven hourly window that does not list it: only the backfill digest vouched
    assert status(r, dump, late.key) == m.UNREFERENCED


# -- findings 4 and 5: absurd times are reported, never crash, never stretch anything ------------------------
def test_epoch_refuses_what_the_calendar_cannot_hold() -> None:
    assert epoch(0, 1, 5) is None and compact_time("00000105T0041") is None
    assert epoch(9999, 12, 31, 23, 59) == 253402300740
    assert epoch(2026, 2, 29) is None and epoch(2024, 2, 29) is not None


@pytest.mark.parametrize("stamp", ["99991231T2359", "21000101T0000", "20100310T0041"])
def test_absurd_log_name_times(dump: Dump, stamp: str) -> None:
    name = f"{ACCOUNT}_CloudTrail_{REGION}_{stamp}Z_AAAAbbbbCCCCdddd.json.gz"
    # in the chain's own date folder: a name CloudTrail does not write there, so unreferenced
    inside = forged_log(dump, f"{LOG_DIR}/{name}")
    # in the date folder its name gives: an implausible time, outside the coverage; no hours invented
    alone = forged_log(dump, f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}/{name}")
    started = time.perf_counter()
    r = run(dump)
    assert time.perf_counter() - started < 10
    assert status(r, dump, inside) == m.UNREFERENCED and r.exit_code == EXIT_UNREFERENCED
    row = r.file(dump.rel(alone))
    assert row is not None and row.status == m.UNVERIFIED and "implausible" in (row.reason or "")
    assert row.file_time == compact_time(stamp)  # reported as the name gives it
    assert len(r.coverage) == 4 and r.summary.digests_missing == 0
    assert len(orjson.dumps(r.to_json())) < 200_000


def test_year_zero_log_names(dump: Dump) -> None:
    name = f"{ACCOUNT}_CloudTrail_{REGION}_00000310T0041Z_AAAAbbbbCCCCdddd.json.gz"
    keys = [
        forged_log(dump, f"{LOG_DIR}/{name}"),
        forged_log(dump, f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/0000/03/10/{name}"),
    ]
    r = run(dump)
    assert [status(r, dump, k) for k in keys] == [m.UNREFERENCED, m.UNREFERENCED] and r.exit_code == EXIT_UNREFERENCED
    assert r.file(dump.rel(keys[0])).file_time is None  # type: ignore[union-attr]


def test_absurd_times_in_digests(dump: Dump) -> None:
    # an unsigned, self-consistent digest (key and window) claiming year 9999, with no keys to check it
    far = dg.digest_key(ACCOUNT, REGION, TRAIL, REGION, 253402300000)
    fake_digest(dump, far, [], 253402300000 - HOUR, 253402300000)
    # a year-0000 digest key and digestEndTime
    zero = (
        f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/0000/01/01/"
        f"{ACCOUNT}_CloudTrail-Digest_{REGION}_{TRAIL}_{REGION}_00000101T000000Z.json.gz"
    )
    write_object(dump.bucket_root, zero, gzip_bytes(b'{"digestEndTime": "0000-01-01T00:00:00Z"}'))
    for keys in ([], [dump.keys_path]):
        r = run(dump, public_keys=keys)
        assert r.file(dump.rel(far)).status == m.INVALID  # type: ignore[union-attr]
        assert "implausible" in (r.file(dump.rel(far)).reason or "")  # type: ignore[union-attr]
        assert r.file(dump.rel(zero)).status == m.INVALID  # type: ignore[union-attr]
        (chain,) = [c for c in r.chains if c.trail == TRAIL]
        assert chain.last_end == dump.chain[-1].end and len(r.coverage) == 4
        assert r.summary.digests_missing == 0 and not r.by_kind(m.DIGEST_MISSING)


def test_failed_newest_digest_claiming_a_later_end_extends_nothing(tmp_path: Path) -> None:
    # a digest whose signature fails claims 2030: neither its chain nor its siblings' reach follows
    d = make_dump(tmp_path, hours=3, regions=(REGION, "us-east-1"))
    newest = d.chain[-1]
    raw = orjson.loads(gzip.decompress(d.path(newest.key).read_bytes()))
    raw["digestEndTime"] = "2030-01-01T00:00:00Z"
    d.path(newest.key).write_bytes(gzip.compress(orjson.dumps(raw)))
    r = run(d)
    assert r.exit_code == EXIT_INVALID and not r.by_kind(m.DIGEST_MISSING)
    assert {c.last_end for c in r.chains} == {T0 + 3 * HOUR, d.chain[-2].end}
    assert r.summary.digests_missing == 0 and len(r.coverage) <= 8
    assert {status(r, d, k) for k in newest.logs} == {m.UNVERIFIED}


def test_odd_public_key_and_metadata_times_do_not_crash(dump: Dump, tmp_path: Path) -> None:
    doc = dg.public_keys_document(aws_key().public_key(), T0, T0)
    doc["PublicKeyList"][0].update(ValidityStartTime="0000-01-01T00:00:00Z", ValidityEndTime=1e300)
    sigs = {
        k: {"signature": v, "backfill-generation-timestamp": "nan"}
        for k, v in dg.newest_signatures(dump.chains).items()
    }
    r = run(
        dump, public_keys=[write_json(tmp_path / "k.json", doc)], signatures=[write_json(tmp_path / "s.json", sigs)]
    )
    assert r.exit_code == 0 and r.summary.digests_valid == len(dump.chain)
