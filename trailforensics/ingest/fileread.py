"""One input file -> its manifest result and (when it holds events) Arrow batches.

Every failure is caught here and turned into a reason, so one bad file never stops a run.
Archives yield one batch per member; their members' outcomes are kept for the manifest.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, replace

from trailforensics.discovery import INSIGHT, KIND_LOG_FILE, NOT_A_FILE, classify
from trailforensics.ingest.tasks import (
    CHANGED,
    FAILED,
    INGESTED,
    SKIPPED,
    UNCHANGED,
    FileResult,
    FileTask,
    MemberResult,
)
from trailforensics.names import utf8_text
from trailforensics.normalize.columns import Built, FileContext, build
from trailforensics.readers.archives import archive_kind, members
from trailforensics.readers.cloudtrail import TOO_DEEP, FileFormatError, decode_records_document
from trailforensics.readers.decompress import DecompressError, maybe_gunzip
from trailforensics.readers.shapes import SHAPE_CLOUDTRAIL, Read, read_any
from trailforensics.readers.sniff import LookAlike, describe_document

MAX_FILE_BYTES = 1 << 30  # CloudTrail files are at most tens of MB; refuse absurd ones
FORMAT_INSIGHT = "cloudtrail-insight"


def read_bytes(path: str) -> bytes:
    """Read a file without ever opening it for writing (and without touching its atime)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
    except PermissionError:  # O_NOATIME needs ownership of the file
        fd = os.open(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def resolved_path(path: str) -> str | None:
    """Where the file really is, when ``path`` reaches it through a symbolic link (else None)."""
    real = os.path.realpath(path)
    return utf8_text(real) if real != path else None


def process_file(task: FileTask, run_id: str, forced: str | None = None) -> tuple[FileResult, list[Built]]:
    """Read one local file and parse it (see :func:`process_bytes`)."""
    refused = refusal(task)
    if refused is not None:
        return refused, []
    try:
        data = read_bytes(task.path)
    except OSError as exc:
        return FileResult(task, FAILED, f"cannot read: {exc.strerror or exc}", size=task.size), []
    return process_bytes(task, data, run_id, forced, resolved=resolved_path(task.path))


def refusal(task: FileTask) -> FileResult | None:
    """The result of a file that is not to be read at all (listing error, not a file, too large), else None."""
    if task.error:
        return FileResult(task, FAILED, task.error, size=task.size)
    if task.kind == NOT_A_FILE:  # a folder, link or pipe listed by discovery: never opened
        return FileResult(task, SKIPPED, task.skip_reason, size=0)
    if task.size > MAX_FILE_BYTES:
        return FileResult(task, FAILED, f"file too large ({task.size:,} bytes)", size=task.size)
    return None


def process_bytes(
    task: FileTask, data: bytes, run_id: str, forced: str | None = None, resolved: str | None = None
) -> tuple[FileResult, list[Built]]:
    """One file's bytes, read by the caller (a local file, or an object Spark read through Hadoop),
    through the readers and the normaliser: its manifest result and its rows."""
    refused = refusal(task)
    if refused is not None:
        return refused, []
    sha = hashlib.sha256(data).hexdigest()
    result = FileResult(task, INGESTED, sha256=sha, size=len(data), resolved_path=resolved)
    if task.previous_sha256 is not None:
        if sha == task.previous_sha256:
            result.status = UNCHANGED
            return result, []
        if task.previous_status == INGESTED:
            result.status = CHANGED
            result.reason = (
                f"content changed since it was ingested (sha256 was {task.previous_sha256}): "
                "possible tampering; not re-ingested"
            )
            return result, []
    if task.skip_reason:
        result.status, result.reason = SKIPPED, task.skip_reason
        return result, []
    try:
        return _parse(task, data, result, run_id, forced)
    except Exception as exc:
        result.status, result.reason = FAILED, f"internal error: {type(exc).__name__}: {exc}"
        return result, []


def _parse(
    task: FileTask, data: bytes, result: FileResult, run_id: str, forced: str | None
) -> tuple[FileResult, list[Built]]:
    try:
        text, _ = maybe_gunzip(data)
    except DecompressError as exc:
        result.status, result.reason = FAILED, str(exc)
        return result, []
    if archive_kind(text):
        return _archive(task, text, result, run_id, forced)
    outcome = _document(task, text, task.source_file, run_id, forced)
    result.status, result.reason = outcome.status, outcome.reason
    result.records, result.rejected = outcome.records, outcome.rejected
    result.source_format = outcome.source_format
    result.damaged = outcome.damaged
    return result, [outcome.built] if outcome.built is not None else []


@dataclass
class _Outcome(MemberResult):
    built: Built | None = None


def _document(task: FileTask, text: bytes, name: str, run_id: str, forced: str | None) -> _Outcome:
    out = _Outcome(name=name, status=INGESTED)
    try:
        read = _read(task, text, forced)
    except LookAlike as exc:
        out.status, out.reason = SKIPPED, str(exc)
        return out
    except FileFormatError as exc:
        what = describe_document(text)
        out.status = FAILED
        out.reason = f"{exc}" + (f" (looks like: {what})" if what and "looks like" not in str(exc) else "")
        return out
    decoded = read.decoded
    out.records = len(decoded.records) + read.rejected
    out.rejected = read.rejected
    out.source_format = read.source_format
    out.damaged = any(why.startswith("invalid JSON") or why == TOO_DEEP for why in read.problems)
    notes = list(decoded.warnings)
    if read.rejected:
        detail = ", ".join(f"{n} {why}" for why, n in read.problems.most_common(3))
        notes.append(f"{read.rejected} item(s) rejected" + (f" ({detail})" if detail else ""))
    if decoded.partial:
        notes.append(f"{len(decoded.partial)} partial record(s): the export lacks the full CloudTrail event")
    out.reason = "; ".join(notes) or None
    ctx = FileContext(name, read.source_format, run_id, task.org_id, task.account_id, task.region)
    out.built = build(decoded, ctx)
    return out


def _read(task: FileTask, text: bytes, forced: str | None) -> Read:
    if task.kind in (KIND_LOG_FILE, INSIGHT) and forced is None:
        # The S3 tree's own log files: the fast path, sniffing only when something is off.
        # Something else in the log folder (a digest, a Config snapshot, a notification) is
        # not skipped quietly as it would be elsewhere: it has no business there.
        problems: Counter[str] = Counter()
        try:
            decoded, rejected = decode_records_document(text, problems)
        except FileFormatError:
            what = describe_document(text)
            if what:
                raise FileFormatError(f"{_MISPLACED} (looks like: {what})") from None
            raise
        first = decoded.records[0] if decoded.records else None
        if first is not None and _notification_like(first.eventVersion, first.eventSource):
            what = describe_document(text)
            if what:
                raise FileFormatError(f"{_MISPLACED} (looks like: {what})")
        fmt = FORMAT_INSIGHT if task.kind == INSIGHT else SHAPE_CLOUDTRAIL
        return Read(decoded, rejected, fmt, problems)
    return read_any(text, forced)


_MISPLACED = "not a CloudTrail log file, yet in the CloudTrail log folder"


def _member_task(task: FileTask, name: str) -> FileTask:
    """An archive member keeps the path metadata its own name carries (AWSLogs/<account>/...)."""
    _kind, _reason, meta = classify(name.rsplit("!/", 1)[-1])
    if not meta:
        return task
    return replace(task, org_id=meta.get("org_id"), account_id=meta.get("account_id"), region=meta.get("region"))


def _notification_like(version: object, source: object) -> bool:
    """S3/SQS/SNS notifications also carry `Records`; CloudTrail sources end in amazonaws.com."""
    return isinstance(source, str) and source.startswith("aws:") and isinstance(version, str) and version[:2] == "2."


def _archive(
    task: FileTask, text: bytes, result: FileResult, run_id: str, forced: str | None
) -> tuple[FileResult, list[Built]]:
    built: list[Built] = []
    for member in members(text, task.source_file):
        if member.data is None:
            result.members.append(MemberResult(member.name, SKIPPED if member.skip else FAILED, member.problem))
            continue
        outcome = _document(_member_task(task, member.name), member.data, member.name, run_id, forced)
        if outcome.built is not None:
            built.append(outcome.built)
        result.members.append(
            MemberResult(
                outcome.name,
                outcome.status,
                outcome.reason,
                outcome.records,
                outcome.rejected,
                outcome.source_format,
                damaged=outcome.damaged,
            )
        )
    statuses = {m.status for m in result.members}
    result.records = sum(m.records for m in result.members)
    result.rejected = sum(m.rejected for m in result.members)
    result.source_format = "archive"
    if INGESTED in statuses:
        result.status = INGESTED
    elif FAILED in statuses:
        result.status = FAILED
    else:
        result.status = SKIPPED
    problems = [m for m in result.members if m.status != INGESTED]
    if not result.members:
        result.status, result.reason = SKIPPED, "empty archive"
    elif problems:
        result.reason = f"{len(problems)} of {len(result.members)} archive member(s) not ingested"
    return result, built
