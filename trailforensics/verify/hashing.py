"""Streaming SHA-256 of the decompressed content of gzip files, in worker processes.

The hash covers exactly the first gzip member (what a digest's ``hashValue`` covers, and the
only bytes trailforensics' ingest parses); anything after it (a second member, stray bytes)
is reported, never silently accepted: awscli's validator stops at the end of the first member
while Python's gzip and DuckDB read every member, so an appended member would otherwise
smuggle records past validation.  Memory stays bounded: the file is read in chunks and
inflated with a cap on each output chunk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from typing import cast

from trailforensics.readers.decompress import GZIP_MAGIC, MAX_DECOMPRESSED

try:  # python-isal inflates 2-3x faster than zlib
    from isal import isal_zlib as _zlib
except ImportError:  # pragma: no cover
    import zlib as _zlib  # type: ignore[no-redef]

# (isal's stub declares `error` as an instance, not a class)
_ERRORS: tuple[type[BaseException], ...] = (cast("type[BaseException]", _zlib.error), OSError)
READ_CHUNK = 1 << 20
OUT_CHUNK = 4 << 20
_GZIP_WBITS = 31


@dataclass(frozen=True)
class HashResult:
    sha256: str | None  # of the decompressed first member (None when it could not be read to its end)
    size: int  # bytes on disk
    error: str | None = None  # not gzip, corrupt, truncated, too large, unreadable
    trailing: int = 0  # bytes after the first gzip member
    trailing_member: bool = False  # ... and they start with the gzip magic (a second member)


def hash_gzip_file(path: str, limit: int = MAX_DECOMPRESSED) -> HashResult:
    h = hashlib.sha256()
    d = _zlib.decompressobj(_GZIP_WBITS)
    size = 0
    out_total = 0
    trailing = 0
    head = b""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        return HashResult(None, 0, f"cannot read: {exc.strerror or exc}")
    try:
        while True:
            buf = fh.read(READ_CHUNK)
            if not buf:
                break
            size += len(buf)
            if d.eof:
                trailing += len(buf)
                if len(head) < 2:
                    head += buf[: 2 - len(head)]
                continue
            if size == len(buf) and buf[:2] != GZIP_MAGIC:
                return HashResult(None, os.path.getsize(path), "not a gzip file")
            data = buf
            while True:
                out = d.decompress(data, OUT_CHUNK)
                h.update(out)
                out_total += len(out)
                if out_total > limit:
                    return HashResult(
                        None,
                        os.path.getsize(path),
                        f"decompresses to more than {limit:,} bytes (a decompression bomb?)",
                    )
                if d.eof:
                    rest = d.unused_data
                    trailing += len(rest)
                    head = rest[:2]
                    break
                data = d.unconsumed_tail
                if not data and len(out) < OUT_CHUNK:
                    break
        if size == 0:
            return HashResult(None, 0, "empty file")
        if not d.eof:
            # drain output still held by the decompressor, then it must have reached the member's end
            while True:
                out = d.decompress(b"", OUT_CHUNK)
                if not out:
                    break
                h.update(out)
            if not d.eof:
                return HashResult(None, size, "truncated gzip file (the member has no end)")
    except _ERRORS as exc:
        return HashResult(None, size, f"corrupt gzip data ({exc})")
    finally:
        fh.close()
    return HashResult(h.hexdigest(), size, None, trailing, trailing > 0 and head[:2] == GZIP_MAGIC)


def _hash_batch(paths: list[str]) -> list[HashResult]:
    return [hash_gzip_file(p) for p in paths]


def _batches(items: list[tuple[str, int]], max_files: int = 256, max_bytes: int = 32 << 20) -> Iterator[list[str]]:
    batch: list[str] = []
    nbytes = 0
    for path, size in items:
        batch.append(path)
        nbytes += size
        if len(batch) >= max_files or nbytes >= max_bytes:
            yield batch
            batch, nbytes = [], 0
    if batch:
        yield batch


ProgressFn = Callable[[str, int, int], None]
PARALLEL_MIN_BYTES = 24 << 20  # below this, starting processes costs more than it saves
PARALLEL_MIN_FILES = 64


def hash_files(
    items: list[tuple[str, int]], workers: int | None = None, progress: ProgressFn | None = None
) -> dict[str, HashResult]:
    """Hash every (absolute path, size); `workers` None = automatic (all cores for big inputs)."""
    total = sum(s for _, s in items)
    if workers is None:
        big = total >= PARALLEL_MIN_BYTES and len(items) >= PARALLEL_MIN_FILES
        workers = (os.cpu_count() or 1) if big else 1
    workers = max(1, min(workers, len(items)))
    results: dict[str, HashResult] = {}
    if workers == 1:
        for path, _size in items:
            res = hash_gzip_file(path)
            results[path] = res
            if progress:
                progress("advance", 1, res.size)
        return results
    # Small batches at first so that every worker starts at once, bigger ones later.
    ordered = sorted(items, key=lambda x: -x[1]) if len(items) < 4 * workers else items
    batches = list(_batches(ordered, max_files=max(8, min(256, len(items) // (workers * 8) or 8))))
    pending: dict[Future[list[HashResult]], list[str]] = {}
    it = iter(batches)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        for batch in it:
            pending[pool.submit(_hash_batch, batch)] = batch
            if len(pending) >= workers * 2:
                break
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                batch = pending.pop(fut)
                for path, res in zip(batch, fut.result(), strict=True):
                    results[path] = res
                if progress:
                    progress("advance", len(batch), sum(results[p].size for p in batch))
                nxt = next(it, None)
                if nxt is not None:
                    pending[pool.submit(_hash_batch, nxt)] = nxt
    return results
