"""An ingest worker process: parse chunks of files, dedup through the coordinator, write.

Protocol over one duplex pipe (coordinator -> worker / worker -> coordinator):

* ``("chunk", id, [FileTask])`` -> the worker parses the files, sends
  ``("keys", id, keys, days)`` (16 bytes and one int64 event day per row), waits for
  ``("mask", bytes)`` (True = keep the row), writes the kept rows and the dropped duplicates,
  then sends ``("done", id, [FileResult])``.
* ``("stop",)`` -> the worker closes its files and sends ``("closed", [WrittenFile], error)``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pyarrow as pa

from trailforensics.ingest.fileread import process_file
from trailforensics.ingest.tasks import FileResult, FileTask
from trailforensics.normalize.columns import Built
from trailforensics.schema import DUPLICATES_SCHEMA
from trailforensics.store.writer import EventWriter, TableWriter, WrittenFile, partition_values

_DUP_COLUMNS = [f.name for f in DUPLICATES_SCHEMA]


class ChunkProcessor:
    """Everything a worker does, usable in-process too (``workers=1`` and tests)."""

    def __init__(self, staging: Path, run_id: str, worker_id: int, forced: str | None = None):
        self.run_id = run_id
        self.forced = forced
        prefix = f"{run_id}-{worker_id}"
        self.events = EventWriter(staging, prefix)
        rel = f"duplicates/part-{prefix}.parquet"
        self.duplicates = TableWriter(staging / rel, rel, DUPLICATES_SCHEMA)

    def parse(self, tasks: list[FileTask]) -> tuple[list[FileResult], list[list[Built]], bytes]:
        results: list[FileResult] = []
        built: list[list[Built]] = []
        for task in tasks:
            res, b = process_file(task, self.run_id, self.forced)
            results.append(res)
            built.append(b)
        keys = b"".join(b.keys for bs in built for b in bs)
        return results, built, keys

    @staticmethod
    def days(built: list[list[Built]]) -> bytes:
        """The event day of every row, in the order of the keys (the dedup index is kept by day)."""
        parts = [partition_values(b.batch) for bs in built for b in bs]
        return (np.concatenate(parts) if parts else np.zeros(0, np.int64)).astype(np.int64).tobytes()

    def write(self, results: list[FileResult], built: list[list[Built]], mask_bytes: bytes) -> None:
        mask = np.frombuffer(mask_bytes, dtype=bool)
        pos = 0
        for res, batches in zip(results, built):
            members = {m.name: m for m in res.members}
            for b in batches:
                n = b.batch.num_rows
                keep = mask[pos : pos + n]
                pos += n
                kept = int(keep.sum())
                res.rows_written += kept
                res.duplicates += n - kept
                if n:
                    member = members.get(b.batch.column("source_file")[0].as_py())
                    if member is not None:
                        member.rows_written, member.duplicates = kept, n - kept
                if kept == n:
                    self.events.add(b.batch)
                    continue
                self.events.add(b.batch.filter(pa.array(keep)))
                self.duplicates.add(b.batch.filter(pa.array(~keep)).select(_DUP_COLUMNS))

    def close(self) -> list[WrittenFile]:
        files = self.events.close()
        dup = self.duplicates.close()
        return files + ([dup] if dup else [])

    def abort(self) -> None:
        """Close every file quietly after a failure (the run will not commit)."""
        self.events.abort()
        self.duplicates.abort()


def os_error_line(exc: OSError) -> str:
    """One line for an I/O failure while writing the run (a full disk above all), never a traceback."""
    where = f" while writing {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on device{where}; nothing committed"
    return f"{exc.strerror or exc}{where}; nothing committed"


# What a worker may keep of the memory it freed, for its next chunks: a share of the memory
# setting, within these bounds (measured at 10 M events: two workers at ~330 MB each and the
# coordinator at ~290 MB, under 1 GiB for the whole process tree).
RETAIN_MIN, RETAIN_MAX = 128 << 20, 320 << 20


def retain_bytes() -> int:
    from trailforensics.engine.resources import memory_limit

    return max(RETAIN_MIN, min(RETAIN_MAX, memory_limit() // 12))


def _rss() -> int | None:
    """This process's resident set in bytes (None where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _malloc_trim(retain: int) -> Callable[[], object]:
    """glibc's ``malloc_trim(0)`` once the process holds more than ``retain`` bytes (or cannot tell).

    Trimming after every chunk handed back pages that the next chunk faulted in again: 3.4 M page
    faults and 5.2 s of system time (12 % of the CPU time) at 2 M events, 0.8 M and 1.8 s with
    this threshold.  Trimming beyond it keeps the worker's memory a setting."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None

    def release() -> object:
        rss = _rss()
        return trim(0) if rss is None or rss > retain else None

    return release


def worker_main(conn: Connection, staging: str, run_id: str, worker_id: int, forced: str | None = None) -> None:
    # The system allocator hands large buffers back to the OS when freed; Arrow's default
    # pools keep them, which made the workers' memory grow with the input.
    pa.set_memory_pool(pa.system_memory_pool())
    # Even so, glibc keeps the pages of a chunk's freed parse objects and batches in its heap,
    # fragmented: ~100 MB per worker that grew with the run.  Handing them back once the worker
    # holds more than its share keeps it at its working set.
    release = _malloc_trim(retain_bytes())
    proc = ChunkProcessor(Path(staging), run_id, worker_id, forced)
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                conn.send(("closed", proc.close(), None))
                return
            _, chunk_id, tasks = msg
            results, built, keys = proc.parse(tasks)
            conn.send(("keys", chunk_id, keys, proc.days(built)))
            reply = conn.recv()
            proc.write(results, built, reply[1])
            conn.send(("done", chunk_id, results))
            del results, built
            release()
    except (EOFError, KeyboardInterrupt):
        proc.abort()
        return
    except OSError as exc:
        proc.abort()
        conn.send(("closed", [], os_error_line(exc)))
    except Exception:
        proc.abort()
        conn.send(("closed", [], traceback.format_exc()))
