"""Storing a VerifyReport in a dataset: tables `verification` (+ findings, coverage, chains).

Each run replaces the previous results (a new snapshot whose ``verification*`` tables list only
this run's files), committed like an ingest run: files staged under ``.staging/<run>/``, the
snapshot swapped atomically under the dataset's write lock.  The engine exposes every extra
table as a view of the same name.

``verification.source_file`` is relative to the verified tree's root, like
``events.source_file`` when the same folder was ingested (both use ``discovery.source_root``).
"""

from __future__ import annotations

import json
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.schema import TIMESTAMP
from trailforensics.store import layout
from trailforensics.store.lock import WriteLock
from trailforensics.store.writer import parquet_writer
from trailforensics.verify import model as m

S = pa.string()

VERIFICATION_SCHEMA = pa.schema(
    [
        pa.field("source_file", S),
        pa.field("kind", S),
        pa.field("status", S),
        pa.field("reason", S),
        pa.field("digest_key", S),
        pa.field("bucket", S),
        pa.field("object_key", S),
        pa.field("account_id", S),
        pa.field("region", S),
        pa.field("trail", S),
        pa.field("expected_sha256", S),
        pa.field("actual_sha256", S),
        pa.field("signature", S),
        pa.field("file_time", TIMESTAMP),
        pa.field("digest_start", TIMESTAMP),
        pa.field("digest_end", TIMESTAMP),
        pa.field("size", pa.int64()),
        pa.field("verify_run", S),
        pa.field("verified_at", TIMESTAMP),
        pa.field("tree", S),
    ]
)

VERIFICATION_DOCS: dict[str, str] = {
    "source_file": "Path relative to the verified tree's root, like `events.source_file` (`AWSLogs/...`, "
    "prefixed by the bucket folder when the tree holds several buckets). For missing files: where the file "
    "should be. At most one row per `source_file` in a run.",
    "kind": "`cloudtrail` (log file), `cloudtrail-digest` or `cloudtrail-insight`.",
    "status": "`valid` (log: hash matches a digest that passed every check; digest: every check passed), "
    "`invalid` (altered, appended to, forged, moved, unreadable), `unreferenced` (a file in a log folder "
    "digests cover that no proven digest lists: injected, delivered while validation was off, or a name "
    "CloudTrail never writes there), `unverified` (cannot be proven: no digest covers it, its digest's "
    "signature was not checked or a check of its digest failed, or its digest is missing) or `missing` "
    "(listed by a digest, or named by the next digest, but absent: deleted).",
    "reason": "Why the file is not `valid`; NULL when valid.",
    "digest_key": "Log files: the object key of the digest listing it; digests: their own `digestS3Object`.",
    "bucket": "The S3 bucket the digest names for the file.",
    "object_key": "The S3 object key (`[prefix/]AWSLogs/...`).",
    "account_id": "Account id from the path.",
    "region": "Region from the path.",
    "trail": "Trail name (from the digest's key); NULL for files no digest lists.",
    "expected_sha256": "The `hashValue` the digest records (missing digests: the successor's "
    "`previousDigestHashValue`).",
    "actual_sha256": "SHA-256 of the decompressed first gzip member, as computed.",
    "signature": "Digests: `valid`, `invalid`, `no-key` (keys supplied, none with its fingerprint), "
    "`unchecked-no-keys`, `unchecked-no-signature`; NULL for log files.",
    "file_time": "The time in the file name (log files: the delivery minute, as the name gives it even when "
    "implausible; digests: the end time).",
    "digest_start": "Start of the listing digest's window (digests: their own).",
    "digest_end": "End of the listing digest's window (digests: their own).",
    "size": "Bytes on disk.",
    "verify_run": "Id of the verify run that wrote the row.",
    "verified_at": "When the verify run ran.",
    "tree": "Absolute path of the verified tree.",
}

FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("kind", S),
        pa.field("severity", S),
        pa.field("message", S),
        pa.field("files", S),  # JSON array text
        pa.field("chain", S),
        pa.field("start_time", TIMESTAMP),
        pa.field("end_time", TIMESTAMP),
        pa.field("count", pa.int64()),
        pa.field("details", S),  # JSON object text
        pa.field("verify_run", S),
    ]
)

COVERAGE_SCHEMA = pa.schema(
    [
        pa.field("scope", S),
        pa.field("account_id", S),
        pa.field("region", S),
        pa.field("hour", TIMESTAMP),
        pa.field("log_files", pa.int64()),
        pa.field("log_files_listed", pa.int64()),
        pa.field("digest_covered", pa.bool_()),
        pa.field("chain_broken", pa.bool_()),
        pa.field("state", S),
        pa.field("trails", S),
        pa.field("verify_run", S),
    ]
)

CHAINS_SCHEMA = pa.schema(
    [
        pa.field("chain", S),
        pa.field("bucket", S),
        pa.field("account_id", S),
        pa.field("region", S),
        pa.field("trail", S),
        pa.field("home_region", S),
        pa.field("backfill", pa.bool_()),
        pa.field("scope", S),
        pa.field("first_start", TIMESTAMP),
        pa.field("last_end", TIMESTAMP),
        pa.field("digests", pa.int64()),
        pa.field("digests_valid", pa.int64()),
        pa.field("digests_invalid", pa.int64()),
        pa.field("digests_missing", pa.int64()),
        pa.field("digests_unchecked", pa.int64()),
        pa.field("logs_listed", pa.int64()),
        pa.field("logs_valid", pa.int64()),
        pa.field("logs_invalid", pa.int64()),
        pa.field("logs_missing", pa.int64()),
        pa.field("restarts", S),  # JSON array of times
        pa.field("gaps", S),  # JSON array of {from, to, digests}
        pa.field("verify_run", S),
    ]
)

TABLES = ("verification", "verification_findings", "verification_coverage", "verification_chains")

FINDINGS_DOCS: dict[str, str] = {
    "kind": "Finding kind (see *Verification finding kinds* below).",
    "severity": "`error`, `warning` or `info`.",
    "message": "One line for a human.",
    "files": "JSON array of the tree-relative paths (or object keys) concerned.",
    "chain": "The digest chain concerned (as `verification_chains.chain`).",
    "start_time": "Start of the time range the finding is about (UTC).",
    "end_time": "End of that range (UTC).",
    "count": "How many files or digests the finding covers.",
    "details": "JSON object with kind-specific details (expected and actual hashes, fingerprints, ...).",
    "verify_run": "Id of the verify run that wrote the row.",
}

COVERAGE_DOCS: dict[str, str] = {
    "scope": "Tree-relative log folder `.../AWSLogs/[o-id/]<account>/CloudTrail/<region>`.",
    "account_id": "Account id.",
    "region": "Region.",
    "hour": "The UTC hour the row describes.",
    "log_files": "Log files whose file-name time falls in the hour.",
    "log_files_listed": "Of those, how many a digest lists.",
    "digest_covered": "The window of a present digest that passed its checks (signature valid or unchecked) "
    "overlaps the hour.",
    "chain_broken": "Missing digests or a validation restart overlap the hour.",
    "state": "`covered` (digests that passed their checks cover the hour and nothing breaks it), "
    "`missing_digest` (digests deleted: part of the hour is hidden), `invalid_digest` (part of the hour is "
    "covered only by a digest that failed verification), `validation_off` (validation stopped, or the chain "
    "restarted, during the hour) or `not_covered` (no digest chain covers the hour); the first that applies, "
    "in that order from `missing_digest`.",
    "trails": "The trails whose chains cover the scope, comma-separated.",
    "verify_run": "Id of the verify run that wrote the row.",
}

CHAINS_DOCS: dict[str, str] = {
    "chain": "Chain id: `<account> <region> <trail> (home <region>)`, plus ` backfill` for backfill digests.",
    "bucket": "The S3 bucket its digests name.",
    "account_id": "Account id.",
    "region": "Region the chain covers.",
    "trail": "Trail name.",
    "home_region": "The trail's home region.",
    "backfill": "A chain of `_backfill` digests (re-delivered by CloudTrail), kept apart from the regular chain.",
    "scope": "Tree-relative folder of the logs it covers.",
    "first_start": "Start of its first digest window (UTC); digests that failed verification do not count, "
    "except a window their sound successor vouches for. NULL when no digest passed.",
    "last_end": "End of its last digest window (UTC), on the same terms.",
    "digests": "Digest files found.",
    "digests_valid": "Digests whose every check passed.",
    "digests_invalid": "Digests that failed a check (signature, hash, format, location).",
    "digests_missing": "Digests the chain proves existed but that are absent.",
    "digests_unchecked": "Digests whose signature could not be checked (no public keys supplied, or no known "
    "signature).",
    "logs_listed": "Log files its digests list.",
    "logs_valid": "Listed log files whose hash matches a digest that passed every check.",
    "logs_invalid": "Listed log files whose hash does not match, or that are unreadable.",
    "logs_missing": "Listed log files absent from the tree.",
    "restarts": "JSON array of the times the chain restarted (validation turned off and on, or a new trail).",
    "gaps": "JSON array of `{from, to, digests}`: time hidden by missing digests (between two digests, or at "
    "the chain's edges when the tree proves they existed).",
    "verify_run": "Id of the verify run that wrote the row.",
}

# table -> (schema, column docs, one-line description); SCHEMA.md is generated from this.
TABLE_DOCS: dict[str, tuple[pa.Schema, dict[str, str], str]] = {
    "verification": (
        VERIFICATION_SCHEMA,
        VERIFICATION_DOCS,
        "One row per log or digest file of the last `verify --dataset` run (and per missing file).",
    ),
    "verification_findings": (FINDINGS_SCHEMA, FINDINGS_DOCS, "The findings of that run, worst first."),
    "verification_coverage": (
        COVERAGE_SCHEMA,
        COVERAGE_DOCS,
        "Per log folder and UTC hour: is the hour provably complete?",
    ),
    "verification_chains": (CHAINS_SCHEMA, CHAINS_DOCS, "One row per digest chain."),
}


class StoreError(TrailforensicsError, RuntimeError):
    pass


def _ts(t: int | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, tz=timezone.utc)


def _write(path: Path, schema: pa.Schema, rows: list[dict[str, Any]]) -> None:
    writer = parquet_writer(path, schema, dictionary=True)
    try:
        writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    finally:
        writer.close()


def _unique_rows(report: m.VerifyReport) -> list[m.FileResult]:
    seen: dict[str, m.FileResult] = {}
    for r in report.files:
        seen.setdefault(r.source_file, r)  # the first (most specific) result for a path wins
    return list(seen.values())


def store_results(report: m.VerifyReport, dataset: Path | str) -> list[str]:
    """Write the report into `dataset` (created when absent); returns the table files written."""
    root = Path(dataset).absolute()
    tree = Path(report.tree).absolute()
    if root == tree or tree in root.parents:
        raise StoreError(f"the dataset {root} is inside the verified tree {tree}: choose a folder outside it")
    layout.create(root)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    run_id = now.strftime("%Y%m%dT%H%M%SZ") + "-v" + secrets.token_hex(3)
    with WriteLock(root):
        layout.recover(root)
        snap = layout.load_snapshot(root)
        stage = layout.staging_dir(root, run_id)
        try:
            rels = {t: f"verification/{t}-{run_id}.parquet" for t in TABLES}
            files = [
                {
                    **r.to_json(),
                    "file_time": _ts(r.file_time),
                    "digest_start": _ts(r.digest_start),
                    "digest_end": _ts(r.digest_end),
                    "verify_run": run_id,
                    "verified_at": now,
                    "tree": report.tree,
                }
                for r in _unique_rows(report)
            ]
            _write(stage / rels["verification"], VERIFICATION_SCHEMA, files)
            findings = [
                {
                    "kind": f.kind,
                    "severity": f.severity,
                    "message": f.message,
                    "files": json.dumps(f.files),
                    "chain": f.chain,
                    "start_time": _ts(f.start),
                    "end_time": _ts(f.end),
                    "count": f.count,
                    "details": json.dumps(f.details, default=str),
                    "verify_run": run_id,
                }
                for f in report.findings
            ]
            _write(stage / rels["verification_findings"], FINDINGS_SCHEMA, findings)
            coverage = [{**c.to_json(), "hour": _ts(c.hour), "verify_run": run_id} for c in report.coverage]
            _write(stage / rels["verification_coverage"], COVERAGE_SCHEMA, coverage)
            chains = [
                {
                    **c.to_json(),
                    "first_start": _ts(c.first_start),
                    "last_end": _ts(c.last_end),
                    "restarts": json.dumps([m.iso(t) for t in c.restarts]),
                    "gaps": json.dumps([{"from": m.iso(a), "to": m.iso(b), "digests": n} for a, b, n in c.gaps]),
                    "verify_run": run_id,
                }
                for c in report.chains
            ]
            _write(stage / rels["verification_chains"], CHAINS_SCHEMA, chains)
            tables = {k: list(v) for k, v in snap.tables.items()}
            removed = [f for t in TABLES for f in tables.get(t, [])]
            for t in TABLES:
                tables[t] = [rels[t]]
            layout.commit(root, run_id, layout.Snapshot(snap.generation + 1, tables), remove=removed)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    return [rels[t] for t in TABLES]
