"""Parquet writing: few large files per partition, rows nearly sorted by event time.

Each ingest worker owns one ``EventWriter``.  Rows are buffered per ``event_date``
partition and written as row groups of ~128 k rows.  Input files arrive in the order of
the timestamps in their names, so rows come out nearly sorted by event time (CloudTrail
delivers a file within minutes of its events) and consecutive row groups are nearly
disjoint in time: DuckDB skips most of them on a time filter.  There is deliberately no
sort here: on this class of machine re-ordering ~2 KB rows costs as much as parsing them
(copies are page-fault bound); `trailforensics compact` sorts fully.  The buffer is capped
in rows, so memory stays flat however large the input.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trailforensics.schema import EVENT_SCHEMA, PARTITION_COLUMN, SCHEMA_VERSION

ROW_GROUP_ROWS = 128 * 1024
MAX_FILE_ROWS = 4 * 1024 * 1024
MAX_BUFFER_ROWS = ROW_GROUP_ROWS  # at most about one row group in memory per worker...
MAX_BUFFER_BYTES = 64 << 20  # ...and at most this much Arrow data: row groups of large records are smaller
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # the Hive/DuckDB spelling of a NULL partition value
_NO_TIME = -(2**62)
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1  # level 6+ doubles write time for 8-10 % smaller files

# Columns of JSON text and of random identifiers: nearly every value is distinct.
_JSON_TEXT = {
    "user_identity",
    "request_parameters",
    "response_elements",
    "additional_event_data",
    "resources",
    "service_event_details",
    "insight_details",
    "extra",
    "original_values",
}
_RANDOM_IDS = {"event_id", "request_id", "shared_event_id", "record_hash"}
# High-cardinality columns gain nothing from dictionary encoding and cost time.
_NO_DICTIONARY = _JSON_TEXT | _RANDOM_IDS | {"event_time", "record_index", "session_creation_date"}
DICTIONARY_COLUMNS = [f.name for f in EVENT_SCHEMA if f.name not in _NO_DICTIONARY]
# Min/max statistics prune row groups on a range or equality filter.  Over free text, JSON and
# random identifiers every row group spans nearly the whole range, so they prune nothing; computing
# them cost 10 % of the Parquet write time (measured on 400 k rows of the 2 M bench tree).
_NO_STATISTICS = _JSON_TEXT | _RANDOM_IDS | {"user_agent", "error_message"}
STATISTICS_COLUMNS = [f.name for f in EVENT_SCHEMA if f.name not in _NO_STATISTICS]


def parquet_writer(
    path: Path, schema: pa.Schema, dictionary: list[str] | bool = True, statistics: list[str] | bool = True
) -> pq.ParquetWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = schema.with_metadata({b"trailforensics.schema_version": str(SCHEMA_VERSION).encode()})
    return pq.ParquetWriter(
        str(path),
        schema,
        compression=COMPRESSION,
        compression_level=COMPRESSION_LEVEL,
        use_dictionary=dictionary,
        write_statistics=statistics,
        data_page_size=1 << 20,
    )


@dataclass
class WrittenFile:
    relpath: str  # relative to the dataset root
    rows: int
    partition: str


def partition_values(batch: pa.RecordBatch | pa.Table) -> np.ndarray:
    """The event_date of every row (UTC), as day numbers; NULL times get -2**62."""
    times = batch.column("event_time")
    days = np.floor_divide(pc.fill_null(pc.cast(times, pa.int64()), _NO_TIME).to_numpy(), 86_400_000_000)
    return days


NULL_DAY = _NO_TIME // 86_400_000_000  # the day number partition_values gives rows without a time


def day_of_partition(name: str) -> int | None:
    """The day number of a partition name (the inverse of :func:`partition_name`); None if not one."""
    if name == NULL_PARTITION:
        return NULL_DAY
    try:
        d = datetime.strptime(name, "%Y-%m-%d")
    except ValueError:
        return None
    return (d - datetime(1970, 1, 1)).days


def partition_name(day: int) -> str:
    if day < _NO_TIME // 86_400_000_000 + 1:
        return NULL_PARTITION
    d = datetime(1970, 1, 1) + timedelta(days=int(day))
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"  # strftime("%Y") does not pad years before 1000


def arrow_bytes(batch: pa.RecordBatch) -> int:
    """Memory held by a batch: its distinct buffers (columns of one file share a few big ones)."""
    sizes: dict[int, int] = {}
    for column in batch.columns:
        for buf in column.buffers():
            if buf is not None:
                sizes[buf.address] = buf.size
    return sum(sizes.values())


class EventWriter:
    def __init__(
        self,
        root: Path,
        prefix: str,
        row_group_rows: int = ROW_GROUP_ROWS,
        max_buffer_rows: int = MAX_BUFFER_ROWS,
        max_file_rows: int = MAX_FILE_ROWS,
        max_buffer_bytes: int = MAX_BUFFER_BYTES,
    ):
        self.root = root  # the staging folder, laid out like the dataset
        self.prefix = prefix
        self.row_group_rows = row_group_rows
        self.max_buffer_rows = max_buffer_rows
        self.max_buffer_bytes = max_buffer_bytes
        self._buffered_bytes: dict[str, int] = {}
        self.max_file_rows = max_file_rows
        self._buffers: dict[str, list[pa.RecordBatch]] = {}
        self._buffered_rows: dict[str, int] = {}
        self._open: dict[str, tuple[pq.ParquetWriter, WrittenFile]] = {}
        self._done: list[WrittenFile] = []
        self._seq = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        days = partition_values(batch)
        unique = np.unique(days)
        for day in unique.tolist():
            value = partition_name(day)
            piece = batch if len(unique) == 1 else batch.filter(pa.array(days == day))
            self._buffers.setdefault(value, []).append(piece)
            self._buffered_rows[value] = self._buffered_rows.get(value, 0) + piece.num_rows
            self._buffered_bytes[value] = self._buffered_bytes.get(value, 0) + arrow_bytes(piece)
            if self._buffered_rows[value] >= self.row_group_rows:
                self._flush(value)
        while self._buffers and (
            sum(self._buffered_rows.values()) > self.max_buffer_rows
            or sum(self._buffered_bytes.values()) > self.max_buffer_bytes
        ):
            self._flush(max(self._buffered_bytes, key=self._buffered_bytes.__getitem__))

    def _flush(self, partition: str) -> None:
        batches = self._buffers.pop(partition, [])
        rows = self._buffered_rows.pop(partition, 0)
        self._buffered_bytes.pop(partition, None)
        if not batches:
            return
        table = pa.Table.from_batches(batches, schema=EVENT_SCHEMA)  # chunks are written as they are
        writer, info = self._writer_for(partition)
        writer.write_table(table, row_group_size=self.row_group_rows)
        info.rows += rows
        if info.rows >= self.max_file_rows:
            writer.close()
            self._done.append(info)
            del self._open[partition]

    def _writer_for(self, partition: str) -> tuple[pq.ParquetWriter, WrittenFile]:
        if partition not in self._open:
            rel = f"events/{PARTITION_COLUMN}={partition}/part-{self.prefix}-{self._seq:04d}.parquet"
            self._seq += 1
            writer = parquet_writer(self.root / rel, EVENT_SCHEMA, DICTIONARY_COLUMNS, STATISTICS_COLUMNS)
            self._open[partition] = (writer, WrittenFile(rel, 0, partition))
        return self._open[partition]

    def close(self) -> list[WrittenFile]:
        for partition in list(self._buffers):
            self._flush(partition)
        for writer, info in self._open.values():
            writer.close()
            self._done.append(info)
        self._open.clear()
        return [f for f in self._done if f.rows]

    def abort(self) -> None:
        """Drop buffered rows and close open files quietly (the run is failing: nothing of it is
        committed).  An unclosed writer would print "Exception ignored" when collected."""
        self._buffers.clear()
        self._buffered_rows.clear()
        self._buffered_bytes.clear()
        for writer, _info in self._open.values():
            _close_quietly(writer)
        self._open.clear()


class TableWriter:
    """A small table (duplicates, manifest) written to one file, lazily opened."""

    def __init__(self, path: Path, relpath: str, schema: pa.Schema):
        self.path = path
        self.relpath = relpath
        self.schema = schema
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, table: pa.Table | pa.RecordBatch) -> None:
        if not table.num_rows:
            return
        if self._writer is None:
            self._writer = parquet_writer(self.path, self.schema)
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        self._writer.write_table(table.cast(self.schema))
        self.rows += table.num_rows

    def close(self) -> WrittenFile | None:
        if self._writer is None:
            return None
        self._writer.close()
        return WrittenFile(self.relpath, self.rows, "")

    def abort(self) -> None:
        """Close the file quietly; the run is failing (see :meth:`EventWriter.abort`)."""
        if self._writer is not None:
            _close_quietly(self._writer)
            self._writer = None


def _close_quietly(writer: pq.ParquetWriter) -> None:
    # The disk is full or the file is gone: the whole run is discarded anyway.
    with contextlib.suppress(Exception):
        writer.close()
