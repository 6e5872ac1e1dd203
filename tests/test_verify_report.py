"""verify: what the report, the CLI and the dataset say (coverage states, counts, exit bits, the events join)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner
from verify_fixtures import ACCOUNT, HOUR, REGION, T0, TRAIL, Dump, aws_key, make_dump, write_log

from trailforensics.generate import digests as dg
from trailforensics.generate.writer import gzip_bytes
from trailforensics.verify import (
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_MISSING,
    EXIT_UNCHECKED,
    EXIT_UNREFERENCED,
    VerifyReport,
    verify_tree,
)
from trailforensics.verify import model as m
from trailforensics.verify.report import to_text


def run(d: Dump, **kw: Any) -> VerifyReport:
    return verify_tree(d.tree, **{**d.verify_kwargs(), **kw})


def offset_dump(tmp: Path, offset: int = 20 * 60) -> Dump:
    """make_dump's tree, with digests ending `offset` seconds past each hour (windows straddle hours)."""
    d = make_dump(tmp, hours=5)
    for digest in d.chain:
        d.path(digest.key).unlink()
    d.chains[0] = dg.build_chain(
        d.bucket_root,
        d.logs,
        account=ACCOUNT,
        region=REGION,
        trail_name=TRAIL,
        home_region=REGION,
        bucket=d.bucket,
        start=T0,
        end=T0 + 5 * HOUR,
        offset=offset,
        private_key=aws_key(),
    )
    d.write_signatures()
    return d


# -- 10a: an hour is covered only when nothing breaks it ------------------------------------------------------
def test_hours_partly_hidden_by_a_deleted_digest_are_not_covered(tmp_path: Path) -> None:
    d = offset_dump(tmp_path)
    gone = d.chain[2]  # 01:20 to 02:20
    d.path(gone.key).unlink()
    r = run(d)
    states = {c.hour: (c.state, c.digest_covered, c.chain_broken) for c in r.coverage}
    assert states[T0 + HOUR] == (m.MISSING_DIGEST, True, True)  # 01:00-01:20 covered, the rest hidden
    assert states[T0 + 2 * HOUR] == (m.MISSING_DIGEST, True, True)
    assert states[T0] == (m.COVERED, True, False) and states[T0 + 3 * HOUR][0] == m.COVERED


def test_hours_covered_only_by_a_digest_that_failed(tmp_path: Path) -> None:
    d = offset_dump(tmp_path)
    victim = d.chain[2]
    d.path(victim.key).write_bytes(b"not gzip")  # 10b: unreadable, but present
    r = run(d)
    # INVALID, and NOT PROVEN: the digest before the unreadable one has no signature left to check
    assert sorted({f.kind for f in r.errors()}) == [m.DIGEST_INVALID_FORMAT]
    assert r.exit_code == EXIT_INVALID | EXIT_UNCHECKED
    assert r.summary.digests_missing == 0 and not r.by_kind(m.DIGEST_MISSING)
    states = {c.hour: c.state for c in r.coverage}
    assert states[T0 + HOUR] == states[T0 + 2 * HOUR] == m.INVALID_DIGEST
    for key in victim.logs:  # unlisted now, but not injected: their digest is there and cannot be read
        row = r.file(d.rel(key))
        assert row is not None and row.status == m.UNVERIFIED and "failed verification" in (row.reason or "")
    assert r.summary.logs_unproven == len(victim.logs) and r.summary.logs_not_covered == 0


# -- 10c / 10f: counts that agree, sentences that read --------------------------------------------------------
def test_summary_counts_agree_with_the_findings(tmp_path: Path) -> None:
    d = make_dump(tmp_path, hours=4)
    d.path(d.chain[1].key).unlink()  # its 2 logs are now in a gap
    other = write_log(d.bucket_root, T0 + HOUR, region="ap-south-1", tag="no-digests")
    r = run(d)
    (nc,) = r.by_kind(m.LOGS_NOT_COVERED)
    assert nc.count == r.summary.logs_not_covered == 1 and nc.files == [d.rel(other.key).rsplit("/", 4)[0]]
    assert r.summary.logs_unproven == 2
    text = to_text(r)
    assert f"1 log file under {d.bucket} is covered by no digest (1 folder): it cannot be verified" in text
    assert "2 unverified where digests are missing, invalid or not yet delivered, 1 outside any" in text


def test_unused_signature_entry_grammar(tmp_path: Path) -> None:
    d = make_dump(tmp_path, hours=2)
    bogus = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/ap-south-1/2026/03/10/x.json.gz"
    r = run(d, signatures=[d.write_signatures({**dg.newest_signatures(d.chains), bogus: "00"})])
    (f,) = r.by_kind(m.SIGNATURE_ENTRY_UNUSED)
    assert f.message == "1 signature entry matches no digest in the tree" and f.details["targets"] == [bogus]


# -- 10d: a dataset error keeps the verdict -----------------------------------------------------------------
def cli(args: list[str]) -> Any:
    import trailforensics.cli.verify_cmd  # noqa: F401 - registers `verify`
    from trailforensics.cli import _register_commands, app

    _register_commands()
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_dataset_error_keeps_the_verification_bits(tmp_path: Path, fmt: str) -> None:
    d = make_dump(tmp_path, hours=2)
    d.path(d.logs[0].key).unlink()
    inside = d.tree / "case"  # refused: a dataset inside the evidence tree
    res = cli(["verify", str(d.tree), "-k", str(d.keys_path), "-s", str(d.sigs_path), "-d", str(inside), "-f", fmt])
    assert res.exit_code == EXIT_MISSING | EXIT_ERROR
    assert not inside.exists()
    if fmt == "json":
        doc = json.loads(res.stdout)
        assert doc["exit_code"] == 9 and "not stored" in doc["run_errors"][0]
    else:
        assert "Result: ERROR, MISSING (exit 9:" in res.stdout and "OK" not in res.stdout.split("Result:")[1]
        assert "error: results not stored" in res.stdout
    clean = make_dump(tmp_path / "clean", hours=2)
    keys = ["-k", str(clean.keys_path), "-s", str(clean.sigs_path)]
    res = cli(["verify", str(clean.tree), *keys, "-d", str(clean.tree / "case")])
    assert res.exit_code == EXIT_ERROR and "Result: ERROR (exit 1:" in res.stdout


# -- finding 7: events take the verdict of their own file -----------------------------------------------------
def two_buckets(tmp: Path) -> tuple[Path, dict[str, list[dg.LogRef]]]:
    """Two bucket folders holding the same log keys (two trails delivering the same account's logs)."""
    tree = tmp / "tree"
    logs: dict[str, list[dg.LogRef]] = {}
    for bucket, trail in (("bucket-a", "trail-a"), ("bucket-c", "trail-c")):
        root = tree / bucket
        refs = [write_log(root, T0 + h * HOUR + 900) for h in range(2)]
        chain = dg.build_chain(
            root,
            refs,
            account=ACCOUNT,
            region=REGION,
            trail_name=trail,
            home_region=REGION,
            bucket=bucket,
            start=T0,
            end=T0 + 2 * HOUR,
            offset=0,
            private_key=aws_key(),
        )
        (tmp / f"{bucket}.sigs.json").write_bytes(orjson.dumps(dg.newest_signatures([chain])))
        logs[bucket] = refs
    (tmp / "keys.json").write_bytes(
        orjson.dumps(dg.public_keys_document(aws_key().public_key(), T0 - 86400, T0 + 86400))
    )
    return tree, logs


def test_events_take_the_status_of_their_own_copy(tmp_path: Path) -> None:
    from trailforensics.engine.dataset import Dataset
    from trailforensics.ingest import ingest
    from trailforensics.verify import store_results

    tree, logs = two_buckets(tmp_path)
    key = logs["bucket-c"][0].key
    altered = tree / "bucket-c" / key
    raw = gzip.decompress(altered.read_bytes()).replace(b"DescribeInstances", b"DescribeInstancez")
    altered.write_bytes(gzip_bytes(raw))
    sigs = [tmp_path / "bucket-a.sigs.json", tmp_path / "bucket-c.sigs.json"]
    report = verify_tree(tree, public_keys=[tmp_path / "keys.json"], signatures=sigs)
    assert report.exit_code == EXIT_INVALID
    assert report.file(f"bucket-c/{key}").status == m.INVALID  # type: ignore[union-attr]
    assert report.file(f"bucket-a/{key}").status == m.VALID  # type: ignore[union-attr]

    whole, one = tmp_path / "whole", tmp_path / "one"
    assert ingest([tree], whole).committed
    assert ingest([tree / "bucket-a"], one).committed  # a tree rooted at one bucket: source_file = AWSLogs/...
    for ds in (whole, one):
        store_results(report, ds)
    q = "SELECT source_file, verification_status AS s FROM events WHERE event_name = '{}' ORDER BY 1"
    with Dataset(whole) as ds:
        rows = ds.sql(q.format("DescribeInstances")).to_pylist()
        assert {r["s"] for r in rows if r["source_file"].startswith("bucket-a/")} == {m.VALID}
        altered_rows = ds.sql(q.format("DescribeInstancez")).to_pylist()
        assert altered_rows and {r["s"] for r in altered_rows} == {m.INVALID}
    with Dataset(one) as ds:
        by_file = {r["source_file"]: r["s"] for r in ds.sql(q.format("DescribeInstances")).to_pylist()}
        # the altered key is ambiguous (two copies, two verdicts): not claimed valid; the other is
        assert by_file[key] == m.UNVERIFIED and by_file[logs["bucket-a"][1].key] == m.VALID
    shutil.rmtree(whole)


def test_report_json_times_are_utc_z(tmp_path: Path) -> None:
    d = make_dump(tmp_path, hours=2)
    write_log(d.bucket_root, T0 + 1800, tag="x")
    doc = run(d).to_json()
    assert doc["exit_code"] == EXIT_UNREFERENCED and doc["run_errors"] == []
    assert all(f["start"].endswith("Z") for f in doc["findings"])
    assert all(c["hour"].endswith("Z") for c in doc["coverage"])
