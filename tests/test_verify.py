"""verify: each tampering scenario is detected and reported as what it is; clean chains are silent."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
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
    keys_document,
    kinds,
    make_dump,
    restart_chain,
    write_json,
    write_log,
)

from trailforensics.generate import digests as dg
from trailforensics.generate.writer import gzip_bytes
from trailforensics.verify import (
    EXIT_INVALID,
    EXIT_MISSING,
    EXIT_UNCHECKED,
    EXIT_UNREFERENCED,
    VerifyReport,
    verify_tree,
)
from trailforensics.verify import model as m
from trailforensics.verify.hashing import hash_files, hash_gzip_file
from trailforensics.verify.keys import load_public_keys


def run(d: Dump, **kw: object) -> VerifyReport:
    args = {**d.verify_kwargs(), **kw}
    return verify_tree(d.tree, **args)


@pytest.fixture
def dump(tmp_path: Path) -> Dump:
    return make_dump(tmp_path)


# -- clean ---------------------------------------------------------------------------------------------------
def test_clean_chain_gives_no_finding(dump: Dump) -> None:
    r = run(dump)
    assert r.findings == []
    assert r.exit_code == 0 and r.ok
    s = r.summary
    assert s.digests_found == len(dump.chain) == s.digests_valid and s.digests_invalid == s.digests_missing == 0
    assert s.logs_listed == len(dump.logs) == s.logs_valid
    assert s.logs_unreferenced == s.logs_not_covered == 0
    assert {f.status for f in r.files} == {m.VALID}
    (chain,) = r.chains
    assert chain.trail == TRAIL and chain.account_id == ACCOUNT and chain.region == REGION
    assert chain.first_start == T0 and chain.last_end == dump.chain[-1].end
    assert chain.digests_valid == len(dump.chain) and not chain.restarts and not chain.gaps
    assert {c.state for c in r.coverage} == {"covered"}
    assert len(r.coverage) == 6 and sum(c.log_files for c in r.coverage) == len(dump.logs)
    json.dumps(r.to_json())  # serialisable
    row = r.file(dump.rel(dump.logs[0].key))
    assert row is not None and row.digest_key == dump.chain[0].key and row.expected_sha256 == row.actual_sha256


def test_bucket_root_tree_and_worker_processes(tmp_path: Path) -> None:
    d = make_dump(tmp_path, bucket_folder=False)  # TREE is the bucket itself: AWSLogs/ at its top
    r = run(d, workers=2)
    assert r.findings == [] and r.exit_code == 0
    assert r.file(d.logs[0].key) is not None  # source_file = the object key


# -- log files -----------------------------------------------------------------------------------------------
def test_altered_log(dump: Dump) -> None:
    victim = dump.logs[3]
    raw = gzip.decompress(dump.path(victim.key).read_bytes()).replace(b"DescribeInstances", b"DescribeInstancez")
    dump.path(victim.key).write_bytes(gzip_bytes(raw))
    r = run(dump)
    assert kinds(r) == [m.LOG_HASH_MISMATCH]
    (f,) = r.findings
    assert f.files == [dump.rel(victim.key)] and f.details["expected"] == victim.sha256
    assert f.details["actual"] == hashlib.sha256(raw).hexdigest()
    assert r.file(dump.rel(victim.key)).status == m.INVALID  # type: ignore[union-attr]
    assert r.summary.logs_invalid == 1 and r.exit_code == EXIT_INVALID


def test_deleted_log(dump: Dump) -> None:
    victim = dump.logs[5]
    dump.path(victim.key).unlink()
    r = run(dump)
    assert kinds(r) == [m.LOG_MISSING]
    assert r.findings[0].files == [dump.rel(victim.key)]
    row = r.file(dump.rel(victim.key))
    assert row is not None and row.status == m.MISSING and row.expected_sha256 == victim.sha256
    assert r.summary.logs_missing == 1 and r.exit_code == EXIT_MISSING


def test_injected_log(dump: Dump) -> None:
    injected = write_log(dump.bucket_root, T0 + 2 * HOUR + 1500, tag="injected")
    r = run(dump)
    assert kinds(r) == [m.LOG_UNREFERENCED]
    assert r.findings[0].files == [dump.rel(injected.key)]
    assert "does not list it" in r.findings[0].message
    assert r.file(dump.rel(injected.key)).status == m.UNREFERENCED  # type: ignore[union-attr]
    assert r.summary.logs_unreferenced == 1 and r.exit_code == EXIT_UNREFERENCED


def test_log_outside_coverage_is_unverified_not_unreferenced(dump: Dump) -> None:
    early = write_log(dump.bucket_root, T0 - 5 * HOUR, tag="before-validation")
    other = write_log(dump.bucket_root, T0 + HOUR, region="ap-south-1", tag="no-digests-here")
    r = run(dump)
    assert kinds(r, m.ERROR) == [] and r.exit_code == 0
    assert kinds(r) == [m.LOGS_NOT_COVERED]
    assert r.findings[0].count == 2
    for ref in (early, other):
        assert r.file(dump.rel(ref.key)).status == m.UNVERIFIED  # type: ignore[union-attr]
    assert r.summary.logs_not_covered == 2 and r.summary.logs_unreferenced == 0
    states = {(c.region, c.state) for c in r.coverage}
    assert ("ap-south-1", "not_covered") in states


def test_appended_gzip_member(dump: Dump) -> None:
    victim = dump.logs[4]
    forged = orjson.dumps({"Records": [{"eventName": "ConsoleLogin", "eventID": "forged"}]})
    with open(dump.path(victim.key), "ab") as fh:
        fh.write(gzip.compress(forged))
    assert b"forged" in gzip.decompress(dump.path(victim.key).read_bytes())  # most readers see the extra member
    r = run(dump)
    assert kinds(r) == [m.LOG_TRAILING_DATA]
    f = r.findings[0]
    assert f.details["gzip_member"] and f.details["first_member_matches"]
    row = r.file(dump.rel(victim.key))
    assert row is not None and row.status == m.INVALID and row.actual_sha256 == victim.sha256
    assert "second gzip member" in (row.reason or "")
    assert r.exit_code == EXIT_INVALID


def test_hashing_streams_and_flags_garbage(tmp_path: Path) -> None:
    big = tmp_path / "big.json.gz"
    payload = b"x" * (9 << 20)
    big.write_bytes(gzip.compress(payload, compresslevel=1) + b"junk")
    res = hash_gzip_file(str(big))
    assert res.sha256 == hashlib.sha256(payload).hexdigest() and res.trailing == 4 and not res.trailing_member
    (tmp_path / "plain.json.gz").write_bytes(b'{"Records": []}')
    (tmp_path / "cut.json.gz").write_bytes(gzip.compress(b"abc" * 1000)[:-12])
    out = hash_files([(str(tmp_path / n), 1) for n in ("plain.json.gz", "cut.json.gz")])
    assert out[str(tmp_path / "plain.json.gz")].error == "not a gzip file"
    assert "truncated" in (out[str(tmp_path / "cut.json.gz")].error or "")


# -- digests ------------------------------------------------------------------------------------------------
def test_one_deleted_digest(dump: Dump) -> None:
    gone = dump.chain[2]
    dump.path(gone.key).unlink()
    r = run(dump)
    assert kinds(r, m.ERROR) == [m.DIGEST_MISSING]
    # the digest before the gap lost its successor, which carried its signature
    assert [f.files for f in r.by_kind(m.SIGNATURE_UNCHECKED)] == [[dump.rel(dump.chain[1].key)]]
    f = r.findings[0]
    assert f.count == 1 and (f.start, f.end) == (dump.chain[1].end, dump.chain[3].start) == (
        gone.start,
        gone.end,
    )
    assert f.details["missing_key"] == gone.key and f.files == [dump.rel(gone.key)]
    # MISSING, and NOT PROVEN: the digest before the gap cannot be checked any more
    assert r.summary.digests_missing == 1 and r.exit_code == EXIT_MISSING | EXIT_UNCHECKED
    assert r.result == ["MISSING", "NOT PROVEN"]
    # its logs can no longer be proven, but they are not "injected"
    for key in gone.logs:
        assert r.file(dump.rel(key)).status == m.UNVERIFIED  # type: ignore[union-attr]
    assert r.summary.logs_unreferenced == 0
    assert [c.state for c in r.coverage if c.hour == gone.start] == ["missing_digest"]
    missing_row = r.file(dump.rel(gone.key))
    assert missing_row is not None and missing_row.status == m.MISSING and missing_row.kind == m.DIGEST


def test_two_consecutive_deleted_digests(dump: Dump) -> None:
    for digest in dump.chain[2:4]:
        dump.path(digest.key).unlink()
    r = run(dump)
    assert kinds(r, m.ERROR) == [m.DIGEST_MISSING]
    f = r.findings[0]
    assert f.count == 2 and "2 digest files missing" in f.message
    assert (f.start, f.end) == (dump.chain[2].start, dump.chain[3].end)
    assert r.summary.digests_missing == 2
    assert r.chains[0].gaps == [(dump.chain[2].start, dump.chain[3].end, 2)]
    assert r.exit_code == EXIT_MISSING | EXIT_UNCHECKED  # the digest before the gap lost its signature


def test_newest_digest_deleted(dump: Dump) -> None:
    # its logs are still there, but a copy taken before the next digest was due looks the same:
    # a warning, not an error (nothing in the tree proves the digest was ever delivered)
    newest = dump.chain[-1]
    dump.path(newest.key).unlink()
    r = run(dump, signatures=[dump.write_signatures({dump.chain[-2].key: dump.chain[-2].signature})])
    assert kinds(r) == [m.DIGEST_MAYBE_MISSING] and r.exit_code == 0
    f = r.findings[0]
    assert f.severity == m.WARNING and f.details["position"] == "newest" and f.start == newest.start
    assert f.details["log_files_after"] == 2 and sorted(f.files) == sorted(dump.rel(k) for k in newest.logs)
    assert r.summary.digests_missing == 0 and r.summary.logs_unproven == 2
    # a log delivered after the next digest was due proves the copy is later: the digest was deleted
    write_log(dump.bucket_root, newest.end + 1200, tag="later")  # due at end + 5 min
    r2 = run(dump, signatures=[dump.sigs_path])
    assert kinds(r2) == [m.DIGEST_MISSING] and r2.exit_code == EXIT_MISSING
    f2 = r2.findings[0]
    assert f2.details["position"] == "newest" and f2.start == newest.start and f2.count == 1
    assert r2.summary.digests_missing == 1


def test_newest_digests_deleted_in_one_region_confirmed_by_the_others(tmp_path: Path) -> None:
    d = make_dump(tmp_path, regions=(REGION, "us-east-1"), logs_per_hour=0)  # only empty digests
    for digest in d.chains[1][-3:]:
        d.path(digest.key).unlink()
    sigs = {d.chains[0][-1].key: d.chains[0][-1].signature, d.chains[1][-4].key: d.chains[1][-4].signature}
    r = run(d, signatures=[d.write_signatures(sigs)])
    assert kinds(r) == [m.DIGEST_MISSING]
    f = r.findings[0]
    assert f.details["confirmed_by_other_chains"] and f.count == 3 and "us-east-1" in (f.chain or "")


def test_oldest_digests_deleted(dump: Dump) -> None:
    for digest in dump.chain[:2]:
        dump.path(digest.key).unlink()
    r = run(dump)
    assert kinds(r) == [m.DIGEST_MISSING]
    f = r.findings[0]
    assert f.details["position"] == "oldest" and f.count == 2 and f.end == dump.chain[2].start
    assert f.details["log_files_before"] == 4


def test_dump_starting_mid_chain_is_a_note(dump: Dump) -> None:
    for digest in dump.chain[:2]:
        dump.path(digest.key).unlink()
        for key in digest.logs:
            dump.path(key).unlink()
    r = run(dump)
    assert kinds(r) == [m.CHAIN_STARTS_MID] and r.exit_code == 0


def test_injected_digest_forks_the_chain(dump: Dump) -> None:
    fake_log = write_log(dump.bucket_root, T0 + 3 * HOUR + 900, tag="fake")
    fake = dg.write_digest(
        dump.bucket_root,
        account=ACCOUNT,
        region=REGION,
        trail_name=TRAIL,
        home_region=REGION,
        bucket=BUCKET,
        start=T0 + 3 * HOUR,
        end=T0 + 3 * HOUR + 1800,
        logs=[fake_log],
        private_key=attacker_key(),
        previous=dump.chain[2],
    )
    r = run(dump)
    assert {m.CHAIN_FORK, m.DIGEST_NO_PUBLIC_KEY} <= set(kinds(r, m.ERROR))
    assert r.file(dump.rel(fake.key)).status == m.INVALID  # type: ignore[union-attr]
    # the genuine digest of that hour does not list the log the forged one brought along
    assert r.file(dump.rel(fake_log.key)).status == m.UNREFERENCED  # type: ignore[union-attr]
    assert r.file(dump.rel(dump.chain[2].key)).status == m.VALID  # type: ignore[union-attr]
    assert r.exit_code == EXIT_INVALID | EXIT_UNREFERENCED


def test_moved_digest(dump: Dump) -> None:
    victim = dump.chain[2]
    moved = dump.path(victim.key).with_name(victim.key.rsplit("/", 1)[-1].replace("T03", "T13"))
    dump.path(victim.key).rename(moved)
    r = run(dump)
    assert kinds(r) == [m.DIGEST_MOVED]
    f = r.findings[0]
    assert f.files == [moved.relative_to(dump.tree).as_posix()] and victim.key in f.message
    assert r.summary.digests_missing == 0  # the chain still links through it
    assert r.exit_code == EXIT_INVALID


def test_forged_digest_signature(dump: Dump) -> None:
    # the attacker drops a log from a digest and signs it again with their own key
    victim = dump.chain[2]
    dropped = victim.logs[0]
    dg.resign_digest(dump.bucket_root, victim.key, attacker_key(), lambda doc: doc["logFiles"].pop(0))
    dump.path(dropped).unlink()
    r = run(dump)
    assert m.DIGEST_SIGNATURE_INVALID in kinds(r) and m.DIGEST_HASH_MISMATCH in kinds(r)
    assert m.LOG_MISSING not in kinds(r)  # the forged digest no longer lists it ...
    bad = r.file(dump.rel(victim.key))
    assert bad is not None and bad.status == m.INVALID and bad.signature == m.SIG_INVALID
    assert r.exit_code & EXIT_INVALID
    # ... and the logs it still lists are not proven by it
    for key in victim.logs[1:]:
        assert r.file(dump.rel(key)).status == m.UNVERIFIED  # type: ignore[union-attr]


def test_forged_newest_digest_with_forged_metadata_signature(dump: Dump) -> None:
    newest = dump.chain[-1]
    forged = dg.resign_digest(
        dump.bucket_root,
        newest.key,
        attacker_key(),
        lambda doc: doc["logFiles"][0].update(hashValue="0" * 64),
    )
    r = run(dump, signatures=[dump.write_signatures({newest.key: forged.signature})])
    assert kinds(r, m.ERROR) == [m.DIGEST_SIGNATURE_INVALID, m.LOG_HASH_MISMATCH]
    assert r.exit_code == EXIT_INVALID


def test_key_whose_bytes_do_not_match_its_fingerprint(dump: Dump, tmp_path: Path) -> None:
    real_fp = dg.fingerprint(aws_key().public_key())
    # the attacker's key bytes under AWS's fingerprint (so forged digests would "verify")
    swapped = keys_document(attacker_key().public_key(), fingerprint=real_fp)
    r = run(dump, public_keys=[write_json(tmp_path / "swapped.json", swapped)])
    assert m.PUBLIC_KEY_REJECTED in kinds(r) and m.DIGEST_NO_PUBLIC_KEY in kinds(r)
    assert r.summary.public_keys == 0 and r.summary.public_keys_rejected == 1
    assert r.summary.digests_valid == 0 and r.exit_code == EXIT_INVALID
    rejected = r.by_kind(m.PUBLIC_KEY_REJECTED)[0]
    assert "not the stated fingerprint" in rejected.message


def test_pkcs1_and_spki_keys(tmp_path: Path) -> None:
    pub = aws_key().public_key()
    ring = load_public_keys(
        [
            write_json(tmp_path / "a.json", keys_document(pub)),
            write_json(tmp_path / "b.json", keys_document(pub, spki=True)),
        ]
    )
    assert len(ring) == 2 and not ring.rejected
    # a chain signed under the SubjectPublicKeyInfo fingerprint verifies with that key
    d = make_dump(tmp_path, hours=1)
    spki_doc = keys_document(pub, spki=True)
    spki_fp = spki_doc["PublicKeyList"][0]["Fingerprint"]
    re = dg.resign_digest(
        d.bucket_root, d.chain[0].key, aws_key(), lambda doc: doc.update(digestPublicKeyFingerprint=spki_fp)
    )
    r = run(
        d,
        public_keys=[write_json(tmp_path / "spki.json", spki_doc)],
        signatures=[d.write_signatures({re.key: re.signature})],
    )
    assert r.findings == [] and r.summary.digests_valid == 1


def test_without_keys_signatures_are_unchecked_never_valid(dump: Dump) -> None:
    r = run(dump, public_keys=[])
    assert kinds(r) == [m.SIGNATURE_UNCHECKED]
    assert r.summary.digests_valid == 0 and r.summary.digests_unchecked == len(dump.chain)
    assert r.summary.logs_valid == 0 and r.summary.logs_unverified == len(dump.logs)
    # nothing proven is never OK: NOT PROVEN, exit bit 32, unless accepted explicitly
    assert r.exit_code == EXIT_UNCHECKED and r.result == ["NOT PROVEN"]
    assert r.not_proven_text() == f"{len(dump.chain)} digest signatures not checked (no public keys)"
    accepted = run(dump, public_keys=[], allow_unsigned=True)
    assert accepted.exit_code == 0 and accepted.result == ["NOT PROVEN"]
    legacy = run(dump, public_keys=[], allow_unsigned=True, require_signatures=True)  # the old opt-in wins
    assert legacy.exit_code == EXIT_UNCHECKED


def test_newest_digest_without_signature_is_unchecked(dump: Dump) -> None:
    r = run(dump, signatures=[])
    assert kinds(r) == [m.SIGNATURE_UNCHECKED]
    assert r.findings[0].files == [dump.rel(dump.chain[-1].key)]
    assert r.summary.digests_valid == len(dump.chain) - 1 and r.exit_code == EXIT_UNCHECKED
    assert r.not_proven_text() == "1 digest signature not checked (no signature for the newest digest)"
    assert r.file(dump.rel(dump.chain[-1].logs[0])).status == m.UNVERIFIED  # type: ignore[union-attr]


def test_head_object_signature_files(dump: Dump, tmp_path: Path) -> None:
    newest = dump.chain[-1]
    folder = tmp_path / "head-object"
    folder.mkdir()
    head: dict[str, Any] = {
        "AcceptRanges": "bytes",
        "ContentLength": 512,
        "ETag": '"abc"',
        "ContentType": "application/json",
        "Metadata": {"signature": newest.signature, "signature-algorithm": "SHA256withRSA"},
    }
    write_json(folder / (newest.key.rsplit("/", 1)[-1] + ".json"), head)
    r = run(dump, signatures=[folder])
    assert r.findings == [] and r.summary.digests_valid == len(dump.chain)
    head["Metadata"]["signature-algorithm"] = "SHA1withRSA"
    write_json(folder / (newest.key.rsplit("/", 1)[-1] + ".json"), head)
    assert kinds(run(dump, signatures=[folder])) == [m.DIGEST_SIGNATURE_INVALID]


def test_restart_after_stop_and_start_logging(dump: Dump) -> None:
    stop, restart = T0 + 2 * HOUR + 1300, T0 + 4 * HOUR + 1800
    restart_chain(dump, stop=stop, restart=restart)
    r = run(dump)
    assert kinds(r) == [m.CHAIN_RESTART] and r.exit_code == 0
    f = r.findings[0]
    assert f.severity == m.INFO and f.end == restart and f.start == dump.chains[0][-1].end
    assert f.details["restart"] == m.iso(restart)
    assert r.chains[0].restarts == [restart]
    # the restart hour is only partly covered: not provably complete
    assert [c.hour for c in r.coverage if c.state == "validation_off"] == [T0 + 3 * HOUR, T0 + 4 * HOUR]
    assert [c.hour for c in r.coverage if c.chain_broken] == [T0 + 3 * HOUR, T0 + 4 * HOUR]
    # a log slipped into the stopped period is flagged
    write_log(dump.bucket_root, T0 + 3 * HOUR + 1200, tag="while-stopped")
    r2 = run(dump)
    assert kinds(r2, m.ERROR) == [m.LOG_UNREFERENCED] and r2.exit_code == EXIT_UNREFERENCED
    assert "validation or logging off" in r2.by_kind(m.LOG_UNREFERENCED)[0].message


def test_backfill_digest_is_valid(dump: Dump) -> None:
    late, back = backfill(dump)  # a log the hourly digest missed
    assert back.key.endswith("_backfill.json.gz")
    sigs: dict[str, Any] = dg.newest_signatures(dump.chains)
    generated = {"signature": back.signature, "backfill-generation-timestamp": m.iso(T0 + 2 * HOUR + 600)}
    write_json(dump.sigs_path, {**sigs, back.key: {"Metadata": generated}})
    r = run(dump)
    assert r.findings == [] and r.exit_code == 0
    assert r.file(dump.rel(late.key)).status == m.VALID  # type: ignore[union-attr]
    assert [c.backfill for c in r.chains] == [False, True]


def test_org_trail_paths(tmp_path: Path) -> None:
    d = make_dump(tmp_path, org_id="o-a1b2c3d4e5", prefix="cloudtrail")
    assert "/o-a1b2c3d4e5/" in d.chain[0].key and d.chain[0].key.startswith("cloudtrail/AWSLogs/")
    r = run(d)
    assert r.findings == [] and r.exit_code == 0 and r.summary.logs_valid == len(d.logs)
    assert r.chains[0].scope == f"{BUCKET}/cloudtrail/AWSLogs/o-a1b2c3d4e5/{ACCOUNT}/CloudTrail/{REGION}"
    d.path(d.logs[0].key).unlink()
    assert kinds(run(d)) == [m.LOG_MISSING]


def test_hostile_digest_content_stays_inside_the_tree(dump: Dump, tmp_path: Path) -> None:
    secret = tmp_path / "outside.json.gz"
    secret.write_bytes(gzip.compress(b"{}"))
    newest = dump.chain[-1]
    re = dg.resign_digest(
        dump.bucket_root,
        newest.key,
        aws_key(),
        lambda doc: doc["logFiles"].append(
            {"s3Bucket": BUCKET, "s3Object": "../../outside.json.gz", "hashValue": "0" * 64}
        ),
    )
    r = run(dump, signatures=[dump.write_signatures({newest.key: re.signature})])
    assert kinds(r) == [m.DIGEST_INVALID_FORMAT]
    assert "escaping" in r.findings[0].message
    assert not any("outside" in f.source_file for f in r.files)


def test_unreadable_digest_and_terminal_escapes(dump: Dump) -> None:
    from trailforensics.verify.report import to_text

    victim = dump.chain[1]
    dump.path(victim.key).write_bytes(b"not gzip")
    evil = write_log(dump.bucket_root, T0 + 4 * HOUR + 100, tag="x")
    evil_path = dump.path(evil.key)
    evil_path.rename(evil_path.with_name(evil_path.name.replace(".json.gz", "\x1b[2J.json.gz")))
    r = run(dump)
    assert m.DIGEST_INVALID_FORMAT in kinds(r) and m.LOG_UNREFERENCED in kinds(r)
    text = to_text(r)
    assert "\x1b" not in text and "\\x1b[2J" in text


def test_cli_json_and_text(dump: Dump) -> None:
    from typer.testing import CliRunner

    import trailforensics.cli.verify_cmd  # noqa: F401 - registers `verify` (until cli.COMMAND_MODULES lists it)
    from trailforensics.cli import _register_commands, app

    _register_commands()
    dump.path(dump.logs[0].key).unlink()
    runner = CliRunner()
    args = [
        "verify",
        str(dump.tree),
        "--public-keys",
        str(dump.keys_path),
        "--signatures",
        str(dump.sigs_path),
    ]
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == EXIT_MISSING, res.output
    doc = json.loads(res.stdout)
    assert doc["exit_code"] == EXIT_MISSING and [f["kind"] for f in doc["findings"]] == [m.LOG_MISSING]
    assert doc["summary"]["logs_missing"] == 1 and doc["findings"][0]["start"].endswith("Z")
    res = runner.invoke(app, args)
    assert res.exit_code == EXIT_MISSING
    assert "ERROR   log_missing" in res.stdout and "Result: MISSING (exit 8" in res.stdout
    empty = dump.tree.parent / "empty"
    empty.mkdir()
    assert runner.invoke(app, ["verify", str(empty)]).exit_code == m.EXIT_ERROR


def test_store_results(dump: Dump, tmp_path: Path) -> None:
    from trailforensics.engine.dataset import Dataset
    from trailforensics.verify import store_results

    dump.path(dump.logs[0].key).unlink()
    report = run(dump)
    ds_path = tmp_path / "case"
    store_results(report, ds_path)
    store_results(run(dump), ds_path)  # a second run replaces the first
    with Dataset(ds_path) as ds:
        rows = ds.sql("SELECT status, count(*) AS n FROM verification GROUP BY ALL ORDER BY 1").to_pylist()
        assert rows == [{"status": "missing", "n": 1}, {"status": "valid", "n": len(report.files) - 1}]
        assert ds.sql("SELECT count(DISTINCT source_file) = count(*) AS u FROM verification").to_pylist()[0]["u"]
        (f,) = ds.sql("SELECT kind, files FROM verification_findings").to_pylist()
        assert f["kind"] == m.LOG_MISSING and dump.rel(dump.logs[0].key) in json.loads(f["files"])
        assert ds.sql("SELECT count(*) AS n FROM verification_coverage").to_pylist()[0]["n"] == 6
        assert ds.sql("SELECT digests_valid FROM verification_chains").to_pylist()[0]["digests_valid"] == 6
    with pytest.raises(Exception, match="inside the verified tree"):
        store_results(report, dump.tree / "ds")
    shutil.rmtree(ds_path)
