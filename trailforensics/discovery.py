"""Input discovery: walk the given sources, classify every file by its path, order them.

Classification here is by path only (cheap, no I/O beyond ``stat``; the key grammar is
:mod:`trailforensics.awslogs`); content sniffing of
files outside the CloudTrail folders happens in the reader.  Files are returned in the
order of the timestamp in their names, so that output comes out nearly sorted by event
time without a global sort.
"""

from __future__ import annotations

import errno
import os
import stat
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
    resolved_path: str | None = None  # where a symbolic link leads (``path`` is the link as found)

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
    return Path(*root_parts(base.parts))


def root_parts(base: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`source_root` on the parts of a folder (``("/", "case", "AWSLogs", "1111")``): of a
    local path or of a Hadoop URI's path alike."""
    if "AWSLogs" in base:
        idx = len(base) - 1 - base[::-1].index("AWSLogs")
        return base[:idx] if idx else base[:1]
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


NOT_A_FILE = "not-a-file"  # a folder, link, pipe, socket or device: listed with why it is not read


@dataclass(frozen=True)
class Found:
    """One path met while walking a tree, and what the walk made of it.

    Exactly one of: a file to read (``entry`` set, ``skip`` and ``error`` None), something that
    is not a regular file (``skip`` says what), or a path that could not be looked at (``error``).
    ``target`` is where a symbolic link points (resolved), when the path is one.
    """

    path: str
    entry: os.DirEntry[str] | None = None
    skip: str | None = None
    error: str | None = None
    target: str | None = None


def walk(root: Path | str) -> Iterator[Found]:
    """Every path below root, never following folder links; one bad entry never hides its siblings.

    Folders are opened without updating their access time where the OS allows it.  A folder
    that cannot be listed, a link that loops or dangles, a pipe, an empty folder: each is
    yielded once with its reason, and the walk goes on.
    """
    top = os.path.realpath(root)
    stack = [str(root)]
    while stack:
        current = stack.pop()
        try:
            fd = _open_dir(current)
        except OSError as exc:
            yield Found(current, error=f"cannot list directory: {_why(exc)}")
            continue
        listed = 0
        try:
            with os.scandir(fd) as it:
                for entry in it:
                    listed += 1
                    path = os.path.join(current, entry.name)
                    try:
                        found = _look_at(path, entry, top)
                    except OSError as exc:  # this entry only: its siblings are still read
                        found = Found(path, error=f"cannot read: {_why(exc)}")
                    if found is None:
                        stack.append(path)
                    else:
                        yield found
        except OSError as exc:
            yield Found(current, error=f"cannot list directory (after {listed} entries): {_why(exc)}")
        else:
            if not listed:
                yield Found(current, skip="empty folder")
        finally:
            os.close(fd)


def _look_at(path: str, entry: os.DirEntry[str], top: str) -> Found | None:
    """What one folder entry is (None: a folder to descend into)."""
    if entry.is_symlink():
        return _link(path, entry, top)
    if entry.is_dir(follow_symlinks=False):
        return None
    if entry.is_file(follow_symlinks=False):
        return Found(path, entry)
    return Found(path, skip=f"{_special(entry.stat(follow_symlinks=False).st_mode)}: not read")


def _link(path: str, entry: os.DirEntry[str], top: str) -> Found:
    """A symbolic link: read through when it leads to a regular file, otherwise listed with why not."""
    try:
        shown = utf8_text(os.readlink(path))
    except OSError:
        shown = "?"
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Found(path, skip=f"symbolic link loop (it points to {shown}, which leads back to itself)")
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return Found(path, skip=f"dangling symbolic link (its target {shown} does not exist)")
        return Found(path, error=f"cannot read: {_why(exc)} (symbolic link to {shown})")
    target = os.path.realpath(path)
    if stat.S_ISREG(st.st_mode):
        return Found(path, entry, target=target)
    if stat.S_ISDIR(st.st_mode):
        parent = os.path.realpath(os.path.dirname(path))
        if parent == target or parent.startswith(target.rstrip(os.sep) + os.sep):
            why = f"folder loop: link to {utf8_text(target)}, a folder that contains it (not followed)"
        elif target == top or target.startswith(top.rstrip(os.sep) + os.sep):
            why = f"link to the folder {utf8_text(target)}, inside the tree (not followed: its files are read there)"
        else:
            why = (
                f"link to the folder {utf8_text(target)}, outside the tree (not followed: give it as a source "
                "to read it)"
            )
        return Found(path, skip=why, target=target)
    return Found(path, skip=f"link to a {_special(st.st_mode)} ({utf8_text(target)}): not read", target=target)


def _special(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def walk_files(root: Path | str, errors: list[tuple[str, str]] | None = None) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(path, entry) of every regular file below root (links to files included), never following folder links.

    Paths that could not be looked at go to ``errors`` as (path, reason) when given.
    """
    for found in walk(root):
        if found.error is not None:
            if errors is not None:
                errors.append((found.path, found.error))
        elif found.entry is not None and found.skip is None:
            yield found.path, found.entry


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
    """Every path under the given sources (files or directories), ordered for ingest.

    Every path seen is listed: files to read, and (kind ``not-a-file``, with the reason) the
    folders, links, pipes and devices that are not read, and (``error``) what could not be looked at.
    """
    return arrange(listed(sources))


def listed(sources: Iterable[str | Path]) -> list[tuple[InputFile, str]]:
    """Every path under the given local sources, with the label of its root (see :func:`arrange`), unordered."""
    found: dict[str, tuple[InputFile, str]] = {}
    for src in sources:
        # The real path: the same tree given through a link is the same evidence.
        src_path = Path(src).resolve()
        root = source_root(src_path)
        seen = walk(src_path) if src_path.is_dir() else [Found(str(src_path), None)]
        for item in seen:
            if item.path in found:
                continue
            found[item.path] = (_from_found(item, root), _root_label(root))
    return list(found.values())


def arrange(files: Iterable[tuple[InputFile, str]]) -> list[InputFile]:
    """The files of every source, each with its root's label, in ingest order (see :meth:`InputFile.sort_key`).

    Two dumps of the same bucket (`sync-monday/`, `sync-friday/`) give the same relative paths:
    those files get their root's label in front, so every row names its own file.
    """
    items = list(files)
    by_rel: dict[str, int] = {}
    for f, _label in items:
        by_rel[f.source_file] = by_rel.get(f.source_file, 0) + 1
    out = [
        replace(f, source_file=f"{utf8_text(label)}/{f.source_file}") if by_rel[f.source_file] > 1 else f
        for f, label in items
    ]
    return sorted(out, key=InputFile.sort_key)


def _from_found(item: Found, root: Path) -> InputFile:
    if item.error is not None:
        return _input_file(item.path, root, None, error=item.error)
    try:
        st = item.entry.stat() if item.entry is not None else os.stat(item.path, follow_symlinks=item.skip is None)
    except OSError as exc:
        return _input_file(item.path, root, None, error=f"cannot read: {_why(exc)}")
    if item.skip is not None:
        return replace(_input_file(item.path, root, st, resolved=item.target), kind=NOT_A_FILE, reason=item.skip)
    return _input_file(item.path, root, st, resolved=item.target)


def _root_label(root: Path) -> str:
    return root.name or str(root).strip("/") or "root"


def _input_file(
    path: str, root: Path, st: os.stat_result | None, error: str | None = None, resolved: str | None = None
) -> InputFile:
    text = utf8_text(path)
    return described(
        path,
        utf8_text(os.path.relpath(path, root).replace(os.sep, "/")),
        size=st.st_size if st else 0,
        mtime_ns=st.st_mtime_ns if st else 0,
        ctime_ns=st.st_ctime_ns if st else None,
        identity=text if text != path else None,
        error=error,
        resolved_path=utf8_text(resolved) if resolved and resolved != path else None,
    )


def described(
    path: str,
    rel: str,
    *,
    size: int,
    mtime_ns: int,
    ctime_ns: int | None = None,
    identity: str | None = None,
    error: str | None = None,
    resolved_path: str | None = None,
) -> InputFile:
    """The :class:`InputFile` of one listed file: its kind, skip reason and metadata from ``rel``, its
    path relative to the source root (``/``-separated).  Local discovery and the Spark engine's listing
    of Hadoop filesystem URIs (``spark.sources``) both describe their files here."""
    kind, reason, meta = classify(rel)
    return InputFile(
        path=path,
        source_file=rel,
        kind=kind,
        reason=reason,
        size=size,
        mtime_ns=mtime_ns,
        ctime_ns=ctime_ns,
        file_time=awslogs.file_time(rel.rsplit("/", 1)[-1]),
        identity=identity,
        error=error,
        resolved_path=resolved_path,
        **meta,
    )
