"""The run summary: counts that reconcile, reasons, and the exit code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from trailforensics import __version__
from trailforensics.discovery import DIGEST
from trailforensics.ingest.tasks import CHANGED, FAILED, INGESTED, SKIPPED, UNCHANGED, FileResult
from trailforensics.output.provenance import VERSION_KEY

# Exit codes of `trailforensics ingest` (bit flags, so both conditions can show).
EXIT_OK = 0
EXIT_FATAL = 1  # nothing was committed: bad arguments, dataset locked, a worker crashed, --strict
# Some files could not be read (everything else was ingested), or nothing at all in what was named
# could be ingested (an empty folder, a file that is not CloudTrail).
EXIT_FAILED_FILES = 2
EXIT_CHANGED_FILES = 4  # some already-ingested files changed on disk: possible tampering
MAX_NOTES = 20
NOTHING_INGESTABLE = "WARNING: nothing ingestable in the sources named: no CloudTrail log or digest file"
# The lines `ingest -q` still prints: quiet hides progress and counts, never a problem.
PROBLEM_PREFIXES = ("FAILED", "CHANGED", "PARTLY READ", "WARNING", "ABORTED")


@dataclass
class IngestSummary:
    run_id: str
    dataset: str
    files_seen: int = 0
    files_unchanged: int = 0  # already in the dataset, same size and mtime (not read again)
    files_ingested: int = 0
    files_failed: int = 0
    files_changed: int = 0
    digests_seen: int = 0  # skipped, but recorded for `verify` and the posture commands
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source_file, reason)
    changed: list[tuple[str, str]] = field(default_factory=list)
    failed_before: list[tuple[str, str]] = field(default_factory=list)  # unchanged since an earlier run failed them
    partly_read: list[tuple[str, str]] = field(default_factory=list)  # ingested, but parts were not valid JSON
    file_notes: list[tuple[str, str]] = field(default_factory=list)  # ingested with a remark (repairs, partial rows)
    records_read: int = 0
    rows_written: int = 0
    duplicates_dropped: int = 0
    records_rejected: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    committed: bool = False
    aborted: str | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, res: FileResult) -> None:
        self.bytes_read += res.size
        for m in res.members:
            if m.status == FAILED:
                self.failures.append((m.name, m.reason or "failed"))
            elif m.status == INGESTED and m.reason:
                (self.partly_read if m.damaged else self.file_notes).append((m.name, m.reason))
        if res.status == INGESTED and res.reason and not res.members:
            (self.partly_read if res.damaged else self.file_notes).append((res.task.source_file, res.reason))
        if res.status == INGESTED:
            self.files_ingested += 1
            self.records_read += res.records
            self.rows_written += res.rows_written
            self.duplicates_dropped += res.duplicates
            self.records_rejected += res.rejected
        elif res.status == SKIPPED:
            self.skipped_by_reason[res.reason or "skipped"] += 1
            self.digests_seen += res.task.kind == DIGEST
        elif res.status == FAILED:
            self.files_failed += 1
            self.failures.append((res.task.source_file, res.reason or "failed"))
        elif res.status == CHANGED:
            self.files_changed += 1
            self.changed.append((res.task.source_file, res.reason or "changed"))
        elif res.status == UNCHANGED:
            self.files_unchanged += 1

    @property
    def files_skipped(self) -> int:
        return sum(self.skipped_by_reason.values())

    @property
    def reconciles(self) -> bool:
        files = self.files_unchanged + self.files_ingested + self.files_failed + self.files_changed + self.files_skipped
        records = self.rows_written + self.duplicates_dropped + self.records_rejected
        return files == self.files_seen and records == self.records_read

    @property
    def nothing_ingestable(self) -> bool:
        """Nothing in what the user named was CloudTrail (events or digests): a wrong path, most likely."""
        return not self.aborted and not (
            self.files_ingested + self.files_unchanged + self.files_failed + self.files_changed + self.digests_seen
        )

    @property
    def exit_code(self) -> int:
        if self.aborted:
            return EXIT_FATAL
        code = EXIT_OK
        if self.failures or self.failed_before or self.partly_read or self.nothing_ingestable:
            code |= EXIT_FAILED_FILES
        if self.files_changed:
            code |= EXIT_CHANGED_FILES
        return code

    def to_json(self) -> dict[str, Any]:
        return {
            VERSION_KEY: __version__,  # stored with the run too: which version ingested what
            "run_id": self.run_id,
            "dataset": self.dataset,
            "committed": self.committed,
            "aborted": self.aborted,
            "files": {
                "seen": self.files_seen,
                "unchanged": self.files_unchanged,
                "ingested": self.files_ingested,
                "skipped": self.files_skipped,
                "failed": self.files_failed,
                "changed": self.files_changed,
                "skipped_by_reason": dict(sorted(self.skipped_by_reason.items())),
            },
            "records": {
                "read": self.records_read,
                "rows_written": self.rows_written,
                "duplicates_dropped": self.duplicates_dropped,
                "rejected": self.records_rejected,
                "reconciles": self.reconciles,
            },
            "failures": [{"file": f, "reason": r} for f, r in self.failures],
            "changed_files": [{"file": f, "reason": r} for f, r in self.changed],
            "failed_earlier": [{"file": f, "reason": r} for f, r in self.failed_before],
            "partly_read": [{"file": f, "reason": r} for f, r in self.partly_read],
            "file_notes": [{"file": f, "reason": r} for f, r in self.file_notes],
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_read / self.seconds) if self.seconds else None,
            "notes": self.notes,
            "nothing_ingestable": self.nothing_ingestable,
            "exit_code": self.exit_code,
        }

    def _nothing_ingestable_line(self) -> str:
        # Self-contained (`-q` prints it alone): the commonest reasons the files were skipped.
        if not self.files_seen:
            return f"{NOTHING_INGESTABLE} (no files at all)"
        top = sorted(self.skipped_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
        said = "; ".join(f"{n:,} {reason}" for reason, n in top[:3]) + ("; ..." if len(top) > 3 else "")
        return f"{NOTHING_INGESTABLE} ({self.files_seen:,} skipped: {said})"

    def problem_lines(self) -> list[str]:
        """The lines of :meth:`lines` that report a problem (for stderr, and for ``-q``)."""
        return [line for line in self.lines() if line.startswith(PROBLEM_PREFIXES)]

    def lines(self) -> list[str]:
        """Plain-text report (the CLI escapes control characters before printing)."""
        mb = self.bytes_read / 1e6
        rate = f", {self.records_read / self.seconds:,.0f} records/s" if self.seconds and self.records_read else ""
        out = [
            f"run {self.run_id} -> {self.dataset}" + ("" if self.committed else " (nothing committed)"),
            f"files: {self.files_seen:,} seen = {self.files_ingested:,} ingested + {self.files_unchanged:,} "
            f"unchanged + {self.files_skipped:,} skipped + {self.files_failed:,} failed + "
            f"{self.files_changed:,} changed",
            f"records: {self.records_read:,} read = {self.rows_written:,} rows written + "
            f"{self.duplicates_dropped:,} duplicates dropped + {self.records_rejected:,} rejected"
            + ("  (nothing committed)" if self.aborted else "" if self.reconciles else "  [DOES NOT RECONCILE]"),
            f"{mb:,.1f} MB in {self.seconds:.1f} s{rate}",
        ]
        for reason, count in sorted(self.skipped_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"skipped {count:,}: {reason}")
        for path, reason in self.failures:
            out.append(f"FAILED {path}: {reason}")
        for path, reason in self.changed:
            out.append(f"CHANGED {path}: {reason}")
        for path, reason in self.failed_before:
            out.append(f"FAILED (in an earlier run, unchanged since) {path}: {reason}")
        for path, reason in self.partly_read:
            out.append(f"PARTLY READ {path}: {reason}")
        for path, reason in self.file_notes[:MAX_NOTES]:
            out.append(f"NOTE {path}: {reason}")
        if len(self.file_notes) > MAX_NOTES:
            out.append(
                f"NOTE ... {len(self.file_notes) - MAX_NOTES:,} more (the `files` view's `reason` column has them all)"
            )
        out.extend(self.notes)
        if self.nothing_ingestable:
            out.append(self._nothing_ingestable_line())
        if self.aborted:
            out.append(f"ABORTED: {self.aborted}")
        return out
