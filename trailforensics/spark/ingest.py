"""Distributed ingest on Spark: the local pipeline's steps, with the files parsed and written by executors.

The driver does what the local coordinator does: open the :class:`~trailforensics.store.transaction.Transaction`,
discover, skip what the manifest knows, cut the tasks into the same chunks, and at the end write
the manifest, the keys, the rollups and the run summary and commit (``pipeline._commit``).  In
between, two Spark stages over a DataFrame with one row per chunk:

1. ``mapInArrow(parse)``: each chunk's files go through the same readers and normaliser
   (``ingest.fileread.process_file``; for a Hadoop filesystem URI source, ``process_bytes`` on
   the bytes Spark read, shuffled to their chunk: see :mod:`trailforensics.spark.sources`); the
   rows are kept in the run's scratch folder (Arrow IPC) and only ``(chunk, pos, key)`` leaves
   the task: 16-byte keys, not 2 KB rows, are shuffled.
2. dedup: a window on the key (the shuffle), ordered by ``(chunk, pos)`` with the keys of earlier
   runs first: a row is kept when it is the first of its key, which is exactly what the local
   :class:`~trailforensics.store.keyindex.KeyIndex` keeps when the chunks are fed in order (a
   serial local ingest).  The content check is part of the key (``normalize.columns._digest``).
3. ``mapInArrow(write)``: the chunks, with the positions to drop, in order; each task writes
   its kept rows and duplicates with the local ``ChunkProcessor.write`` (same hive layout, same
   Parquet schema, ``part-<run>-<task>-<n>.parquet``) and returns the files' results.

Sources are local paths (read by the executors from the same path) or URIs (``s3a://``,
``hdfs://``, ``file:/``...), listed and read through Spark.  The run's staging folder must be
reachable by every executor (a local path, or a shared mount on a cluster: see docs/SCALE-OUT.md).
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from trailforensics.discovery import arrange
from trailforensics.discovery import listed as listed_locally
from trailforensics.ingest import pipeline
from trailforensics.ingest.pipeline import IngestError, IngestOptions
from trailforensics.ingest.summary import IngestSummary
from trailforensics.ingest.worker import os_error_line
from trailforensics.names import utf8_text
from trailforensics.schema import EVENT_SCHEMA
from trailforensics.spark import rollups as spark_rollups
from trailforensics.spark import sources as uri_sources
from trailforensics.spark.session import parallelism
from trailforensics.store.keyindex import KEY_DTYPE, DayKeyIndex
from trailforensics.store.layout import NotADataset
from trailforensics.store.lock import DatasetLocked
from trailforensics.store.manifest import load_known
from trailforensics.store.transaction import Transaction, new_run_id
from trailforensics.store.writer import WrittenFile

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

KEYS_SCHEMA = "chunk int, pos int, key binary"
RESULTS_SCHEMA = "chunk int, payload binary"
PRIOR = -1  # the chunk number of the keys of earlier runs: they always come first
WRITTEN = -1  # the chunk number of a write task's list of written files


def ingest(
    sources: Sequence[str | Path],
    dataset: str | Path,
    options: IngestOptions | None = None,
    *,
    spark: SparkSession | None = None,
    master: str | None = None,
) -> IngestSummary:
    """``ingest.ingest`` on Spark: the same summary, the same dataset (never raises for bad files)."""
    from trailforensics.spark.session import get_session

    options = options or IngestOptions()
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    dataset_path = Path(dataset).absolute()
    uris = [str(s) for s in sources if uri_sources.is_uri(s)]
    src_paths = [
        Path(s) if str(s) == pipeline.STDIN else Path(s).absolute() for s in sources if not uri_sources.is_uri(s)
    ]
    summary = IngestSummary(run_id=new_run_id("ingest", now), dataset=str(dataset_path))
    if options.input_format is not None:
        from trailforensics.readers.shapes import SHAPES

        if options.input_format not in SHAPES:
            summary.aborted = f"unknown input format {options.input_format!r} (choose from {', '.join(SHAPES)})"
            return summary
    try:
        local_uris = [p for p in map(uri_sources.local_path, uris) if p is not None]
        pipeline._check_paths([*src_paths, *local_uris], dataset_path)
        session = spark or get_session(master)
        with Transaction(dataset_path, "ingest", create=True, run_id=summary.run_id, now=now) as txn:
            summary.notes.extend(txn.notes)
            _run(session, src_paths, uris, txn, summary, options)
    except OSError as exc:
        summary.aborted = os_error_line(exc)
    except (IngestError, DatasetLocked, NotADataset) as exc:
        summary.aborted = str(exc)
    summary.seconds = time.perf_counter() - started
    return summary


def _run(
    spark: SparkSession,
    sources: list[Path],
    uris: list[str],
    txn: Transaction,
    summary: IngestSummary,
    options: IngestOptions,
) -> None:
    streams = [s for s in sources if str(s) == pipeline.STDIN or pipeline._is_stream(s)]
    from_uris, read_as = uri_sources.listed(spark, uris) if uris else ([], {})
    files = arrange([*listed_locally([s for s in sources if s not in streams]), *from_uris])
    for s in streams:
        if str(s) == pipeline.STDIN:
            files.append(pipeline._stream_file(txn.scratch, options.stdin or sys.stdin.buffer, "<stdin>", "stdin"))
        else:
            with open(s, "rb") as fh:
                files.append(pipeline._stream_file(txn.scratch, fh, utf8_text(str(s)), "pipe"))
    summary.files_seen = len(files)
    known = load_known(txn.root, txn.snapshot.files("manifest"))
    tasks, summary.files_unchanged = pipeline._tasks(files, known, summary.failed_before, options.rehash)
    if options.progress:
        options.progress("start", len(tasks), sum(t.size for t in tasks), 0)
    if not tasks:
        return
    chunks = list(pipeline._chunks(tasks))
    wanted = [
        (read_as[t.path], c, i)
        for c, chunk in enumerate(chunks)
        for i, t in enumerate(chunk)
        if t.path in read_as and uri_sources.readable(t)
    ]
    contents = uri_sources.contents(spark, uris, wanted, len(read_as), _slices(spark, chunks)) if wanted else None
    results, written, kept_keys = _distributed(spark, chunks, txn, options, contents)
    # Dedup happened in the shuffle: the run's index only collects the kept keys (stored undated).
    index = DayKeyIndex(txn.root, [], txn.scratch, 1)
    run = pipeline._Run(txn, summary, index, options)
    for chunk_results in results:
        run.done(chunk_results)
    for path in kept_keys:
        index.add_undated(np.fromfile(path, dtype=KEY_DTYPE))
    _drop_unreported(txn, written)
    if options.progress:
        options.progress("finish", 0, 0, 0)
    # The rollups are aggregated by Spark too: the driver never reads the events.
    pipeline._commit(txn, run, written, rollups=lambda t, staged: spark_rollups.add_rollups(spark, t, staged))
    summary.committed = True


def _distributed(
    spark: SparkSession,
    chunks: list[list[Any]],
    txn: Transaction,
    options: IngestOptions,
    contents: DataFrame | None = None,
) -> tuple[list[list[Any]], list[WrittenFile], list[Path]]:
    """Parse, dedup and write on the executors; returns each chunk's results, the files, the kept keys.

    ``contents``: ``(chunk, idx, tasks=NULL, content)`` rows of the files Spark reads (URI sources);
    they join their chunk's row in the parse stage, sorted after it by position.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    scratch = str(txn.scratch)
    conf = (str(txn.stage), scratch, txn.run_id, options.input_format)
    slices = _slices(spark, chunks)
    table = pa.table(
        {
            "chunk": pa.array(range(len(chunks)), pa.int32()),
            "tasks": pa.array([pickle.dumps(c) for c in chunks], pa.binary()),
        }
    )
    chunk_df = spark.createDataFrame(table).repartition(slices, "chunk")
    parse_input = chunk_df
    if contents is not None:
        parse_input = (
            chunk_df.select("chunk", F.lit(-1).alias("idx"), "tasks", F.lit(None).cast("binary").alias("content"))
            .unionByName(contents)
            .repartition(slices, "chunk")
            .sortWithinPartitions("chunk", "idx")
        )
    keys = parse_input.mapInArrow(lambda it: _parse_partition(it, conf), KEYS_SCHEMA)
    prior = txn.snapshot.files("keys")
    if prior:
        keys = keys.unionByName(_prior_keys(spark, [str(txn.root / rel) for rel in prior]))
    first = Window.partitionBy("key").orderBy("chunk", "pos")
    dropped = (
        keys.withColumn("n", F.row_number().over(first))
        .where(f"n > 1 AND chunk <> {PRIOR}")
        .groupBy("chunk")
        .agg(F.collect_list("pos").alias("drop"))
    )
    plan = (
        chunk_df.select("chunk")
        .join(dropped, "chunk", "left")
        .repartitionByRange(slices, "chunk")
        .sortWithinPartitions("chunk")
    )
    rows = plan.mapInArrow(lambda it: _write_partition(it, conf), RESULTS_SCHEMA).collect()
    by_chunk: dict[int, list[Any]] = {}
    written: list[WrittenFile] = []
    for row in rows:
        payload = pickle.loads(row["payload"])
        if row["chunk"] == WRITTEN:
            written.extend(payload)
        else:
            by_chunk[row["chunk"]] = payload
    if len(by_chunk) != len(chunks):
        raise IngestError(f"Spark returned {len(by_chunk)} of {len(chunks)} chunks; nothing committed")
    ordered = [by_chunk[i] for i in range(len(chunks))]
    kept = [Path(scratch) / f"kept-{i}.keys" for i in range(len(chunks))]
    return ordered, written, [k for k in kept if k.exists()]


def _slices(spark: SparkSession, chunks: list[list[Any]]) -> int:
    """Tasks of the parse and write stages: 4 per core, never more than the chunks."""
    cores = parallelism(spark)
    return max(1, min(len(chunks), cores * 4 if cores else len(chunks)))


def _prior_keys(spark: SparkSession, paths: list[str]) -> DataFrame:
    """The keys of earlier runs (``keys/*.npy``), read by the executors, as ``(-1, 0, key)`` rows."""
    df = spark.createDataFrame(pa.table({"path": pa.array(paths, pa.string())})).repartition(len(paths))

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for path in batch.column("path").to_pylist():
                arr = np.load(path, mmap_mode="r")
                for start in range(0, len(arr), 1 << 20):
                    yield _keys_batch(
                        PRIOR,
                        np.zeros(len(arr[start : start + (1 << 20)]), np.int32),
                        np.asarray(arr[start : start + (1 << 20)]).tobytes(),
                    )

    return df.mapInArrow(read, KEYS_SCHEMA)


def _keys_batch(chunk: int, pos: np.ndarray, keys: bytes) -> pa.RecordBatch:
    n = len(pos)
    offsets = pa.array(np.arange(0, 16 * (n + 1), 16, dtype=np.int32))
    key_arr = pa.BinaryArray.from_buffers(pa.binary(), n, [None, offsets.buffers()[1], pa.py_buffer(keys)])
    return pa.RecordBatch.from_arrays(
        [pa.array(np.full(n, chunk, np.int32)), pa.array(pos, pa.int32()), key_arr], names=["chunk", "pos", "key"]
    )


# -- executor side -------------------------------------------------------------------------------


def _parse_partition(
    batches: Iterator[pa.RecordBatch], conf: tuple[str, str, str, str | None]
) -> Iterator[pa.RecordBatch]:
    """Stage 1: parse each chunk, keep its rows in the scratch folder, yield its keys."""
    _stage, scratch, run_id, forced = conf
    for chunk, blob, data in _chunk_inputs(batches):
        if blob is None:  # only content rows: their chunk's row never came (cannot happen)
            raise IngestError(f"chunk {chunk}: its files arrived without its task list")
        tasks = pickle.loads(blob)
        results: list[Any] = []
        built: list[list[Any]] = []
        for pos, task in enumerate(tasks):
            res, b = uri_sources.read_task(task, data.get(pos), run_id, forced)
            results.append(res)
            built.append(b)
        keys = b"".join(b.keys for bs in built for b in bs)
        layout = [[b.batch.num_rows for b in bs] for bs in built]
        _atomic(Path(scratch) / f"chunk-{chunk}.rows", lambda fh, built=built: _write_rows(fh, built))
        _atomic(Path(scratch) / f"chunk-{chunk}.meta", lambda fh, r=results, lo=layout: pickle.dump((r, lo), fh))
        _atomic(Path(scratch) / f"chunk-{chunk}.keys", lambda fh, k=keys: fh.write(k))
        n = len(keys) // KEY_DTYPE.itemsize
        yield _keys_batch(chunk, np.arange(n, dtype=np.int32), keys)


def _chunk_inputs(batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[int, bytes | None, dict[int, bytes]]]:
    """(chunk, pickled tasks, file bytes by position) of each chunk, from rows sorted by (chunk, idx):
    the chunk's own row (idx -1, its tasks), then the bytes Spark read for its URI files (if any)."""
    current: int | None = None
    blob: bytes | None = None
    data: dict[int, bytes] = {}
    for batch in batches:
        n = batch.num_rows
        chunks = batch.column("chunk").to_pylist()
        blobs = batch.column("tasks").to_pylist()
        with_content = "content" in batch.schema.names
        idxs = batch.column("idx").to_pylist() if with_content else [-1] * n
        for i in range(n):
            if chunks[i] != current:
                if current is not None:
                    yield current, blob, data
                current, blob, data = chunks[i], None, {}
            if idxs[i] < 0:
                blob = blobs[i]
            elif idxs[i] not in data:  # a file under two overlapping URIs is listed (and read) twice
                data[idxs[i]] = batch.column("content")[i].as_py()
    if current is not None:
        yield current, blob, data


def _write_rows(fh: Any, built: list[list[Any]]) -> None:
    with pa.ipc.new_stream(fh, EVENT_SCHEMA) as out:
        for bs in built:
            for b in bs:
                out.write_batch(b.batch)


def _atomic(path: Path, write: Any) -> None:
    """Write then rename: a retried task replaces its file whole, never half."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        write(fh)
    os.replace(tmp, path)


def _write_partition(
    batches: Iterator[pa.RecordBatch], conf: tuple[str, str, str, str | None]
) -> Iterator[pa.RecordBatch]:
    """Stage 3: write the kept rows and the duplicates of each chunk, in chunk order."""
    from pyspark import TaskContext

    from trailforensics.ingest.worker import ChunkProcessor
    from trailforensics.normalize.columns import Built

    stage, scratch, run_id, forced = conf
    ctx = TaskContext.get()
    worker = ctx.partitionId() if ctx is not None else 0
    proc = ChunkProcessor(Path(stage), run_id, worker, forced)
    out_chunks: list[int] = []
    out_payloads: list[bytes] = []
    try:
        for batch in batches:
            for chunk, drop in zip(batch.column("chunk").to_pylist(), batch.column("drop").to_pylist()):
                base = Path(scratch) / f"chunk-{chunk}"
                with open(f"{base}.meta", "rb") as fh:
                    results, layout = pickle.load(fh)
                keys = Path(f"{base}.keys").read_bytes()
                mask = np.ones(len(keys) // KEY_DTYPE.itemsize, dtype=bool)
                if drop:
                    mask[np.asarray(drop, dtype=np.int64)] = False
                with pa.ipc.open_stream(pa.OSFile(f"{base}.rows", "rb")) as reader:
                    flat = iter(reader)
                    built = [[Built(next(flat), b"") for _ in sizes] for sizes in layout]
                proc.write(results, built, mask.tobytes())
                kept = np.frombuffer(keys, dtype=KEY_DTYPE)[mask]
                _atomic(Path(scratch) / f"kept-{chunk}.keys", lambda fh, k=kept: fh.write(k.tobytes()))
                out_chunks.append(chunk)
                out_payloads.append(pickle.dumps(results))
        files = proc.close()
    except BaseException:
        proc.abort()
        raise
    out_chunks.append(WRITTEN)
    out_payloads.append(pickle.dumps(files))
    yield pa.RecordBatch.from_arrays(
        [pa.array(out_chunks, pa.int32()), pa.array(out_payloads, pa.binary())], names=["chunk", "payload"]
    )


def _drop_unreported(txn: Transaction, written: list[WrittenFile]) -> None:
    """Remove staged event/duplicate files no successful task reported (a failed attempt's)."""
    reported = {f.relpath for f in written}
    for table in ("events", "duplicates"):
        folder = txn.stage / table
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and path.relative_to(txn.stage).as_posix() not in reported:
                path.unlink()
