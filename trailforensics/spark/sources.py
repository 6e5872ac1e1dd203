"""Evidence named by a Hadoop filesystem URI, for the Spark ingest (``s3a://``, ``hdfs://``, ``gs://``, ``file:/``...).

Executors on a cluster do not see the driver's disk, and the bucket is read with whatever
connectors and credentials the cluster has, so both steps go through Spark's ``binaryFile``
source (which also works over Spark Connect):

* listing, on the driver: ``path``, ``length`` and ``modificationTime`` of every file below each
  URI (``binaryFile`` reads no content when ``content`` is not selected); each path is then
  described by the local discovery's own classification (``discovery.described``), relative to
  the same root (``discovery.root_parts``: the folder holding ``AWSLogs``, else the URI given);
* reading, on the executors: ``content`` of the chosen files only (the scan is pruned by
  ``_metadata.file_path``: a known file is never read again), joined to each file's chunk and
  position, parsed by ``ingest.fileread.process_bytes`` (the local readers and normaliser).

Files over ``fileread.MAX_FILE_BYTES`` are never read (a per-file error, as locally): Spark's
``binaryFile`` cannot hold a file over 2 GiB and would fail the whole job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from trailforensics.discovery import InputFile, described, root_parts
from trailforensics.ingest.fileread import MAX_FILE_BYTES, process_bytes, process_file, refusal
from trailforensics.ingest.pipeline import IngestError
from trailforensics.ingest.tasks import FAILED, FileResult, FileTask
from trailforensics.normalize.columns import Built

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# A scheme of two characters or more, then ":/" (a Windows drive letter is one character).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")
_PARTS = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(?://([^/]*))?(.*)$")
_GLOB = re.compile(r"[*?\[\]{}\\]")
BINARY_FILE_LIMIT = (1 << 31) - 1  # binaryFile's content is one Java byte array
MISSING = "cannot read: the file was gone when Spark read it (listed, then moved or deleted)"


def looks_like_uri(text: str) -> bool:
    """``scheme:/...`` (what the executors check: their tasks' local paths are absolute)."""
    return _SCHEME.match(text) is not None


def is_uri(source: str | Path) -> bool:
    """A source the Spark engine lists through Hadoop (a local path that happens to look like one is local)."""
    text = str(source)
    return looks_like_uri(text) and not os.path.exists(text)


def local_path(uri: str) -> Path | None:
    """The local path a ``file:`` URI names (None for any other scheme)."""
    scheme, _authority, path = _split(uri)
    return Path(path) if scheme == "file" else None


def _split(uri: str) -> tuple[str, str, str]:
    """(scheme, authority, path) with Hadoop's normalisation of the path: no empty segment, no trailing ``/``."""
    match = _PARTS.match(uri)
    if match is None:
        raise IngestError(f"not a URI: {uri}")
    scheme, authority, path = match.group(1).lower(), match.group(2) or "", match.group(3)
    return scheme, authority, "/" + "/".join(p for p in path.split("/") if p)


def _parts(path: str) -> tuple[str, ...]:
    return ("/", *[p for p in path.split("/") if p])


def _reader(spark: SparkSession) -> object:
    # ignoredPathSegmentRegex "" (Spark 4.3+; ignored before): list names starting with "_" or "."
    # too, as local discovery does (it reports hidden files as skipped, reads "_verification/").
    return (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .option("ignoredPathSegmentRegex", "")
        .option("ignoreMissingFiles", "true")
    )


def listed(spark: SparkSession, uris: Sequence[str]) -> tuple[list[tuple[InputFile, str]], dict[str, str]]:
    """Every file below the URIs as (InputFile, its root's label) for ``discovery.arrange``, and the name
    each path has in ``_metadata.file_path`` (URL-encoded) to read it by."""
    from pyspark.sql import functions as F

    found: dict[str, tuple[InputFile, str]] = {}
    read_as: dict[str, str] = {}
    for uri in uris:
        try:
            table = (
                _reader(spark)
                .load(uri)  # type: ignore[attr-defined]
                .select(
                    "path",
                    "length",
                    F.unix_micros("modificationTime").alias("mtime_us"),
                    F.col("_metadata.file_path").alias("read_as"),
                )
                .toArrow()
            )
        except Exception as exc:  # AnalysisException (no such path), a missing connector, access denied
            raise IngestError(f"cannot list {uri}: {_why(exc)}") from None
        paths = table.column("path").to_pylist()
        mtimes = [us * 1000 for us in table.column("mtime_us").to_pylist()]
        for item, name in zip(
            describe(uri, paths, table.column("length").to_pylist(), mtimes), table.column("read_as").to_pylist()
        ):
            if item[0].path not in found:
                found[item[0].path] = item
                read_as[item[0].path] = name
    return list(found.values()), read_as


def describe(uri: str, paths: list[str], sizes: list[int], mtimes_ns: list[int]) -> list[tuple[InputFile, str]]:
    """The files Spark listed below ``uri``, described as local discovery describes files (same root rule,
    same classification), each with its root's label."""
    root = root_parts(_base(uri, paths))
    label = _label(uri, root)
    return [
        (described(path, _relative(path, root), size=size, mtime_ns=mtime), label)
        for path, size, mtime in zip(paths, sizes, mtimes_ns)
    ]


def _why(exc: Exception) -> str:
    """One line from a Spark or Py4J error (py4j's first line only names the call that failed)."""
    lines = [ln.strip().lstrip(": ") for ln in str(exc).splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("An error occurred while calling")]
    line = lines[0] if lines else type(exc).__name__
    if "ClassNotFoundException" in line and "FileSystem" in line:
        line += " (no Hadoop connector for this scheme on the cluster: see docs/SCALE-OUT.md)"
    return line[:400]


def _base(uri: str, paths: list[str]) -> tuple[str, ...]:
    """The folder the URI names: itself, its parent when it names one file, the part before a glob."""
    parts = _parts(_split(uri)[2])
    for i, part in enumerate(parts):
        if _GLOB.search(part):
            return parts[:i]
    if len(paths) == 1 and _parts(_split(paths[0])[2]) == parts:
        return parts[:-1]
    return parts


def _relative(path: str, root: tuple[str, ...]) -> str:
    parts = _parts(_split(path)[2])
    if parts[: len(root)] == root and len(parts) > len(root):
        return "/".join(parts[len(root) :])
    return parts[-1]


def _label(uri: str, root: tuple[str, ...]) -> str:
    """What clashing ``source_file`` values get in front (``discovery.arrange``): the root's name, or the bucket."""
    return root[-1] if len(root) > 1 else (_split(uri)[1] or "root")


def readable(task: FileTask) -> bool:
    """A listed file whose bytes the executors are to read (the others get their result without reading)."""
    return refusal(task) is None and task.size <= min(MAX_FILE_BYTES, BINARY_FILE_LIMIT)


def contents(
    spark: SparkSession,
    uris: Sequence[str],
    wanted: list[tuple[str, int, int]],
    listed_files: int,
    partitions: int | None = None,
) -> DataFrame:
    """``(chunk, idx, content)`` of the wanted files (``(read_as, chunk, idx)``), read by the executors.

    The scan is pruned to the wanted files by ``_metadata.file_path`` (a filter on ``path`` would not
    prune: every file's content would be read, then dropped), unless every listed file is wanted.
    ``partitions``: at most that many read tasks (Spark counts 4 MB per small file and would start
    one task per ~32 CloudTrail files: their overhead, not the reading, then dominates).
    """
    from pyspark.sql import functions as F

    df = _reader(spark).load(list(uris))  # type: ignore[attr-defined]
    names = [w[0] for w in wanted]
    if len(set(names)) < listed_files:
        df = df.where(F.col("_metadata.file_path").isin(names))
    chosen = spark.createDataFrame(
        pa.table(
            {
                "read_as": pa.array(names, pa.string()),
                "chunk": pa.array([w[1] for w in wanted], pa.int32()),
                "idx": pa.array([w[2] for w in wanted], pa.int32()),
            }
        )
    )
    df = df.select(F.col("_metadata.file_path").alias("read_as"), "content")
    if partitions is not None:
        df = df.coalesce(partitions)
    return df.join(chosen, "read_as").select("chunk", "idx", F.lit(None).cast("binary").alias("tasks"), "content")


def read_task(task: FileTask, data: bytes | None, run_id: str, forced: str | None) -> tuple[FileResult, list[Built]]:
    """One task on an executor: a URI's bytes as Spark read them, a local path read here."""
    if not looks_like_uri(task.path):
        return process_file(task, run_id, forced)
    if data is not None:
        return process_bytes(task, data, run_id, forced)
    refused = refusal(task)
    if refused is not None:
        return refused, []
    return FileResult(task, FAILED, MISSING, size=task.size), []
