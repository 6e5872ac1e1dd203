"""The ingest manifest: one row per input file per run that looked at it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from trailforensics.schema import MANIFEST_SCHEMA


@dataclass(frozen=True)
class Known:
    """What the dataset already knows about an input path."""

    size: int
    mtime_ns: int
    ctime_ns: int | None
    sha256: str | None
    status: str
    reason: str | None = None
    source_file: str | None = None


def load_known(dataset: Path, files: list[str]) -> dict[str, Known]:
    """Latest manifest row per path (runs are read in order; later rows win)."""
    known: dict[str, Known] = {}
    for rel in files:
        names = ("path", "size", "mtime_ns", "ctime_ns", "sha256", "status", "reason", "source_file")
        with pq.ParquetFile(dataset / rel) as pf:
            present = set(pf.schema_arrow.names)  # manifests written before ctime_ns lack it
            table = pf.read(columns=[c for c in names if c in present])
        n = table.num_rows
        cols = [table.column(c).to_pylist() if c in table.column_names else [None] * n for c in names]
        for path, size, mtime, ctime, sha, status, reason, source_file in zip(*cols):
            prev = known.get(path)
            if status == "changed":
                # A changed file keeps what it was ingested with, so it stays flagged.
                continue
            if status == "unchanged":  # only its mtime moved: keep the earlier outcome
                status = prev.status if prev else "ingested"
                reason = prev.reason if prev else None
            known[path] = Known(size, mtime, ctime, sha, status, reason, source_file)
    return known


def manifest_table(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)


def manifest_row(
    *,
    path: str,
    source_file: str,
    size: int,
    mtime_ns: int,
    ctime_ns: int | None,
    sha256: str | None,
    kind: str,
    status: str,
    reason: str | None,
    records: int,
    rows_written: int,
    duplicates: int,
    rejected: int,
    org_id: str | None,
    account_id: str | None,
    region: str | None,
    file_time: datetime | None,
    ingest_run: str,
    ingested_at: datetime,
    resolved_path: str | None = None,
) -> dict[str, object]:
    return dict(
        path=path,
        resolved_path=resolved_path,
        source_file=source_file,
        size=size,
        mtime_ns=mtime_ns,
        ctime_ns=ctime_ns,
        sha256=sha256,
        kind=kind,
        status=status,
        reason=reason,
        records=records,
        rows_written=rows_written,
        duplicates=duplicates,
        rejected=rejected,
        org_id=org_id,
        account_id=account_id,
        region=region,
        file_time=file_time,
        ingest_run=ingest_run,
        ingested_at=ingested_at,
    )
