"""Storing a VerifyReport in a dataset: tables `verification` (+ findings, coverage, chains).

Each run replaces the previous results (a new snapshot whose ``verification*`` tables list only
this run's files), committed like an ingest run: files staged under ``.staging/<run>/``, the
snapshot swapped atomically under the dataset's write lock.  The engine exposes every extra
table as a view of the same name.

``verification.source_file`` is relative to the verified tree's root, like
``events.source_file`` when the same folder was ingested (both use ``discovery.source_root``).
The tables' columns are defined in :mod:`trailforensics.schema.verification`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.schema.verification import (
    CHAINS_SCHEMA,
    COVERAGE_SCHEMA,
    FINDINGS_SCHEMA,
    VERIFICATION_SCHEMA,
    VERIFICATION_TABLES,
)
from trailforensics.store.transaction import Transaction
from trailforensics.store.writer import parquet_writer
from trailforensics.verify import model as m

TABLES = tuple(t.name for t in VERIFICATION_TABLES)


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


def _unique_rows(report: m.VerifyReport) -> list[m.VerifiedFile]:
    seen: dict[str, m.VerifiedFile] = {}
    for r in report.files:
        seen.setdefault(r.source_file, r)  # the first (most specific) result for a path wins
    return list(seen.values())


def store_results(report: m.VerifyReport, dataset: Path | str) -> list[str]:
    """Write the report into `dataset` (created when absent); returns the table files written."""
    root = Path(dataset).absolute()
    tree = Path(report.tree).absolute()
    if root == tree or tree in root.parents:
        raise StoreError(f"the dataset {root} is inside the verified tree {tree}: choose a folder outside it")
    with Transaction(root, "verify", create=True) as txn:
        run_id, now = txn.run_id, txn.started_at
        rels = {t: txn.new_file(t) for t in TABLES}
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
        _write(txn.path_for(rels["verification"]), VERIFICATION_SCHEMA, files)
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
        _write(txn.path_for(rels["verification_findings"]), FINDINGS_SCHEMA, findings)
        coverage = [{**c.to_json(), "hour": _ts(c.hour), "verify_run": run_id} for c in report.coverage]
        _write(txn.path_for(rels["verification_coverage"]), COVERAGE_SCHEMA, coverage)
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
        _write(txn.path_for(rels["verification_chains"]), CHAINS_SCHEMA, chains)
        for t in TABLES:
            txn.replace(t, [rels[t]])  # each run's results replace the previous run's
        txn.commit()
    return [rels[t] for t in TABLES]
