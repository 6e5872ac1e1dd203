"""verify on the committed sample: exactly the storyline's findings (sample_logs/README.md, "verify")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_LOGS, sample_facts

from trailforensics.verify import EXIT_MISSING, VerifyReport, verify_tree
from trailforensics.verify import model as m

SAMPLE = SAMPLE_LOGS
KEYS = SAMPLE / "_verification" / "public-keys.json"
SIGS = SAMPLE / "_verification" / "digest-signatures.json"
AUDIT_BUCKET = "metrolio-audit-logs-483920175562"
ORG_BUCKET = "metrolio-org-trail-logs-205117946380"


def facts() -> dict[str, Any]:
    return sample_facts()


@pytest.fixture(scope="module")
def report() -> VerifyReport:
    if not KEYS.is_file():
        pytest.skip("sample_logs/_verification is not present")
    return verify_tree(SAMPLE, public_keys=[KEYS], signatures=[SIGS])


def test_sample_reports_exactly_the_storyline(report: VerifyReport) -> None:
    f = facts()
    trails = f["trails"]
    s = report.summary
    # all digests valid: signatures and chain hashes
    n_digests = trails["metrolio-audit-trail"]["digest_files"] + trails["metrolio-s3-trail"]["digest_files"]
    assert s.digests_found == s.digests_valid == n_digests
    assert s.digests_invalid == s.digests_missing == s.digests_unchecked == 0
    # one log file missing: the one that held StopLogging
    deleted = _deleted_key(f)
    errors = report.errors()
    assert [e.kind for e in errors] == [m.LOG_MISSING]
    assert errors[0].files == [f"{AUDIT_BUCKET}/{deleted}"]
    assert errors[0].details["digest"].endswith(_deleted_digest(f))
    assert s.logs_missing == 1 and s.logs_invalid == 0 and s.logs_unreferenced == 0 and s.logs_unverified == 0
    # every present listed log file matches
    assert s.logs_valid == s.logs_listed - 1
    assert s.logs_listed == trails["metrolio-audit-trail"]["log_files"] + 1 + trails["metrolio-s3-trail"]["log_files"]
    # the chain restarts at StartLogging in the 6 regions
    restart = f["start_logging"]["time"]
    restarts = report.by_kind(m.CHAIN_RESTART)
    assert len(restarts) == len(f["digest_restarts"]) == 6
    assert {r.details["restart"] for r in restarts} == {restart}
    assert {r.details["digest_key"] for r in restarts} == set(f["digest_restarts"].values())
    assert all(r.end == _epoch(restart) for r in restarts)
    # the org trail has no digests: reported as not covered (a note, not an error)
    (not_covered,) = report.by_kind(m.LOGS_NOT_COVERED)
    assert not_covered.count == trails["metrolio-org-trail"]["log_files"] == s.logs_not_covered
    assert all(folder.startswith(ORG_BUCKET + "/") for folder in not_covered.details["folders"])
    assert {x.kind for x in report.findings} == {m.LOG_MISSING, m.CHAIN_RESTART, m.LOGS_NOT_COVERED}
    assert s.insight_files == trails["metrolio-audit-trail"]["insight_files"]
    assert report.exit_code == EXIT_MISSING
    chains = {(c.region, c.trail) for c in report.chains}
    assert chains == {(r, "metrolio-audit-trail") for r in f["digest_regions"]} | {("eu-west-1", "metrolio-s3-trail")}


def _epoch(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _deleted_key(f: dict[str, Any]) -> str:
    for v in f.values():
        if isinstance(v, dict) and "deleted_log_key" in v:
            return str(v["deleted_log_key"])
    raise AssertionError("no deleted_log_key in the facts")


def _deleted_digest(f: dict[str, Any]) -> str:
    for v in f.values():
        if isinstance(v, dict) and "deleted_log_digest" in v:
            return str(v["deleted_log_digest"])
    raise AssertionError("no deleted_log_digest in the facts")


def test_sample_cli_with_dataset(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import trailforensics.cli.verify_cmd  # noqa: F401 - registers `verify` (until cli.COMMAND_MODULES lists it)
    from trailforensics.cli import _register_commands, app
    from trailforensics.engine.dataset import Dataset
    from trailforensics.ingest import ingest

    _register_commands()
    ds_path = tmp_path / "case"
    summary = ingest([SAMPLE], ds_path)
    assert summary.committed
    res = CliRunner().invoke(
        app,
        [
            "verify",
            str(SAMPLE),
            "--public-keys",
            str(KEYS),
            "--signatures",
            str(SIGS),
            "--dataset",
            str(ds_path),
        ],
    )
    assert res.exit_code == EXIT_MISSING, res.output
    assert "1 MISSING" in res.stdout and "stored" in res.stdout
    with Dataset(ds_path) as ds:
        rows = ds.sql("SELECT status, count(*) AS n FROM verification WHERE kind = 'cloudtrail' GROUP BY ALL")
        by_status = {r["status"]: r["n"] for r in rows.to_pylist()}
        assert by_status == {"valid": 500, "missing": 1, "unverified": 853}
        # events join the table on source_file: audit and S3 trail events are proven, the org trail's not
        joined = ds.sql("""
            SELECT v.status, count(*) AS n FROM events e JOIN verification v USING (source_file)
            GROUP BY ALL ORDER BY 1""").to_pylist()
        assert {r["status"] for r in joined} == {"valid", "unverified"}
        unjoined = ds.sql("SELECT count(*) AS n FROM events e ANTI JOIN verification v USING (source_file)")
        assert unjoined.to_pylist()[0]["n"] == 0
        missing = ds.sql("SELECT source_file FROM verification WHERE status = 'missing'").to_pylist()
        assert missing[0]["source_file"].endswith("_20260310T0247Z_4SdAfwb7L4etQHLB.json.gz")
