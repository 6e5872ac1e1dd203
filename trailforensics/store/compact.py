"""`compact`: rewrite partitions grown from many incremental runs into one large sorted file each.

Ingest writes rows nearly in time order, so a partition's row groups are nearly disjoint in
time.  Compact uses that: it cuts the partition into time slices of about :data:`SLICE_ROWS`
rows from the row groups' statistics, sorts each slice in memory (DuckDB reads only the row groups
that overlap it) and appends the slices, in order, to one file.  Sorting a slice is cheap and
small, where one ``ORDER BY`` over the whole partition spilled wide rows to disk and took
several times the ingest time.  DuckDB runs under a memory limit with its spill folder in the
run's scratch folder, so a slice larger than expected still compacts, only slower.

The new files are committed through a :class:`~trailforensics.store.transaction.Transaction`
that replaces the old ones: readers see either the old files or the new ones, never a mix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trailforensics.engine import resources
from trailforensics.schema import EVENT_SCHEMA
from trailforensics.store.keyindex import KEY_PARTITION, keys_file_day, save_keys
from trailforensics.store.rollups import add_rollups, merge_rollups, missing_rollups
from trailforensics.store.transaction import Transaction
from trailforensics.store.writer import (
    DICTIONARY_COLUMNS,
    NULL_PARTITION,
    ROW_GROUP_ROWS,
    STATISTICS_COLUMNS,
    parquet_writer,
    partition_name,
)

MEMORY_LIMIT = 512 << 20  # at most (less if --memory-limit says so): DuckDB only reads; Arrow sorts the slices
SLICE_ROWS = 64 * 1024  # rows sorted in memory at a time (about 2 KB each); also the largest row group
THREADS = 1  # a second scan thread doubled the peak for little gain: encoding the output dominates


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


def _in_range(partition: str, since: datetime | None, until: datetime | None) -> bool:
    """Whether the partition's day overlaps [since, until); a range never selects NULL times."""
    if since is None and until is None:
        return True
    value = partition.partition("=")[2]
    if value == NULL_PARTITION:
        return False
    start = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    return (since is None or start + timedelta(days=1) > since) and (until is None or start < until)


def time_slices(paths: list[Path], slice_rows: int | None = None) -> list[datetime]:
    """Inner boundaries cutting the files' rows into time slices of about ``slice_rows`` rows.

    Row groups, taken in order of their earliest event, are added to a slice until it holds
    ``slice_rows`` rows; the next slice starts at the earliest event of the next row group.
    No statistics (or all times NULL): no boundary, one slice.
    """
    slice_rows = slice_rows or SLICE_ROWS
    groups: list[tuple[datetime, int]] = []
    for path in paths:
        with pq.ParquetFile(path) as pf:
            column = pf.schema_arrow.get_field_index("event_time")
            for i in range(pf.metadata.num_row_groups):
                rg = pf.metadata.row_group(i)
                stats = rg.column(column).statistics
                if stats is None or not stats.has_min_max:
                    return []
                groups.append((stats.min, rg.num_rows))
    groups.sort(key=lambda g: g[0])
    bounds: list[datetime] = []
    rows = 0
    for start, n in groups:
        if rows >= slice_rows and (not bounds or start > bounds[-1]) and start > groups[0][0]:
            bounds.append(start)
            rows = 0
        rows += n
    return bounds


def _slice_predicates(bounds: list[datetime]) -> Iterator[tuple[str, list[datetime]]]:
    """WHERE clauses covering every row exactly once (NULL times go with the first slice)."""
    if not bounds:
        yield "TRUE", []
        return
    yield "(event_time < ? OR event_time IS NULL)", [bounds[0]]
    for lo, hi in pairwise(bounds):
        yield "event_time >= ? AND event_time < ?", [lo, hi]
    yield "event_time >= ?", [bounds[-1]]


def _compact_partition(con: duckdb.DuckDBPyConnection, paths: list[Path], dest: Path) -> int:
    """Read slice k+1 (DuckDB, in a second thread) while slice k is sorted and written (Arrow):
    both release the GIL, so the two halves of the work use both cores, one slice ahead at most."""
    source = f"read_parquet({_sql_list(paths)}, hive_partitioning=false)"
    writer = parquet_writer(dest, EVENT_SCHEMA, DICTIONARY_COLUMNS, STATISTICS_COLUMNS)
    reader = con.cursor()  # a connection of its own for the reading thread

    def read(where: str, params: list[datetime]) -> pa.Table:
        return reader.sql(f"SELECT * FROM {source} WHERE {where}", params=params).to_arrow_table()

    rows = 0
    slices = list(_slice_predicates(time_slices(paths)))
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(read, *slices[0])
            for k in range(len(slices)):
                table = pending.result()
                if k + 1 < len(slices):
                    pending = pool.submit(read, *slices[k + 1])
                if table.num_rows:
                    # Sorted here, not by DuckDB: its sort of wide rows took ~6x the slice in memory.
                    table = table.take(pc.sort_indices(table, [("event_time", "ascending")])).cast(EVENT_SCHEMA)
                    writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
                    rows += table.num_rows
                del table
    finally:
        writer.close()
        reader.close()
    return rows


def compact(
    dataset: str | Path,
    min_files: int = 2,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> list[str]:
    """Compact every events partition with at least ``min_files`` files; returns a report.

    ``since``/``until`` (UTC; a date means its midnight) restrict it to the partitions whose
    day overlaps [since, until); the small tables (duplicates, manifest, keys) are only merged
    by a compaction of the whole dataset.
    """
    report: list[str] = []
    lo = None if since is None else _utc(since)
    hi = None if until is None else _utc(until)
    with Transaction(dataset, "compact") as txn:
        report.extend(txn.notes)
        root, snap = txn.root, txn.snapshot
        con = duckdb.connect()
        limit = min(resources.memory_limit(), MEMORY_LIMIT)
        resources.configure(con, limit=limit, spill=txn.scratch, threads=THREADS, preserve_order=False)
        by_partition: dict[str, list[str]] = defaultdict(list)
        for rel in snap.files("events"):
            by_partition[rel.split("/")[1]].append(rel)
        new_events: list[str] = []
        for partition, files in sorted(by_partition.items()):
            if len(files) < min_files or not _in_range(partition, lo, hi):
                new_events.extend(files)
                continue
            rel = txn.new_file("events", partition=partition, part="0000")
            _compact_partition(con, [root / f for f in files], txn.path_for(rel))
            new_events.append(rel)
            report.append(f"{partition}: {len(files)} files -> 1")
        txn.replace("events", new_events)
        if lo is None and hi is None:
            _compact_small_tables(con, txn, min_files, report)
        con.close()
        built = bool(missing_rollups(txn))
        if built:  # a dataset from before rollups: build them from its events
            add_rollups(txn, [])
            report.append("rollups: built for every event")
        elif lo is None and hi is None:
            report.extend(merge_rollups(txn, min_files))
        if not txn.to_remove and not built:
            return [*report, "nothing to compact"]  # leaving without a commit discards the stage
        txn.commit()
    return report


def _compact_small_tables(con: duckdb.DuckDBPyConnection, txn: Transaction, min_files: int, report: list[str]) -> None:
    root, snap = txn.root, txn.snapshot
    for table in ("duplicates", "manifest"):
        files = snap.files(table)
        if len(files) < min_files:
            continue
        rel = txn.new_file(table)
        con.execute(
            f"COPY (SELECT * FROM read_parquet({_sql_list([root / f for f in files])})) "
            f"TO '{txn.path_for(rel)}' (FORMAT parquet, COMPRESSION zstd)"
        )
        txn.replace(table, [rel])
        report.append(f"{table}: {len(files)} files -> 1")
    # Keys stay by event day (one file per day), so that ingest loads only the days it touches.
    by_day: dict[int | None, list[str]] = defaultdict(list)
    for rel in snap.files("keys"):
        by_day[keys_file_day(rel)].append(rel)
    merged: list[str] = []
    changed = False
    for day, files in sorted(by_day.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0)):
        if len(files) < min_files:
            merged.extend(files)
            continue
        partition = None if day is None else f"{KEY_PARTITION}={partition_name(day)}"
        rel = txn.new_file("keys", partition=partition, suffix=".npy")
        save_keys(txn.path_for(rel), [np.load(root / f, mmap_mode="r") for f in files])
        merged.append(rel)
        changed = True
    if changed:
        txn.replace("keys", merged)


__all__ = ["compact", "time_slices"]
