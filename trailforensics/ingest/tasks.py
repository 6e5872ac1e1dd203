"""What travels between the ingest coordinator and its workers (plain picklable data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# File statuses recorded in the manifest.
INGESTED = "ingested"
FAILED = "failed"
SKIPPED = "skipped"
CHANGED = "changed"  # bytes differ from what was ingested under this path: possible tampering
UNCHANGED = "unchanged"  # same bytes as before (only its mtime moved): nothing to do


@dataclass(frozen=True)
class FileTask:
    path: str
    source_file: str
    kind: str
    skip_reason: str | None
    org_id: str | None
    account_id: str | None
    region: str | None
    file_time: datetime | None
    size: int
    mtime_ns: int
    previous_sha256: str | None = None  # set when the path was seen by an earlier run
    previous_status: str | None = None
    identity: str | None = None  # manifest key when not the path (standard input, pipes, undecodable names)
    ctime_ns: int | None = None
    error: str | None = None  # discovery could not list or stat it: reported as failed

    @property
    def key(self) -> str:
        return self.identity or self.path


@dataclass
class MemberResult:
    """One document inside an input file (an archive member), or the file itself."""

    name: str  # source_file of its rows: "dump.zip!/dir/log.json.gz"
    status: str
    reason: str | None = None
    records: int = 0
    rejected: int = 0
    source_format: str | None = None
    rows_written: int = 0
    duplicates: int = 0
    damaged: bool = False  # parts of it were not valid JSON (rejected): read only in part


@dataclass
class FileResult:
    """What ingest did with one input file (a manifest row); verify's per-file row is ``VerifiedFile``."""

    task: FileTask
    status: str
    reason: str | None = None
    sha256: str | None = None
    size: int = 0
    source_format: str | None = None
    records: int = 0  # records read (including rejected)
    rejected: int = 0
    rows_written: int = 0
    duplicates: int = 0
    members: list[MemberResult] = field(default_factory=list)  # archives only
    damaged: bool = False  # read only in part (see MemberResult.damaged)
    resolved_path: str | None = None  # the real path when the file was reached through a symbolic link
