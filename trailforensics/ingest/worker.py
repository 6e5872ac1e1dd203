"""An ingest worker process: parse chunks of files, dedup through the coordinator, write.

Protocol over one duplex pipe (coordinator -> worker / worker -> coordinator):

* ``("chunk", id, [FileTask])`` -> the worker parses the files, sends
  ``("keys", id, bytes)`` and waits for ``("mask", bytes)`` (True = keep the row), writes
  the kept rows and the dropped duplicates, then sends ``("done", id, [FileResult])``.
* ``("stop",)`` -> the worker closes its files and sends ``("closed", [WrittenFile], error)``.
"""

from __future__ import annotations

import traceback
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pyarrow as pa

from trailforensics.ingest.fileread import process_file
from trailforensics.ingest.tasks import FileResult, FileTask
from trailforensics.normalize.columns import Built
from trailforensics.schema import DUPLICATES_SCHEMA
from trailforensics.store.writer import EventWriter, TableWriter, WrittenFile

_DUP_COLUMNS = [f.name for f in DUPLICATES_SCHEMA]


class ChunkProcessor:
    """Everything a worker does, usable in-process too (``workers=1`` and tests)."""

    def __init__(self, staging: Path, run_id: str, worker_id: int):
        self.run_id = run_id
        prefix = f"{run_id}-{worker_id}"
        self.events = EventWriter(staging, prefix)
        rel = f"duplicates/part-{prefix}.parquet"
        self.duplicates = TableWriter(staging / rel, rel, DUPLICATES_SCHEMA)

    def parse(self, tasks: list[FileTask]) -> tuple[list[FileResult], list[Built | None], bytes]:
        results: list[FileResult] = []
        built: list[Built | None] = []
        for task in tasks:
            res, b = process_file(task, self.run_id)
            results.append(res)
            built.append(b)
        keys = b"".join(b.keys for b in built if b is not None)
        return results, built, keys

    def write(self, results: list[FileResult], built: list[Built | None], mask_bytes: bytes) -> None:
        mask = np.frombuffer(mask_bytes, dtype=bool)
        pos = 0
        for res, b in zip(results, built):
            if b is None:
                continue
            n = b.batch.num_rows
            keep = mask[pos:pos + n]
            pos += n
            kept = int(keep.sum())
            res.rows_written = kept
            res.duplicates = n - kept
            if kept == n:
                self.events.add(b.batch)
                continue
            keep_arr = pa.array(keep)
            self.events.add(b.batch.filter(keep_arr))
            dups = b.batch.filter(pa.array(~keep)).select(_DUP_COLUMNS)
            self.duplicates.add(dups)

    def close(self) -> list[WrittenFile]:
        files = self.events.close()
        dup = self.duplicates.close()
        return files + ([dup] if dup else [])


def worker_main(conn: Connection, staging: str, run_id: str, worker_id: int) -> None:
    proc = ChunkProcessor(Path(staging), run_id, worker_id)
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                conn.send(("closed", proc.close(), None))
                return
            _, chunk_id, tasks = msg
            results, built, keys = proc.parse(tasks)
            conn.send(("keys", chunk_id, keys))
            reply = conn.recv()
            proc.write(results, built, reply[1])
            conn.send(("done", chunk_id, results))
    except (EOFError, KeyboardInterrupt):
        return
    except Exception:  # noqa: BLE001 - report, the coordinator aborts the run
        conn.send(("closed", [], traceback.format_exc()))
