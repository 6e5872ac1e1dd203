"""What `verify` reports: per-file results, findings, chain summaries, hourly coverage, exit codes.

Times are epoch seconds (UTC) inside the report and ISO 8601 ``...Z`` text in its JSON.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

# -- per-file status (the `status` column of the `verification` table) -------------------------
VALID = "valid"  # content proven: hash matches a digest whose signature verified (digests: all checks passed)
INVALID = "invalid"  # altered, forged, moved, appended to, unreadable
UNREFERENCED = "unreferenced"  # a log file inside digest coverage that no digest lists (injected?)
UNVERIFIED = "unverified"  # cannot be proven either way (no digest covers it, signature unchecked...)
MISSING = "missing"  # listed by a digest (or named by a successor digest) but absent from the tree
STATUSES = (VALID, INVALID, UNREFERENCED, UNVERIFIED, MISSING)

# -- file kinds (as in discovery / the manifest; not the source format "cloudtrail") ------------
KIND_LOG_FILE = "cloudtrail"
INSIGHT = "cloudtrail-insight"
DIGEST = "cloudtrail-digest"

# -- signature status of a digest --------------------------------------------------------------
SIG_VALID = "valid"
SIG_INVALID = "invalid"
SIG_NO_KEY = "no-key"  # keys were supplied, none has the digest's fingerprint: a failure
SIG_UNCHECKED_NO_KEYS = "unchecked-no-keys"  # no public keys supplied at all
SIG_UNCHECKED_NO_SIGNATURE = "unchecked-no-signature"  # newest digest and no --signatures entry

# -- severities ---------------------------------------------------------------------------------
ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}

# -- finding kinds -------------------------------------------------------------------------------
# (kind, severity, exit flag, one-line meaning); the flags are documented on EXIT_* below.
LOG_MISSING = "log_missing"
LOG_HASH_MISMATCH = "log_hash_mismatch"
LOG_TRAILING_DATA = "log_trailing_data"
LOG_UNREADABLE = "log_unreadable"
LOG_UNREFERENCED = "log_unreferenced"
DIGEST_MISSING = "digest_missing"
DIGEST_MAYBE_MISSING = "digest_maybe_missing"
DIGEST_MOVED = "digest_moved"
DIGEST_SIGNATURE_INVALID = "digest_signature_invalid"
DIGEST_NO_PUBLIC_KEY = "digest_no_public_key"
DIGEST_KEY_NOT_VALID = "digest_key_not_valid"
DIGEST_HASH_MISMATCH = "digest_hash_mismatch"
DIGEST_INVALID_FORMAT = "digest_invalid_format"
DIGEST_UNLINKED = "digest_unlinked"
CHAIN_FORK = "chain_fork"
PUBLIC_KEY_REJECTED = "public_key_rejected"
SIGNATURE_UNCHECKED = "signature_unchecked"
SIGNATURE_ENTRY_UNUSED = "signature_entry_unused"
CHAIN_RESTART = "chain_restart"
CHAIN_STARTS_MID = "chain_starts_mid"
LOGS_NOT_COVERED = "logs_not_covered"

# Exit codes (bit flags: several can be set at once).
EXIT_OK = 0
EXIT_ERROR = 1  # could not verify: unreadable TREE / key / signature file, no digest file at all; results not stored
# 2 is click's usage error (bad options)
EXIT_INVALID = 4  # something checked is not authentic: altered or appended log, forged/moved digest, bad key
EXIT_MISSING = 8  # log files or digest files were deleted (chain gaps, newest/oldest digests missing)
EXIT_UNREFERENCED = 16  # log files inside digest coverage that no digest lists (injected?)
EXIT_UNCHECKED = 32  # NOT PROVEN: digest signatures left unchecked (cleared by --allow-unsigned)

KINDS: dict[str, tuple[str, int, str]] = {
    LOG_MISSING: (ERROR, EXIT_MISSING, "a log file a digest lists is not in the tree (deleted)"),
    LOG_HASH_MISMATCH: (ERROR, EXIT_INVALID, "a log file's content differs from the hash its digest records"),
    LOG_TRAILING_DATA: (ERROR, EXIT_INVALID, "bytes or a second gzip member follow the first gzip member"),
    LOG_UNREADABLE: (ERROR, EXIT_INVALID, "a listed log file is not a complete gzip file"),
    LOG_UNREFERENCED: (
        ERROR,
        EXIT_UNREFERENCED,
        "a log file inside digest coverage that no digest lists (injected, or delivered while validation was off)",
    ),
    DIGEST_MISSING: (
        ERROR,
        EXIT_MISSING,
        "digest files of a chain are missing (deleted); the time they hide",
    ),
    DIGEST_MAYBE_MISSING: (
        WARNING,
        0,
        "a chain's newest digest may be missing, but nothing proves it was delivered before the tree was copied",
    ),
    DIGEST_MOVED: (
        ERROR,
        EXIT_INVALID,
        "a digest found somewhere other than its digestS3Bucket/digestS3Object",
    ),
    DIGEST_SIGNATURE_INVALID: (
        ERROR,
        EXIT_INVALID,
        "a digest's RSA signature does not verify (forged/altered)",
    ),
    DIGEST_NO_PUBLIC_KEY: (
        ERROR,
        EXIT_INVALID,
        "public keys were supplied but none has the digest's fingerprint",
    ),
    DIGEST_KEY_NOT_VALID: (
        ERROR,
        EXIT_INVALID,
        "the signing key's validity period does not cover the digest",
    ),
    DIGEST_HASH_MISMATCH: (
        ERROR,
        EXIT_INVALID,
        "a digest's content differs from the hash its successor records (replaced)",
    ),
    DIGEST_INVALID_FORMAT: (
        ERROR,
        EXIT_INVALID,
        "a digest file that cannot be read or lacks required fields",
    ),
    DIGEST_UNLINKED: (
        ERROR,
        EXIT_INVALID,
        "a digest the chain skips: its successor names another predecessor",
    ),
    CHAIN_FORK: (ERROR, EXIT_INVALID, "two digests name the same predecessor"),
    PUBLIC_KEY_REJECTED: (
        ERROR,
        EXIT_INVALID,
        "a supplied public key whose fingerprint is not the MD5 of its bytes, or unreadable",
    ),
    SIGNATURE_UNCHECKED: (
        WARNING,
        EXIT_UNCHECKED,
        "digest signatures that could not be checked (no public key, or no known signature)",
    ),
    SIGNATURE_ENTRY_UNUSED: (
        INFO,
        0,
        "signature entries that match no digest in the tree (and name no digest of a chain in it)",
    ),
    CHAIN_RESTART: (INFO, 0, "a chain restarted (null previous digest): logging or validation was stopped"),
    CHAIN_STARTS_MID: (
        INFO,
        0,
        "the oldest digest names a predecessor that is not in the tree (partial dump)",
    ),
    LOGS_NOT_COVERED: (
        INFO,
        0,
        "log files no digest covers (validation off for this trail): cannot be verified",
    ),
}

# -- hourly coverage states (the `state` column of `verification_coverage`), worst first ------------
COVERED = "covered"
MISSING_DIGEST = "missing_digest"
INVALID_DIGEST = "invalid_digest"
VALIDATION_OFF = "validation_off"
NOT_COVERED = "not_covered"


def iso(t: float | int | None) -> str | None:
    """ISO 8601 UTC with a four-digit year (strftime drops the zeros of years before 1000)."""
    if t is None:
        return None
    try:
        g = time.gmtime(int(t))
    except (OverflowError, OSError, ValueError):
        return None
    return f"{g.tm_year:04d}-{g.tm_mon:02d}-{g.tm_mday:02d}T{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d}Z"


@dataclass
class Finding:
    kind: str
    message: str
    files: list[str] = field(default_factory=list)  # paths relative to the tree root (or object keys)
    chain: str | None = None
    start: int | None = None  # the time range the finding is about (epoch seconds)
    end: int | None = None
    count: int = 1
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return KINDS[self.kind][0]

    @property
    def flag(self) -> int:
        return KINDS[self.kind][1]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "files": self.files,
            "chain": self.chain,
            "start": iso(self.start),
            "end": iso(self.end),
            "count": self.count,
            "details": self.details,
        }


@dataclass
class VerifiedFile:
    """One row of the `verification` table: what verify proved about one file (ingest's is ``FileResult``)."""

    source_file: str  # relative to the tree root, like events.source_file
    kind: str  # cloudtrail | cloudtrail-digest | cloudtrail-insight
    status: str
    reason: str | None = None
    digest_key: str | None = None  # the digest listing this log (digests: their own object key)
    bucket: str | None = None
    object_key: str | None = None  # the S3 key (``[prefix/]AWSLogs/...``)
    account_id: str | None = None
    region: str | None = None
    trail: str | None = None
    expected_sha256: str | None = None
    actual_sha256: str | None = None  # SHA-256 of the decompressed content (first gzip member)
    signature: str | None = None  # digests only: valid | invalid | no-key | unchecked-*
    file_time: int | None = None  # the time in the file name
    digest_start: int | None = None
    digest_end: int | None = None
    size: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("file_time", "digest_start", "digest_end"):
            out[k] = iso(out[k])
        return out


@dataclass
class ChainSummary:
    chain: str  # "<account> <region> <trail> [home <home>][ backfill]"
    bucket: str | None
    account_id: str
    region: str
    trail: str
    home_region: str
    backfill: bool
    scope: str  # the tree-relative folder of the logs it covers
    first_start: int | None = None
    last_end: int | None = None
    digests: int = 0
    digests_valid: int = 0
    digests_invalid: int = 0
    digests_missing: int = 0
    digests_unchecked: int = 0
    logs_listed: int = 0
    logs_valid: int = 0
    logs_invalid: int = 0
    logs_missing: int = 0
    restarts: list[int] = field(default_factory=list)  # start times of restarted segments
    gaps: list[tuple[int | None, int | None, int]] = field(default_factory=list)  # hidden (from, to, n digests)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["first_start"] = iso(self.first_start)
        out["last_end"] = iso(self.last_end)
        out["restarts"] = [iso(t) for t in self.restarts]
        out["gaps"] = [{"from": iso(a), "to": iso(b), "digests": n} for a, b, n in self.gaps]
        return out


@dataclass
class CoverageRow:
    scope: str  # tree-relative `.../AWSLogs/[o-id/]<acct>/CloudTrail/<region>`
    account_id: str
    region: str
    hour: int
    log_files: int  # log files whose name time falls in the hour
    log_files_listed: int  # of which listed by a digest
    digest_covered: bool  # the window of a present digest that passed its checks overlaps the hour
    chain_broken: bool  # missing digests or a restart overlap the hour
    state: str  # covered | missing_digest | invalid_digest | validation_off | not_covered
    trails: str | None  # the trails whose chains cover the scope, comma-separated

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["hour"] = iso(self.hour)
        return out


@dataclass
class Summary:
    digests_found: int = 0
    digests_valid: int = 0
    digests_invalid: int = 0
    digests_missing: int = 0
    digests_unchecked: int = 0
    logs_listed: int = 0
    logs_valid: int = 0
    logs_invalid: int = 0
    logs_missing: int = 0
    logs_unverified: int = 0  # listed, hash matches, but the digest's signature was not checked / invalid
    logs_unreferenced: int = 0
    logs_unproven: int = 0  # present, listed by no digest, where digests are missing, invalid or not yet delivered
    logs_not_covered: int = 0  # present, listed by no digest, outside any chain's coverage
    insight_files: int = 0
    chains: int = 0
    restarts: int = 0
    public_keys: int = 0
    public_keys_rejected: int = 0
    signatures_supplied: int = 0
    bytes_hashed: int = 0
    seconds: float = 0.0


@dataclass
class VerifyReport:
    tree: str
    summary: Summary
    chains: list[ChainSummary]
    findings: list[Finding]
    files: list[VerifiedFile]
    coverage: list[CoverageRow]
    allow_unsigned: bool = False  # unchecked signatures accepted: NOT PROVEN does not set exit bit 32
    notes: list[str] = field(default_factory=list)
    fatal: str | None = None  # set when nothing could be verified
    run_errors: list[str] = field(default_factory=list)  # the run went wrong after verifying (results not stored)

    @property
    def exit_code(self) -> int:
        if self.fatal:
            return EXIT_ERROR
        code = EXIT_ERROR if self.run_errors else 0
        for f in self.findings:
            if f.flag == EXIT_UNCHECKED and self.allow_unsigned:
                continue
            code |= f.flag
        return code

    @property
    def unchecked_signatures(self) -> int:
        """Digests whose signature could not be checked (no public keys, no known signature)."""
        return sum(f.count for f in self.findings if f.kind == SIGNATURE_UNCHECKED)

    @property
    def result(self) -> list[str]:
        """The verdict words, worst first: INVALID, MISSING, UNREFERENCED, NOT PROVEN; or OK; or
        ERROR when the tree could not be verified (or the results not stored)."""
        if self.fatal:
            return ["ERROR"]
        flags = 0
        for f in self.findings:
            flags |= f.flag
        words = [word for flag, word in RESULT_WORDS if flags & flag]
        if self.run_errors:
            words.insert(0, "ERROR")
        return words or ["OK"]

    def not_proven_text(self) -> str | None:
        """'39 digest signatures not checked (no public keys)', None when every signature was checked."""
        found = [f for f in self.findings if f.kind == SIGNATURE_UNCHECKED]
        if not found:
            return None
        why: dict[str, int] = {}
        for f in found:
            reason = str(f.details.get("reason") or "no signature known")
            why[reason] = why.get(reason, 0) + f.count
        n = sum(why.values())
        reasons = "; ".join(f"{k}: {v:,}" if len(why) > 1 else k for k, v in why.items())
        return f"{n:,} digest signature{'' if n == 1 else 's'} not checked ({reasons})"

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    def by_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def file(self, source_file: str) -> VerifiedFile | None:
        return next((r for r in self.files if r.source_file == source_file), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "tree": self.tree,
            "exit_code": self.exit_code,
            "exit_meaning": exit_meaning(self.exit_code),
            "fatal": self.fatal,
            "run_errors": self.run_errors,
            "result": self.result,
            "not_proven": self.not_proven_text(),
            "allow_unsigned": self.allow_unsigned,
            "summary": asdict(self.summary),
            "chains": [c.to_json() for c in self.chains],
            "findings": [f.to_json() for f in self.findings],
            "files": [r.to_json() for r in self.files],
            "coverage": [c.to_json() for c in self.coverage],
            "notes": self.notes,
        }


EXIT_MEANINGS = {
    EXIT_ERROR: "could not verify, or could not store the results",
    EXIT_INVALID: "invalid (altered, forged or moved files, or a bad key)",
    EXIT_MISSING: "missing (deleted log or digest files)",
    EXIT_UNREFERENCED: "unreferenced log files inside digest coverage",
    EXIT_UNCHECKED: "not proven (digest signatures not checked; --allow-unsigned accepts it)",
}

# the result words, by the exit bit of the findings behind them (worst first)
RESULT_WORDS = (
    (EXIT_INVALID, "INVALID"),
    (EXIT_MISSING, "MISSING"),
    (EXIT_UNREFERENCED, "UNREFERENCED"),
    (EXIT_UNCHECKED, "NOT PROVEN"),
)


def exit_meaning(code: int) -> str:
    if code == 0:
        return "everything checked is valid"
    return "; ".join(text for flag, text in EXIT_MEANINGS.items() if code & flag)
