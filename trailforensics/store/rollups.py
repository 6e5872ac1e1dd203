"""Writing the rollup tables (see :mod:`trailforensics.schema.rollups`) inside a transaction.

Ingest rolls up the event files it staged; when the dataset already holds events that no
rollup covers (a dataset written before rollups existed), those are rolled up in the same
transaction, so rollups always cover every event or none.  `compact` merges the files of
each rollup into one.  DuckDB does the aggregation in bounded memory, spilling into the
transaction's scratch folder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from trailforensics.engine import resources
from trailforensics.schema import SCHEMA_VERSION
from trailforensics.schema.rollups import ROLLUPS, Rollup
from trailforensics.store.transaction import Transaction
from trailforensics.store.writer import parquet_writer

# The parent process runs this after the ingest workers have exited: a share of the memory
# setting, capped so that ingest's whole process tree stays under its budget.
ROLLUP_MEMORY_CAP = 640 << 20


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _connect(txn: Transaction) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    limit = min(resources.memory_limit(), ROLLUP_MEMORY_CAP)
    resources.configure(con, limit=limit, spill=txn.scratch, preserve_order=False)
    con.execute("SET TimeZone='UTC'")
    return con


def _copy(con: duckdb.DuckDBPyConnection, select: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY ({select}) TO '{str(target).replace(chr(39), chr(39) * 2)}' (FORMAT parquet, COMPRESSION zstd, "
        f"KV_METADATA {{'trailforensics.schema_version': '{SCHEMA_VERSION}'}})"
    )


def missing_rollups(txn: Transaction) -> list[Rollup]:
    """Rollups the live dataset lacks although it holds events (written before rollups existed)."""
    if not txn.snapshot.files("events"):
        return []
    return [r for r in ROLLUPS if not txn.snapshot.files(r.name)]


# Rollups of every event share one pass; a filtered rollup (a few events) gets its own, where
# DuckDB pushes the filter into the scan and reads the wide columns of those rows only.
COMBINED = tuple(r for r in ROLLUPS if r.where is None)
FILTERED = tuple(r for r in ROLLUPS if r.where is not None)


def combined_sql(source: str) -> tuple[str, dict[str, int]]:
    """One pass over ``source`` that computes every unfiltered rollup (GROUPING SETS), and each
    rollup's set id.

    Reading the events once (and computing ``actor`` once) instead of once per rollup is what
    keeps the roll-up a small share of the ingest time.
    """
    keys: dict[str, str] = {}
    measures: dict[str, str] = {}
    for r in COMBINED:
        for c, expr in r.keys:
            keys.setdefault(c.name, expr)
        for m in r.measures:
            measures.setdefault(m.column.name, m.build)
    names = list(keys)
    # The measures' inputs that are not keys already (a second column of one name is ambiguous on Spark).
    inputs = [c for c in ("event_time", "error_code", "event_name") if c not in keys]
    inner = ", ".join([f"{expr} AS {name}" for name, expr in keys.items()] + inputs)
    sets = ", ".join("(" + ", ".join(c.name for c, _ in r.keys) + ")" for r in COMBINED)
    select = (
        f"SELECT {', '.join(names)}, {', '.join(f'{b} AS {n}' for n, b in measures.items())}, "
        f"GROUPING({', '.join(names)}) AS rollup_set "
        f"FROM (SELECT {inner} FROM {source}) "
        f"GROUP BY GROUPING SETS ({sets})"
    )
    ids = {}
    for r in COMBINED:  # GROUPING(): a set bit for each argument *not* grouped, the first the highest
        own = {c.name for c, _ in r.keys}
        ids[r.name] = sum(1 << (len(names) - 1 - i) for i, n in enumerate(names) if n not in own)
    return select, ids


def rollup_writer(path: Path, rollup: Rollup) -> pq.ParquetWriter:
    """A writer of one file of ``rollup`` outside DuckDB (the Spark engine's executors): the
    table's exact schema, the store's Parquet settings and metadata."""
    return parquet_writer(path, rollup.table.schema)


def rollup_rows(rollup: Rollup, rows: pa.Table) -> pa.Table:
    """``rows`` as ``rollup``'s columns, in order, with its exact types."""
    return rows.select(rollup.table.schema.names).cast(rollup.table.schema)


# Rows of events rolled up in one pass: every rollup is keyed by event day, so the days can be
# rolled up apart and give the same rows; passes of about this many events keep DuckDB's hash
# tables within its memory (a single pass over 10 M events spilled: 8.3 s, 6.2 s day by day).
PASS_ROWS = 2_000_000


def partition_passes(paths: list[Path], max_rows: int = PASS_ROWS) -> list[list[Path]]:
    """Event files grouped into passes of whole partitions (``event_date=...`` folders), in
    partition order, each of at most ``max_rows`` rows unless one partition alone holds more."""
    by_partition: dict[str, list[Path]] = {}
    for p in paths:
        by_partition.setdefault(p.parent.name, []).append(p)
    passes: list[list[Path]] = []
    rows = 0
    for _name, files in sorted(by_partition.items()):
        n = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        if passes and passes[-1] and rows + n <= max_rows:
            passes[-1].extend(files)
            rows += n
        else:
            passes.append(list(files))
            rows = n
    return passes


def _events_source(paths: list[Path]) -> str:
    options = "hive_partitioning=true, hive_types={'event_date': DATE}, union_by_name=true"
    return f"read_parquet({_sql_list(paths)}, {options})"


def add_rollups(txn: Transaction, staged_events: list[str]) -> None:
    """Roll up the staged event files (relative paths) and add the files to the transaction.

    A dataset written before rollups existed gets them for all of its events in the same run.
    """
    backfill = bool(missing_rollups(txn))
    sources = [txn.stage / rel for rel in staged_events]
    if backfill:
        sources += [txn.root / rel for rel in txn.snapshot.files("events")]
    if not sources:
        return
    src = _events_source(sources)
    parts: list[Path] = []
    con = _connect(txn)
    try:
        for i, files in enumerate(partition_passes(sources)):
            select, ids = combined_sql(_events_source(files))
            parts.append(txn.scratch / f"rollups-combined-{i}.parquet")
            _copy(con, select, parts[-1])
        combined = _sql_list(parts)
        for rollup in ROLLUPS:
            rel = txn.new_file(rollup.name)
            columns = ", ".join(c.name for c in rollup.table.columns)
            if rollup.where is None:
                select = f"SELECT {columns} FROM read_parquet({combined}) WHERE rollup_set = {ids[rollup.name]}"
            else:
                select = f"SELECT {columns} FROM ({rollup.build_sql(src)})"
            _copy(con, select, txn.path_for(rel))
            if backfill:
                txn.replace(rollup.name, [rel])
            else:
                txn.add(rollup.name, [rel])
    finally:
        con.close()
        for part in parts:
            part.unlink(missing_ok=True)


def merge_rollups(txn: Transaction, min_files: int = 2) -> list[str]:
    """Merge each rollup's files into one (same rows as a fresh roll-up); returns a report."""
    report: list[str] = []
    con = _connect(txn)
    try:
        for rollup in ROLLUPS:
            files = txn.snapshot.files(rollup.name)
            if len(files) < min_files:
                continue
            rel = txn.new_file(rollup.name)
            src = f"read_parquet({_sql_list([txn.root / f for f in files])}, hive_partitioning=false)"
            _copy(con, rollup.merge_sql(src), txn.path_for(rel))
            txn.replace(rollup.name, [rel])
            report.append(f"{rollup.name}: {len(files)} files -> 1")
    finally:
        con.close()
    return report
