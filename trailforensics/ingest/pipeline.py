"""The ingest coordinator: discover, skip what is known, fan out to workers, dedup, commit.

The run is one `store.Transaction` (lock, recovery, staging, commit); this module only decides
what goes into it: the workers' event and duplicate files, the manifest rows, the dedup keys and
the run summary.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np

from trailforensics.discovery import CANDIDATE, InputFile, discover
from trailforensics.errors import TrailforensicsError
from trailforensics.ingest.summary import IngestSummary
from trailforensics.ingest.tasks import CHANGED, FAILED, UNCHANGED, FileResult, FileTask
from trailforensics.ingest.worker import ChunkProcessor, os_error_line, worker_main
from trailforensics.names import utf8_text
from trailforensics.schema import MANIFEST_SCHEMA
from trailforensics.store.keyindex import KEY_DTYPE, KEY_PARTITION, DayKeyIndex, save_keys
from trailforensics.store.layout import NotADataset
from trailforensics.store.lock import DatasetLocked
from trailforensics.store.manifest import Known, load_known, manifest_row, manifest_table
from trailforensics.store.rollups import add_rollups
from trailforensics.store.transaction import Transaction, new_run_id
from trailforensics.store.writer import TableWriter, WrittenFile, partition_name

STDIN = "-"
CHUNK_BYTES = 2 << 20
CHUNK_FILES = 256
MANIFEST_BATCH = 8192  # manifest rows held before they go to the staged file

ARCHIVE_MEMBER = "archive-member"
ProgressFn = Callable[[str, int, int, int], None]  # (event, files, bytes, records)


class IngestError(TrailforensicsError, RuntimeError):
    """The run cannot start or must stop; nothing was committed."""


@dataclass
class IngestOptions:
    workers: int | None = None
    strict: bool = False
    progress: ProgressFn | None = None
    input_format: str | None = None  # force one shape (see readers.shapes.SHAPES); None: detect
    stdin: BinaryIO | None = None  # where "-" reads from (default: sys.stdin.buffer)
    rehash: bool = False  # hash every known file again instead of trusting size and times


def _check_paths(sources: Sequence[Path], dataset: Path) -> None:
    # Real paths: `x/../ev`, a link to the evidence or to the dataset must not get round the check.
    real_dataset = dataset.resolve()
    for src in sources:
        if str(src) == STDIN:
            continue
        if not src.exists():
            raise IngestError(f"source does not exist: {src}")
        real = src.resolve()
        if real.is_dir() and (real_dataset == real or real in real_dataset.parents):
            raise IngestError(f"the dataset {dataset} is inside the evidence tree {src}: choose a folder outside it")
        if real_dataset in real.parents or real_dataset == real:
            raise IngestError(f"source {src} is inside the dataset {dataset}")


def _unchanged(prev: Known, f: InputFile) -> bool:
    """Same size and times as when the file was last looked at (no need to hash it again)."""
    if f.error:
        return prev.status == FAILED and prev.reason == f.error
    return (
        prev.size == f.size
        and prev.mtime_ns == f.mtime_ns
        # Editing a file and restoring its mtime (touch -r) still moves its ctime.
        and (prev.ctime_ns is None or f.ctime_ns is None or prev.ctime_ns == f.ctime_ns)
    )


def _tasks(
    files: list[InputFile], known: dict[str, Known], failed_before: list[tuple[str, str]], rehash: bool = False
) -> tuple[list[FileTask], int]:
    tasks: list[FileTask] = []
    unchanged = 0
    for f in files:
        prev = known.get(f.key)
        if prev is not None and not (rehash and not f.error) and _unchanged(prev, f):
            unchanged += 1
            if prev.status == FAILED:
                failed_before.append((f.source_file, prev.reason or "failed"))
            continue
        tasks.append(
            FileTask(
                path=f.path,
                source_file=f.source_file,
                kind=f.kind,
                skip_reason=f.reason,
                org_id=f.org_id,
                account_id=f.account_id,
                region=f.region,
                file_time=f.file_time,
                size=f.size,
                mtime_ns=f.mtime_ns,
                previous_sha256=prev.sha256 if prev else None,
                previous_status=prev.status if prev else None,
                identity=f.identity,
                ctime_ns=f.ctime_ns,
                error=f.error,
            )
        )
    return tasks, unchanged


def _chunks(tasks: list[FileTask]) -> Iterator[list[FileTask]]:
    chunk: list[FileTask] = []
    size = 0
    for t in tasks:
        chunk.append(t)
        size += t.size
        if size >= CHUNK_BYTES or len(chunk) >= CHUNK_FILES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


class _Run:
    """State of one run while its chunks are processed.

    Nothing in it grows with the number of events: the manifest rows go to the staged manifest
    file every :data:`MANIFEST_BATCH` rows and the new dedup keys to a scratch file, so the
    coordinator holds only the key index (16 bytes per event) and one batch of rows.
    """

    def __init__(self, txn: Transaction, summary: IngestSummary, index: DayKeyIndex, options: IngestOptions):
        self.txn = txn
        self.summary = summary
        self.index = index
        self.options = options
        self.manifest_rel = txn.new_file("manifest")
        self.manifest = TableWriter(txn.path_for(self.manifest_rel), self.manifest_rel, MANIFEST_SCHEMA)
        self._rows: list[dict[str, object]] = []

    def dedup(self, keys: bytes, days: bytes) -> bytes:
        return self.index.add(keys, np.frombuffer(days, dtype=np.int64)).tobytes()

    def done(self, results: list[FileResult]) -> None:
        for res in results:
            self._rows.extend(_manifest_rows(res, self.txn.run_id, self.txn.started_at))
            self.summary.add(res)
            if self.options.strict and (res.status in (FAILED, CHANGED) or res.damaged):
                raise IngestError(f"--strict: {res.task.source_file}: {res.reason}")
        if len(self._rows) >= MANIFEST_BATCH:
            self._flush_manifest()
        if self.options.progress:
            self.options.progress(
                "advance", len(results), sum(r.size for r in results), sum(r.records for r in results)
            )

    def _flush_manifest(self) -> None:
        if self._rows:
            self.manifest.add(manifest_table(self._rows))
            self._rows = []

    def close_files(self) -> tuple[WrittenFile | None, list[tuple[int | None, Path]]]:
        """Finish the staged manifest and the new keys; the manifest and each day's raw keys file."""
        self._flush_manifest()
        return self.manifest.close(), self.index.new_keys()


KEY_BUDGET_CAP = 64 << 20  # bytes of dedup keys the coordinator keeps loaded, at most
KEY_BYTES = KEY_DTYPE.itemsize + 8  # each key and its 8-byte search prefix (keyindex.prefixes)


def key_budget() -> int:
    """Keys the coordinator may keep loaded (24 bytes each with their search prefix): 1/16 of the
    memory setting, at most 64 MiB.

    Beyond it, the least recently used event days are dropped and reloaded when needed; input
    in time order (as discovery orders it) rarely needs a day again.
    """
    from trailforensics.engine.resources import memory_limit

    return min(memory_limit() // 16, KEY_BUDGET_CAP) // KEY_BYTES


def ingest(sources: Sequence[str | Path], dataset: str | Path, options: IngestOptions | None = None) -> IngestSummary:
    """Ingest files or folders into a dataset; returns the run summary (never raises for bad files)."""
    options = options or IngestOptions()
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    dataset_path = Path(dataset).absolute()
    src_paths = [Path(s) if str(s) == STDIN else Path(s).absolute() for s in sources]
    if options.input_format is not None:
        from trailforensics.readers.shapes import SHAPES

        if options.input_format not in SHAPES:
            summary = IngestSummary(run_id=new_run_id("ingest", now), dataset=str(dataset_path))
            summary.aborted = f"unknown input format {options.input_format!r} (choose from {', '.join(SHAPES)})"
            return summary
    summary = IngestSummary(run_id=new_run_id("ingest", now), dataset=str(dataset_path))
    try:
        _check_paths(src_paths, dataset_path)
        with Transaction(dataset_path, "ingest", create=True, run_id=summary.run_id, now=now) as txn:
            summary.notes.extend(txn.notes)
            _run(src_paths, txn, summary, options)
    except OSError as exc:
        summary.aborted = os_error_line(exc)
    except (IngestError, DatasetLocked, NotADataset) as exc:
        summary.aborted = str(exc)
    summary.seconds = time.perf_counter() - started
    return summary


def _stream_file(scratch: Path, stream: BinaryIO, label: str, kind: str) -> InputFile:
    """Standard input or a pipe, saved in the run's scratch folder (never in the evidence tree).

    Its identity is its content: the next, different input through the same pipe path
    (`/dev/fd/63` from a shell's process substitution) is a new input, not a changed file.
    """
    data = stream.read()
    sha = hashlib.sha256(data).hexdigest()
    path = scratch / f"{kind}-{sha[:16]}"
    path.write_bytes(data)
    return InputFile(
        path=str(path),
        source_file=label,
        kind=CANDIDATE,
        reason=None,
        size=len(data),
        mtime_ns=0,
        identity=f"<{kind}>:sha256:{sha}",
    )


def _is_stream(src: Path) -> bool:
    """A named pipe or character device given as a source: read once, like standard input."""
    try:
        mode = src.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _run(sources: list[Path], txn: Transaction, summary: IngestSummary, options: IngestOptions) -> None:
    """Discover, parse and commit; an exception leaves the transaction uncommitted (discarded)."""
    streams = [s for s in sources if str(s) == STDIN or _is_stream(s)]
    files = discover([s for s in sources if s not in streams])
    for s in streams:
        if str(s) == STDIN:
            files.append(_stream_file(txn.scratch, options.stdin or sys.stdin.buffer, "<stdin>", "stdin"))
        else:
            with open(s, "rb") as fh:
                files.append(_stream_file(txn.scratch, fh, utf8_text(str(s)), "pipe"))
    summary.files_seen = len(files)
    known = load_known(txn.root, txn.snapshot.files("manifest"))
    tasks, summary.files_unchanged = _tasks(files, known, summary.failed_before, options.rehash)
    if options.progress:
        options.progress("start", len(tasks), sum(t.size for t in tasks), 0)
    if not tasks:
        return
    index = DayKeyIndex(txn.root, txn.snapshot.files("keys"), txn.scratch, key_budget())
    run = _Run(txn, summary, index, options)
    chunks = list(_chunks(tasks))
    workers = max(1, min(options.workers or os.cpu_count() or 1, len(chunks)))
    written = (
        _process_serial(chunks, txn.stage, run) if workers == 1 else _process_parallel(chunks, txn.stage, run, workers)
    )
    if options.progress:
        options.progress("finish", 0, 0, 0)
    _commit(txn, run, written)
    summary.committed = True


def _process_serial(chunks: list[list[FileTask]], stage: Path, run: _Run) -> list[WrittenFile]:
    proc = ChunkProcessor(stage, run.summary.run_id, 0, run.options.input_format)
    try:
        for chunk in chunks:
            results, built, keys = proc.parse(chunk)
            proc.write(results, built, run.dedup(keys, proc.days(built)))
            run.done(results)
        return proc.close()
    except BaseException:
        proc.abort()
        raise


def _process_parallel(chunks: list[list[FileTask]], stage: Path, run: _Run, n_workers: int) -> list[WrittenFile]:
    ctx = mp.get_context("spawn")
    conns: list[Connection] = []
    procs = []
    for wid in range(n_workers):
        parent, child = ctx.Pipe(duplex=True)
        p = ctx.Process(
            target=worker_main,
            daemon=True,
            args=(child, str(stage), run.summary.run_id, wid, run.options.input_format),
        )
        p.start()
        child.close()
        conns.append(parent)
        procs.append(p)
    pending = iter(chunks)
    active = set(conns)
    written: list[WrittenFile] = []
    error: str | None = None
    try:
        for conn in conns:
            _send_next(conn, pending)
        while active:
            for ready in wait(list(active)):
                conn = cast(Connection, ready)
                try:
                    msg = conn.recv()
                except EOFError:
                    active.discard(conn)
                    error = error or "an ingest worker died (out of memory?)"
                    continue
                if msg[0] == "keys":
                    conn.send(("mask", run.dedup(msg[2], msg[3])))
                elif msg[0] == "done":
                    run.done(msg[2])
                    _send_next(conn, pending)
                elif msg[0] == "closed":
                    written.extend(msg[1])
                    error = error or msg[2]
                    active.discard(conn)
    finally:
        for conn in conns:
            conn.close()
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    if error:
        # An I/O failure arrives as one line already; anything else is a bug: keep its traceback.
        raise IngestError(error if "\n" not in error.strip() else f"ingest worker failed; nothing committed:\n{error}")
    return written


def _send_next(conn: Connection, pending: Iterator[list[FileTask]]) -> None:
    chunk = next(pending, None)
    conn.send(("stop",) if chunk is None else ("chunk", 0, chunk))


def _manifest_rows(r: FileResult, run_id: str, now: datetime) -> list[dict[str, object]]:
    """The manifest rows of one input file: the file, then each archive member."""
    rows = [
        manifest_row(
            path=r.task.key,
            source_file=r.task.source_file,
            size=r.size or r.task.size,
            mtime_ns=r.task.mtime_ns,
            ctime_ns=r.task.ctime_ns,
            sha256=r.sha256,
            kind=r.task.kind,
            status=r.status,
            reason=r.reason,
            records=r.records,
            rows_written=r.rows_written,
            duplicates=r.duplicates,
            rejected=r.rejected,
            org_id=r.task.org_id,
            account_id=r.task.account_id,
            region=r.task.region,
            file_time=r.task.file_time,
            ingest_run=run_id,
            ingested_at=now,
            resolved_path=r.resolved_path,
        )
    ]
    for m in r.members:
        inner = m.name[len(r.task.source_file) :]
        rows.append(
            manifest_row(
                path=r.task.key + inner,
                source_file=m.name,
                size=0,
                mtime_ns=0,
                ctime_ns=None,
                sha256=None,
                kind=ARCHIVE_MEMBER,
                status=m.status,
                reason=m.reason,
                records=m.records,
                rows_written=m.rows_written,
                duplicates=m.duplicates,
                rejected=m.rejected,
                org_id=None,
                account_id=None,
                region=None,
                file_time=None,
                ingest_run=run_id,
                ingested_at=now,
            )
        )
    return rows


def _commit(
    txn: Transaction,
    run: _Run,
    written: list[WrittenFile],
    rollups: Callable[[Transaction, list[str]], None] = add_rollups,
) -> None:
    """The run's manifest, dedup keys and summary, staged beside the workers' files, then commit.

    ``rollups(txn, staged event files)`` adds the rollup files (the Spark engine's own aggregates them there)."""
    manifest, new_keys = run.close_files()
    if manifest is not None:
        txn.add("manifest", [manifest.relpath])
    for day, raw in new_keys:
        partition = None if day is None else f"{KEY_PARTITION}={partition_name(day)}"
        keys_rel = txn.new_file("keys", partition=partition, suffix=".npy")
        save_keys(txn.path_for(keys_rel), [np.memmap(raw, dtype=KEY_DTYPE, mode="r")])
        txn.add("keys", [keys_rel])
    for f in written:
        txn.add(f.relpath.split("/", 1)[0], [f.relpath])
    rollups(txn, [f.relpath for f in written if f.relpath.startswith("events/")])
    summary_json = run.summary.to_json()
    summary_json.update(committed=True, started_at=txn.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    txn.write_run_summary(summary_json)
    txn.commit()


__all__ = ["UNCHANGED", "IngestError", "IngestOptions", "ingest"]
