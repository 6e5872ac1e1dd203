"""Input discovery: walk the given sources, classify every file by its path, order them.

Classification here is by path only (cheap, no I/O beyond ``stat``; the key grammar is
:mod:`trailforensics.awslogs`); content sniffing of
files outside the CloudTrail folders happens in the reader.  Files are returned in the
order of the timestamp in their names, so that output comes out nearly sorted by event
time without a global sort.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from trailforensics import awslogs
from trailforensics.names import utf8_text

# File kinds (the manifest's `kind` column), from where a file sits in the tree.  KIND_LOG_FILE is
# spelt "cloudtrail" like the source format of a {"Records": [...]} document
# (readers.shapes.SHAPE_CLOUDTRAIL, the `source_format` column, `--input-format cloudtrail`):
# one says where a file is, the other what its content looks like.  Both stored values stay as they are.
KIND_LOG_FILE = "cloudtrail"
INSIGHT = "cloudtrail-insight"
DIGEST = "cloudtrail-digest"
CANDIDATE = "candidate"  # any other file: recognised (or skipped) by its content
OTHER = "other"


@dataclass(frozen=True)
class InputFile:
    path: str  # absolute path, as the OS names it (opens the file)
    source_file: str  # relative to the source root (see ``source_root``), UTF-8 text
    kind: str
    reason: str | None  # why it will be skipped (kind == OTHER or DIGEST)
    size: int
    mtime_ns: int
    org_id: str | None = None
    account_id: str | None = None
    region: str | None = None
    file_time: datetime | None = None
    ctime_ns: int | None = None  # status change time: an edit that restores the mtime still moves it
    identity: str | None = None  # the manifest key when not ``path`` (stdin, FIFOs, undecodable names)
    error: str | None = None  # could not be listed or read: reported as failed

    @property
    def key(self) -> str:
        return self.identity or self.path

    def sort_key(self) -> tuple[int, str, str]:
        stamp = self.file_time.strftime("%Y%m%d%H%M%S") if self.file_time else "~"
        return (0 if self.file_time else 1, stamp, self.source_file)


def source_root(path: Path) -> Path:
    """The root that ``source_file`` is relative to.

    Normally the directory given; when it lies inside an AWSLogs tree, the folder holding
    ``AWSLogs`` instead, so that ``source_file`` reads like the S3 object key whatever
    level of the tree the responder pointed at.
    """
    base = path if path.is_dir() else path.parent
    parts = base.parts
    if "AWSLogs" in parts:
        idx = len(parts) - 1 - parts[::-1].index("AWSLogs")
        return Path(*parts[:idx]) if idx else Path(parts[0])
    return base


def classify(rel: str) -> tuple[str, str | None, dict[str, str | None]]:
    """Kind, skip reason and path metadata of a file from its relative path."""
    name = rel.rsplit("/", 1)[-1]
    meta: dict[str, str | None] = {}
    if name.startswith("."):
        return OTHER, "hidden or system file", meta
    key = awslogs.parse_path(rel)
    if key:
        meta = {"org_id": key.org_id, "account_id": key.account, "region": key.region}
        if key.kind == awslogs.LOG:
            return KIND_LOG_FILE, None, meta
        if key.kind == awslogs.INSIGHT:
            return INSIGHT, None, meta
        if key.kind == awslogs.DIGEST:
            return DIGEST, "CloudTrail digest file (not events; checked by `verify`)", meta
        return OTHER, f"not CloudTrail: AWSLogs/{key.folder} data", meta
    folder = awslogs.service_folder(rel)
    if folder and not folder.startswith("CloudTrail"):
        return OTHER, f"not CloudTrail: AWSLogs/{folder} data", meta
    if "/CloudTrail-Digest/" in f"/{rel}" or "_CloudTrail-Digest_" in name:
        return DIGEST, "CloudTrail digest file (not events; checked by `verify`)", meta
    # Everything else is recognised by its content (JSON shapes, CSV exports, archives).
    return CANDIDATE, None, meta


def walk_files(root: Path | str, errors: list[tuple[str, str]] | None = None) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(path, entry) of every regular file below root, never following directory links.

    Directories are opened without updating their access time where the OS allows it.
    Directories that cannot be listed go to ``errors`` as (path, reason) when given.
    """
    stack = [str(root)]
    while stack:
        current = stack.pop()
        try:
            fd = _open_dir(current)
        except OSError as exc:
            if errors is not None:
                errors.append((current, f"cannot list directory: {exc.strerror or exc}"))
            continue
        try:
            with os.scandir(fd) as it:
                for entry in it:
                    path = os.path.join(current, entry.name)
                    # Never follow directory symlinks: evidence trees can contain loops.
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(path)
                    elif entry.is_file():
                        yield path, entry
        except OSError as exc:
            if errors is not None:
                errors.append((current, f"cannot list directory: {exc.strerror or exc}"))
        finally:
            os.close(fd)


_O_NOATIME = getattr(os, "O_NOATIME", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def _open_dir(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY | _O_DIRECTORY | _O_NOATIME)
    except PermissionError:  # O_NOATIME needs ownership of the directory
        if not _O_NOATIME:
            raise
        return os.open(path, os.O_RDONLY | _O_DIRECTORY)


def discover(sources: Iterable[str | Path]) -> list[InputFile]:
    """Every file under the given sources (files or directories), ordered for ingest."""
    found: dict[str, InputFile] = {}
    roots: dict[str, Path] = {}
    errors: list[tuple[str, str]] = []
    for src in sources:
        # The real path: the same tree given through a link is the same evidence.
        src_path = Path(src).resolve()
        root = source_root(src_path)
        entries: Iterable[tuple[str, os.DirEntry[str] | Path]]
        entries = walk_files(src_path, errors) if src_path.is_dir() else [(str(src_path), src_path)]
        for path, entry in entries:
            if path in found:
                continue
            try:
                st = entry.stat()
            except OSError as exc:
                errors.append((path, f"cannot read: {exc.strerror or exc}"))
                continue
            found[path] = _input_file(path, root, st)
            roots[path] = root
        for path, reason in errors:
            if path not in found:
                found[path] = _input_file(path, root, None, reason)
                roots[path] = root
        errors.clear()
    return sorted(_distinct_source_files(found, roots), key=InputFile.sort_key)


def _distinct_source_files(found: dict[str, InputFile], roots: dict[str, Path]) -> list[InputFile]:
    """Two dumps of the same bucket (`sync-monday/`, `sync-friday/`) give the same relative
    paths: those files get their root's name in front, so every row names its own file."""
    by_rel: dict[str, list[str]] = {}
    for path, f in found.items():
        by_rel.setdefault(f.source_file, []).append(path)
    out = list(found.values())
    clashes = {p for paths in by_rel.values() if len(paths) > 1 for p in paths}
    if not clashes:
        return out
    return [
        replace(f, source_file=f"{utf8_text(_root_label(roots[f.path]))}/{f.source_file}") if f.path in clashes else f
        for f in out
    ]


def _root_label(root: Path) -> str:
    return root.name or str(root).strip("/") or "root"


def _input_file(path: str, root: Path, st: os.stat_result | None, error: str | None = None) -> InputFile:
    rel = utf8_text(os.path.relpath(path, root).replace(os.sep, "/"))
    kind, reason, meta = classify(rel)
    text = utf8_text(path)
    return InputFile(
        path=path,
        source_file=rel,
        kind=kind,
        reason=reason,
        size=st.st_size if st else 0,
        mtime_ns=st.st_mtime_ns if st else 0,
        ctime_ns=st.st_ctime_ns if st else None,
        file_time=awslogs.file_time(rel.rsplit("/", 1)[-1]),
        identity=text if text != path else None,
        error=error,
        **meta,
    )
