"""verify against tampering, one class at a time: the result word, the exit bits, the files named
and the witness used.

The evidence is built with the generator's own signing (`trailforensics.generate.digests`), never
with the verifier's code: one multi-region trail (eu-west-1 home, us-east-1, ap-southeast-2) whose hourly digests
end at different minutes past the hour, as CloudTrail's do, its public key and the signatures
file captured with the tree (each chain's newest digest).
"""

from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner
from verify_fixtures import ACCOUNT, BUCKET, HOUR, REGION, T0, TRAIL, attacker_key, aws_key, kinds, only, write_log

from trailforensics.generate import digests as dg
from trailforensics.verify import (
    EXIT_INVALID,
    EXIT_MISSING,
    EXIT_UNCHECKED,
    EXIT_UNREFERENCED,
    VerifyReport,
    verify_tree,
)
from trailforensics.verify import model as m
from trailforensics.verify.report import to_text

OFFSETS = {REGION: 10 * 60, "us-east-1": 31 * 60, "ap-southeast-2": 22 * 60}  # digests end at :10, :31, :22
HOURS = 4


@dataclass
class Case:
    tree: Path
    root: Path
    chains: dict[str, list[dg.Digest]]
    logs: dict[str, list[dg.LogRef]]
    keys: Path
    sigs: Path

    def path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def rel(self, key: str) -> str:
        return f"{BUCKET}/{key}"

    def sign(self, digests: list[dg.Digest]) -> None:
        self.sigs.write_bytes(orjson.dumps({d.key: d.signature for d in digests}))

    def run(self, **kw: Any) -> VerifyReport:
        return verify_tree(self.tree, **{"public_keys": [self.keys], "signatures": [self.sigs], **kw})


def trail(tmp: Path, *, name: str = TRAIL, root: Path | None = None, hours: int = HOURS, prefix: str = "") -> Case:
    root = root or tmp / "dump" / BUCKET
    chains, logs = {}, {}
    for region, offset in OFFSETS.items():
        refs = [
            write_log(root, T0 + h * HOUR + 300 + i * 1500, region=region, tag=name, prefix=prefix)
            for h in range(hours)
            for i in range(2)
        ]
        logs[region] = refs
        chains[region] = dg.build_chain(
            root,
            refs,
            account=ACCOUNT,
            region=region,
            trail_name=name,
            home_region=REGION,
            bucket=BUCKET,
            start=T0,
            end=T0 + hours * HOUR,
            offset=offset,
            private_key=aws_key(),
            prefix=prefix,
        )
    meta = tmp / f"meta-{name}"
    meta.mkdir(exist_ok=True)
    keys = meta / "keys.json"
    keys.write_bytes(orjson.dumps(dg.public_keys_document(aws_key().public_key(), T0 - 86400, T0 + 30 * 86400)))
    c = Case(root.parent, root, chains, logs, keys, meta / "sigs.json")
    c.sign([ch[-1] for ch in chains.values()])
    return c


def test_clean_trail_with_keys_and_signatures_is_ok(tmp_path: Path) -> None:
    c = trail(tmp_path)
    r = c.run()
    assert r.findings == [] and r.exit_code == 0 and r.result == ["OK"]
    assert r.summary.digests_valid == r.summary.digests_found == sum(len(x) for x in c.chains.values())
    assert to_text(r).rstrip().endswith("Result: OK (exit 0: everything checked is valid)")


# -- log files ----------------------------------------------------------------------------------------------
def test_log_renamed(tmp_path: Path) -> None:
    c = trail(tmp_path)
    log = c.logs[REGION][3]
    name = c.path(log.key).name  # ..._<YYYYMMDDTHHMMZ>_<16 random chars>.json.gz: another random part
    renamed = c.path(log.key).with_name(name[: -len("0123456789abcdef.json.gz")] + "ffffffffffffffff.json.gz")
    c.path(log.key).rename(renamed)
    r = c.run()
    assert r.result == ["MISSING", "UNREFERENCED"] and r.exit_code == EXIT_MISSING | EXIT_UNREFERENCED
    assert only(r, m.LOG_MISSING).files == [c.rel(log.key)]
    assert only(r, m.LOG_UNREFERENCED).files == [renamed.relative_to(c.tree).as_posix()]


def test_log_replaced_by_another_valid_log_of_the_same_trail(tmp_path: Path) -> None:
    c = trail(tmp_path)
    victim, other = c.logs[REGION][2], c.logs[REGION][5]
    shutil.copyfile(c.path(other.key), c.path(victim.key))
    r = c.run()
    assert r.result == ["INVALID"] and r.exit_code == EXIT_INVALID
    f = only(r, m.LOG_HASH_MISMATCH)
    assert f.files == [c.rel(victim.key)] and f.details["expected"] == victim.sha256
    assert f.details["actual"] == other.sha256
    assert r.file(c.rel(other.key)).status == m.VALID  # type: ignore[union-attr]


# -- digests ------------------------------------------------------------------------------------------------
def test_digest_truncated(tmp_path: Path) -> None:
    c = trail(tmp_path)
    victim = c.chains[REGION][2]
    data = c.path(victim.key).read_bytes()
    c.path(victim.key).write_bytes(data[: len(data) // 2])
    r = c.run()
    assert "INVALID" in r.result and r.exit_code & EXIT_INVALID and not r.by_kind(m.DIGEST_MISSING)
    f = only(r, m.DIGEST_INVALID_FORMAT)
    assert f.files == [c.rel(victim.key)] and "cannot read" in f.message
    # its predecessor's signature was in it: NOT PROVEN as well
    assert r.result == ["INVALID", "NOT PROVEN"] and r.exit_code == EXIT_INVALID | EXIT_UNCHECKED


def test_digest_of_another_trail_put_in_place_of_the_newest(tmp_path: Path) -> None:
    c = trail(tmp_path)
    other = trail(tmp_path / "elsewhere", name="other-trail")  # a genuine digest of another trail
    victim = c.chains[REGION][-1]
    shutil.copyfile(other.path(other.chains[REGION][-1].key), c.path(victim.key))
    c.sign([victim, c.chains[REGION][-2], *(ch[-1] for r, ch in c.chains.items() if r != REGION)])
    r = c.run()
    assert r.result == ["INVALID", "MISSING"] and r.exit_code == EXIT_INVALID | EXIT_MISSING
    moved = only(r, m.DIGEST_MOVED)
    assert moved.files == [c.rel(victim.key)]
    missing = only(r, m.DIGEST_MISSING)
    assert "eu-west-1 audit-trail" in (missing.chain or "") and c.rel(victim.key) in missing.files
    assert missing.details["witness"] == "sibling_regions"  # us-east-1's digest ends 21 min after it
    assert {w["kind"] for w in missing.details["witnesses"]} >= {"sibling_regions", "signatures_file"}
    for key in victim.logs:  # its logs are still there: unverified, because their digest was deleted
        row = r.file(c.rel(key))
        assert row is not None and row.status == m.UNVERIFIED and "was deleted" in (row.reason or "")
        assert c.rel(key) in missing.details["unverified_logs"]


def test_region_digest_folder_deleted(tmp_path: Path) -> None:
    c = trail(tmp_path)
    shutil.rmtree(c.root / "AWSLogs" / ACCOUNT / "CloudTrail-Digest" / "us-east-1")
    c.sign([c.chains[REGION][-1], c.chains["ap-southeast-2"][-1]])  # the signatures captured with this tree
    r = c.run()
    assert kinds(r, m.ERROR) == [m.DIGEST_MISSING] and r.exit_code == EXIT_MISSING and r.result == ["MISSING"]
    f = only(r, m.DIGEST_MISSING)
    assert f.details["position"] == "region" and f.details["witness"] == "sibling_regions"
    assert f.files[0] == f"{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1"
    # "about" as many as the sibling windows holding its logs' deliveries (5 here: 4 hours + the first part)
    assert abs(f.count - len(c.chains["us-east-1"])) <= 1 and r.summary.digests_missing == f.count
    logs = [c.rel(x.key) for x in c.logs["us-east-1"]]
    assert sorted(f.details["unverified_logs"]) == sorted(logs)
    for rel in logs:
        row = r.file(rel)
        assert row is not None and row.status == m.UNVERIFIED and "was deleted" in (row.reason or "")
    assert not r.by_kind(m.LOGS_NOT_COVERED)


def test_region_deleted_with_its_logs_named_by_the_signatures_file(tmp_path: Path) -> None:
    c = trail(tmp_path)
    shutil.rmtree(c.root / "AWSLogs" / ACCOUNT / "CloudTrail-Digest" / "us-east-1")
    shutil.rmtree(c.root / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1")
    r = c.run()  # the signatures file still names us-east-1's newest digest
    f = only(r, m.DIGEST_MISSING)
    assert f.details["position"] == "region" and f.details["witness"] == "signatures_file"
    assert c.rel(c.chains["us-east-1"][-1].key) in f.files and r.exit_code == EXIT_MISSING
    assert not r.by_kind(m.SIGNATURE_ENTRY_UNUSED)
    # without it, nothing in the tree says the trail ever logged there
    c.sign([c.chains[REGION][-1], c.chains["ap-southeast-2"][-1]])
    assert c.run().findings == []


def test_newest_digest_deleted_its_logs_left_with_witnesses(tmp_path: Path) -> None:
    c = trail(tmp_path)
    victim = c.chains[REGION][-1]
    c.path(victim.key).unlink()
    r = c.run()  # the signatures file names it, and us-east-1's newest digest ends after it
    f = only(r, m.DIGEST_MISSING)
    assert [w["kind"] for w in f.details["witnesses"]] == ["sibling_regions", "signatures_file"]
    assert f.details["position"] == "newest" and c.rel(victim.key) in f.files and f.count == 1
    assert "signatures file names" in f.message and "region us-east-1" in f.message  # ends 21 min after it
    assert sorted(f.details["unverified_logs"]) == sorted(c.rel(k) for k in victim.logs)
    # MISSING; NOT PROVEN too: the digest now newest has no signature in the file
    assert r.result == ["MISSING", "NOT PROVEN"] and r.exit_code == EXIT_MISSING | EXIT_UNCHECKED
    # the sibling alone suffices (signature of the present newest supplied: nothing unproven)
    c.sign([c.chains[REGION][-2], *(ch[-1] for r, ch in c.chains.items() if r != REGION)])
    r2 = c.run()
    assert r2.result == ["MISSING"] and only(r2, m.DIGEST_MISSING).details["witness"] == "sibling_regions"


def test_newest_digest_deleted_without_witness_is_a_warning(tmp_path: Path) -> None:
    c = trail(tmp_path)
    victim = c.chains["us-east-1"][-1]  # the newest digest of the bucket: no sibling ends after it
    c.path(victim.key).unlink()
    late = write_log(c.root, victim.start + 600, region="us-east-1", tag="late")  # it would list this log
    c.sign([c.chains[REGION][-1], c.chains["us-east-1"][-2], c.chains["ap-southeast-2"][-1]])  # not naming it
    r = c.run()
    assert kinds(r) == [m.DIGEST_MAYBE_MISSING] and r.exit_code == 0 and r.result == ["OK"]
    f = only(r, m.DIGEST_MAYBE_MISSING)
    assert f.severity == m.WARNING and [w["kind"] for w in f.details["hints"]] == ["log_files_after"]
    assert f.details["witnesses"] == [] and r.summary.digests_missing == 0 and c.rel(late.key) in f.files


def test_fresh_copy_before_the_next_hourly_digest_is_no_alarm(tmp_path: Path) -> None:
    c = trail(tmp_path)
    when = T0 + 3 * HOUR + 5 * 60  # 03:05: eu-west-1's 03:10 digest and us-east-1's 03:31 are not out yet
    for region, chain in c.chains.items():
        for d in [d for d in chain if d.end > when]:
            c.path(d.key).unlink()
        c.chains[region] = [d for d in chain if d.end <= when]
        for x in c.logs[region]:
            if x.delivered > when:
                c.path(x.key).unlink()
    c.sign([ch[-1] for ch in c.chains.values()])
    r = c.run()
    assert kinds(r, m.ERROR) == [] and r.exit_code == 0 and r.result == ["OK"]


def test_other_trails_of_the_bucket_date_the_copy(tmp_path: Path) -> None:
    c = trail(tmp_path, hours=2)
    later = trail(tmp_path, name="later-trail", root=c.root, hours=4, prefix="later")  # 2 h more, same bucket
    for region in OFFSETS:  # the audit trail's newest digests are gone; other witnesses are removed
        for d in c.chains[region][-1:]:
            c.path(d.key).unlink()
    for x in later.logs[REGION] + later.logs["us-east-1"]:
        if x.delivered > T0 + 2 * HOUR:
            later.path(x.key).unlink()  # the later trail's own log files do not date the copy here
    c.sign([c.chains[r][-2] for r in OFFSETS] + [ch[-1] for ch in later.chains.values()])
    r = c.run()
    audit = [f for f in r.by_kind(m.DIGEST_MISSING) if f.chain and " audit-trail " in f.chain]
    logged = {region for region in OFFSETS if c.chains[region][-1].logs}  # its deleted digest listed logs
    assert {(f.chain or "").split(" ")[1] for f in audit} == logged and len(logged) >= 2
    assert r.exit_code & EXIT_MISSING
    for f in audit:  # the trail logged after its newest digest, and the copy is later than the next one was due
        assert [w["kind"] for w in f.details["witnesses"]] == ["log_files_after", "other_trails"]
        assert "later-trail" in f.message
    # with no log of the trail after its newest digest, the other trail dates the copy but the trail
    # may have stopped: a warning that says so
    for region in OFFSETS:
        for key in c.chains[region][-1].logs:
            c.path(key).unlink()
    r2 = c.run()
    assert not [f for f in r2.by_kind(m.DIGEST_MISSING) if f.chain and " audit-trail " in f.chain]
    warn = [f for f in r2.by_kind(m.DIGEST_MAYBE_MISSING) if f.chain and " audit-trail " in f.chain]
    assert len(warn) == len(OFFSETS) and all("stopped logging" in f.message for f in warn)
    assert all(f.details["hints"][0]["kind"] == "other_trails" for f in warn)


# -- keys and signatures ------------------------------------------------------------------------------------
def test_keys_missing_is_not_proven(tmp_path: Path) -> None:
    c = trail(tmp_path)
    n = sum(len(x) for x in c.chains.values())
    r = c.run(public_keys=[])
    assert r.result == ["NOT PROVEN"] and r.exit_code == EXIT_UNCHECKED
    assert (
        to_text(r)
        .rstrip()
        .splitlines()[-1]
        .startswith(f"Result: NOT PROVEN: {n} digest signatures not checked (no public keys) (exit 32:")
    )
    # hash chain and log hashes still run: a replaced log is still INVALID
    shutil.copyfile(c.path(c.logs[REGION][1].key), c.path(c.logs[REGION][0].key))
    r2 = c.run(public_keys=[])
    assert r2.result == ["INVALID", "NOT PROVEN"] and r2.exit_code == EXIT_INVALID | EXIT_UNCHECKED
    accepted = c.run(public_keys=[], allow_unsigned=True)
    assert accepted.exit_code == EXIT_INVALID and "accepted with --allow-unsigned" in to_text(accepted)


def test_wrong_key(tmp_path: Path) -> None:
    c = trail(tmp_path)
    c.keys.write_bytes(orjson.dumps(dg.public_keys_document(attacker_key().public_key(), T0 - 86400, T0 + 86400)))
    r = c.run()
    assert r.result == ["INVALID"] and r.exit_code == EXIT_INVALID
    found = r.by_kind(m.DIGEST_NO_PUBLIC_KEY)  # one per chain
    assert sum(f.count for f in found) == sum(len(x) for x in c.chains.values()) == r.summary.digests_invalid
    assert {f.details["fingerprint"] for f in found} == {dg.fingerprint(aws_key().public_key())}
    assert r.summary.logs_valid == 0


def test_key_outside_its_validity_window(tmp_path: Path) -> None:
    c = trail(tmp_path)
    c.keys.write_bytes(orjson.dumps(dg.public_keys_document(aws_key().public_key(), T0 + 30 * 86400, T0 + 60 * 86400)))
    r = c.run()
    assert r.result == ["INVALID"] and r.exit_code == EXIT_INVALID
    named = {file for f in r.by_kind(m.DIGEST_KEY_NOT_VALID) for file in f.files}
    assert named == {c.rel(d.key) for ch in c.chains.values() for d in ch}
    assert r.summary.digests_valid == 0 and r.summary.logs_valid == 0


def test_signature_forged_with_another_key_in_the_signatures_file(tmp_path: Path) -> None:
    c = trail(tmp_path)
    newest = c.chains[REGION][-1]
    raw = gzip.decompress(c.path(newest.key).read_bytes())
    to_sign = dg.string_to_sign(
        orjson.loads(raw)["digestEndTime"], BUCKET, newest.key, sha256(raw).hexdigest(), c.chains[REGION][-2].signature
    )
    c.sign([ch[-1] for r, ch in c.chains.items() if r != REGION])
    c.sigs.write_bytes(
        orjson.dumps({**orjson.loads(c.sigs.read_bytes()), newest.key: dg.sign(attacker_key(), to_sign)})
    )
    r = c.run()
    assert r.result == ["INVALID"] and only(r, m.DIGEST_SIGNATURE_INVALID).files == [c.rel(newest.key)]


# -- the command line ---------------------------------------------------------------------------------------
def cli(args: list[str]) -> Any:
    import trailforensics.cli.verify_cmd  # noqa: F401 - registers `verify`
    from trailforensics.cli import _register_commands, app

    _register_commands()
    return CliRunner().invoke(app, args)


def test_cli_not_proven_allow_unsigned_and_the_old_option(tmp_path: Path) -> None:
    c = trail(tmp_path)
    res = cli(["verify", str(c.tree), "-q"])
    assert res.exit_code == EXIT_UNCHECKED and "Result: NOT PROVEN: " in res.stdout
    assert "OK" not in res.stdout.split("Result:")[1]
    res = cli(["verify", str(c.tree), "-q", "--allow-unsigned"])
    assert (
        res.exit_code == 0 and "Result: NOT PROVEN: " in res.stdout and "accepted with --allow-unsigned" in res.stdout
    )
    res = cli(["verify", str(c.tree), "-q", "--allow-unsigned", "--require-signatures"])
    assert res.exit_code == EXIT_UNCHECKED and "deprecated" in res.stderr
    res = cli(["verify", str(c.tree), "-q", "-k", str(c.keys), "-s", str(c.sigs), "-f", "json"])
    doc = orjson.loads(res.stdout)
    assert res.exit_code == 0 and doc["result"] == ["OK"] and doc["not_proven"] is None
    help_text = cli(["verify", "--help"]).stdout
    for word in ("OK", "NOT PROVEN", "INVALID", "MISSING", "UNREFERENCED", "--allow-unsigned", "witness"):
        assert word in help_text, word
