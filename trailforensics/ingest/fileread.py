"""One input file -> its manifest result and (when it holds events) an Arrow batch.

Every failure is caught here and turned into a reason, so one bad file never stops a run.
"""

from __future__ import annotations

import hashlib
import os

from trailforensics.discovery import CANDIDATE, INSIGHT
from trailforensics.ingest.tasks import CHANGED, FAILED, INGESTED, SKIPPED, UNCHANGED, FileResult, FileTask
from trailforensics.normalize.columns import Built, FileContext, build
from trailforensics.readers.cloudtrail import FileFormatError, decode_records_document
from trailforensics.readers.decompress import DecompressError, maybe_gunzip
from trailforensics.readers.sniff import describe_document

MAX_FILE_BYTES = 1 << 30  # CloudTrail files are at most tens of MB; refuse absurd ones

FORMAT_CLOUDTRAIL = "cloudtrail"
FORMAT_INSIGHT = "cloudtrail-insight"


def read_bytes(path: str) -> bytes:
    """Read a file without ever opening it for writing."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
    try:
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)


def _read(path: str) -> bytes:
    try:
        return read_bytes(path)
    except PermissionError:  # O_NOATIME needs ownership of the file
        with open(path, "rb") as fh:
            return fh.read()


def process_file(task: FileTask, run_id: str) -> tuple[FileResult, Built | None]:
    if task.size > MAX_FILE_BYTES:
        return FileResult(task, FAILED, f"file too large ({task.size} bytes)", size=task.size), None
    try:
        data = _read(task.path)
    except OSError as exc:
        return FileResult(task, FAILED, f"cannot read: {exc.strerror or exc}", size=task.size), None
    sha = hashlib.sha256(data).hexdigest()
    result = FileResult(task, INGESTED, sha256=sha, size=len(data))
    if task.previous_sha256 is not None:
        if sha == task.previous_sha256:
            result.status = UNCHANGED
            return result, None
        if task.previous_status == INGESTED:
            result.status = CHANGED
            result.reason = (f"content changed since it was ingested (sha256 was {task.previous_sha256}): "
                             "possible tampering; not re-ingested")
            return result, None
    if task.skip_reason:
        result.status, result.reason = SKIPPED, task.skip_reason
        return result, None
    try:
        return _parse(task, data, result, run_id)
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop the run
        result.status, result.reason = FAILED, f"internal error: {type(exc).__name__}: {exc}"
        return result, None


def _parse(task: FileTask, data: bytes, result: FileResult, run_id: str) -> tuple[FileResult, Built | None]:
    try:
        text, _ = maybe_gunzip(data)
    except DecompressError as exc:
        result.status, result.reason = FAILED, str(exc)
        return result, None
    if task.kind == CANDIDATE:
        head = text[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith((b"{", b"[")):
            result.status, result.reason = SKIPPED, "not a JSON document"
            return result, None
        look_alike = describe_document(text)
        if look_alike:
            result.status, result.reason = SKIPPED, look_alike
            return result, None
    try:
        decoded, rejected = decode_records_document(text)
    except FileFormatError as exc:
        what = describe_document(text)
        result.status = FAILED
        result.reason = f"{exc}" + (f" (it looks like a {what[0].lower() + what[1:]})" if what else "")
        return result, None
    result.source_format = FORMAT_INSIGHT if task.kind == INSIGHT else FORMAT_CLOUDTRAIL
    result.records = len(decoded.records) + rejected
    result.rejected = rejected
    if rejected:
        decoded.warnings.append(f"{rejected} Records element(s) rejected (not JSON objects)")
    if decoded.warnings:
        result.reason = "; ".join(decoded.warnings)
    ctx = FileContext(task.source_file, result.source_format, run_id, task.org_id, task.account_id, task.region)
    return result, build(decoded, ctx)
