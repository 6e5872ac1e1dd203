"""zip, tar, tar.gz and tgz archives, read as streams: nothing is ever extracted to disk.

Members are yielded as (name, bytes); names only label rows (``archive.zip!/path``), so a
hostile name (``../../etc/x``, an absolute path) can never write anywhere.  Links, devices
and other special members are skipped with a reason; reads are bounded, so a member that
decompresses to far more than it claims (a bomb) is stopped and reported.  Archives nested
one level deep are opened too; deeper ones are reported.
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from trailforensics.names import utf8_text
from trailforensics.readers.decompress import (
    MAX_RATIO,
    RATIO_FLOOR,
    DecompressError,
    decompressed_cap,
    is_gzip,
    maybe_gunzip,
)

MAX_DEPTH = 2  # an archive inside an archive is read; one inside that is not


@dataclass
class Member:
    name: str  # "archive.zip!/dir/file.json.gz" (nested: "a.zip!/b.tar!/c.json")
    data: bytes | None  # decompressed content; None when skipped or failed
    problem: str | None = None  # why it is skipped (skip=True) or failed
    skip: bool = False


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def is_tar(data: bytes) -> bool:
    return len(data) > 262 and data[257:262] == b"ustar"


def archive_kind(data: bytes) -> str | None:
    """'zip', 'tar' or None (a tar.gz is recognised after gunzip by the caller)."""
    if is_zip(data):
        return "zip"
    if is_tar(data):
        return "tar"
    return None


def _limit(compressed: int) -> int:
    """A member's bound: the same ratio and cap as a gzip file (readers.decompress)."""
    return min(decompressed_cap(), max(RATIO_FLOOR, compressed * MAX_RATIO))


def members(data: bytes, label: str, depth: int = 1) -> Iterator[Member]:
    """The archive's members, each named uniquely (a repeated name gets ` (copy N)`)."""
    kind = archive_kind(data)
    inner = _zip_members(data, label, depth) if kind == "zip" else _tar_members(data, label, depth) if kind else ()
    seen: dict[str, int] = {}
    for member in inner:
        count = seen.get(member.name, 0) + 1
        seen[member.name] = count
        if count > 1:  # zip and tar allow the same name twice: both are read, told apart
            member.name = f"{member.name} (copy {count})"
        yield member


def _expand(name: str, raw: bytes, depth: int, limit: int) -> Iterator[Member]:
    try:
        content, _ = maybe_gunzip(raw, limit)
    except DecompressError as exc:
        yield Member(name, None, str(exc))
        return
    if archive_kind(content):
        if depth >= MAX_DEPTH:
            yield Member(name, None, "archive nested more than one level deep (not opened)", skip=True)
        else:
            yield from members(content, name, depth + 1)
        return
    yield Member(name, content)


def _zip_members(data: bytes, label: str, depth: int) -> Iterator[Member]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        yield Member(label, None, f"corrupt zip archive: {exc}")
        return
    except UnicodeDecodeError as exc:  # a member name flagged UTF-8 that is not
        yield Member(label, None, f"zip archive with a member name that is not valid UTF-8: {exc}")
        return
    limit = _limit(len(data))
    for info in zf.infolist():
        name = f"{label}!/{utf8_text(info.filename)}"
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            yield Member(name, None, "symbolic link inside the archive (not followed)", skip=True)
            continue
        if info.file_size > limit:
            yield Member(
                name,
                None,
                f"member would decompress to {info.file_size:,} bytes, over the limit of "
                f"{limit:,} (a decompression bomb?)",
            )
            continue
        try:
            with zf.open(info) as fh:
                raw = fh.read(limit + 1)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError) as exc:
            yield Member(name, None, f"cannot read member: {exc}")
            continue
        if len(raw) > limit:
            yield Member(name, None, f"member decompresses to more than {limit:,} bytes (a decompression bomb?)")
            continue
        yield from _expand(name, raw, depth, limit)


def _tar_members(data: bytes, label: str, depth: int) -> Iterator[Member]:
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 - closed by `with tf` below
    except tarfile.TarError as exc:
        yield Member(label, None, f"corrupt tar archive: {exc}")
        return
    limit = _limit(len(data))
    with tf:
        while True:
            try:
                info = tf.next()
            except tarfile.TarError as exc:
                yield Member(label, None, f"corrupt tar archive: {exc}")
                return
            if info is None:
                return
            name = f"{label}!/{utf8_text(info.name)}"  # tar names are bytes: undecodable ones escaped
            if info.isdir():
                continue
            if not info.isreg():
                what = "link" if (info.issym() or info.islnk()) else "special file"
                yield Member(name, None, f"{what} inside the archive (not followed)", skip=True)
                continue
            if info.size > limit:
                yield Member(name, None, f"member is {info.size:,} bytes, over the limit of {limit:,}")
                continue
            fh = tf.extractfile(info)
            raw = fh.read(limit + 1) if fh else b""
            yield from _expand(name, raw, depth, limit)


__all__ = ["Member", "archive_kind", "is_gzip", "members"]
