"""The tables `verify --dataset` writes: `verification` (one row per file) and its findings,
hourly coverage and digest chains.  Each run replaces the previous run's tables."""

from __future__ import annotations

from trailforensics.schema.column import I64, TIMESTAMP, B, Column, S, Table, col

VERIFICATION_COLUMNS: tuple[Column, ...] = (
    col(
        "source_file",
        S,
        "Path relative to the verified tree's root, like `events.source_file` (`AWSLogs/...`, prefixed by the "
        "bucket folder when the tree holds several buckets). For missing files: where the file should be. At most "
        "one row per `source_file` in a run.",
    ),
    col("kind", S, "`cloudtrail` (log file), `cloudtrail-digest` or `cloudtrail-insight`."),
    col(
        "status",
        S,
        "`valid` (log: hash matches a digest that passed every check; digest: every check passed), `invalid` "
        "(altered, appended to, forged, moved, unreadable), `unreferenced` (a file in a log folder digests cover "
        "that no proven digest lists: injected, delivered while validation was off, or a name CloudTrail never "
        "writes there), `unverified` (cannot be proven: no digest covers it, its digest's signature was not checked "
        "or a check of its digest failed, or its digest is missing) or `missing` (listed by a digest, or named by "
        "the next digest, but absent: deleted).",
    ),
    col("reason", S, "Why the file is not `valid`; NULL when valid."),
    col("digest_key", S, "Log files: the object key of the digest listing it; digests: their own `digestS3Object`."),
    col("bucket", S, "The S3 bucket the digest names for the file."),
    col("object_key", S, "The S3 object key (`[prefix/]AWSLogs/...`)."),
    col("account_id", S, "Account id from the path."),
    col("region", S, "Region from the path."),
    col("trail", S, "Trail name (from the digest's key); NULL for files no digest lists."),
    col(
        "expected_sha256",
        S,
        "The `hashValue` the digest records (missing digests: the successor's `previousDigestHashValue`).",
    ),
    col("actual_sha256", S, "SHA-256 of the decompressed first gzip member, as computed."),
    col(
        "signature",
        S,
        "Digests: `valid`, `invalid`, `no-key` (keys supplied, none with its fingerprint), `unchecked-no-keys`, "
        "`unchecked-no-signature`; NULL for log files.",
    ),
    col(
        "file_time",
        TIMESTAMP,
        "The time in the file name (log files: the delivery minute, as the name gives it even when implausible; "
        "digests: the end time).",
    ),
    col("digest_start", TIMESTAMP, "Start of the listing digest's window (digests: their own)."),
    col("digest_end", TIMESTAMP, "End of the listing digest's window (digests: their own)."),
    col("size", I64, "Bytes on disk."),
    col("verify_run", S, "Id of the verify run that wrote the row."),
    col("verified_at", TIMESTAMP, "When the verify run ran."),
    col("tree", S, "Absolute path of the verified tree."),
)

FINDINGS_COLUMNS: tuple[Column, ...] = (
    col("kind", S, "Finding kind (see *Verification finding kinds* below)."),
    col("severity", S, "`error`, `warning` or `info`."),
    col("message", S, "One line for a human."),
    col("files", S, "JSON array of the tree-relative paths (or object keys) concerned."),
    col("chain", S, "The digest chain concerned (as `verification_chains.chain`)."),
    col("start_time", TIMESTAMP, "Start of the time range the finding is about (UTC)."),
    col("end_time", TIMESTAMP, "End of that range (UTC)."),
    col("count", I64, "How many files or digests the finding covers."),
    col("details", S, "JSON object with kind-specific details (expected and actual hashes, fingerprints, ...)."),
    col("verify_run", S, "Id of the verify run that wrote the row."),
)

COVERAGE_COLUMNS: tuple[Column, ...] = (
    col("scope", S, "Tree-relative log folder `.../AWSLogs/[o-id/]<account>/CloudTrail/<region>`."),
    col("account_id", S, "Account id."),
    col("region", S, "Region."),
    col("hour", TIMESTAMP, "The UTC hour the row describes."),
    col("log_files", I64, "Log files whose file-name time falls in the hour."),
    col("log_files_listed", I64, "Of those, how many a digest lists."),
    col(
        "digest_covered",
        B,
        "The window of a present digest that passed its checks (signature valid or unchecked) overlaps the hour.",
    ),
    col("chain_broken", B, "Missing digests or a validation restart overlap the hour."),
    col(
        "state",
        S,
        "`covered` (digests that passed their checks cover the hour and nothing breaks it), `missing_digest` "
        "(digests deleted: part of the hour is hidden), `invalid_digest` (part of the hour is covered only by a "
        "digest that failed verification), `validation_off` (validation stopped, or the chain restarted, during the "
        "hour) or `not_covered` (no digest chain covers the hour); the first that applies, in that order from "
        "`missing_digest`.",
    ),
    col("trails", S, "The trails whose chains cover the scope, comma-separated."),
    col("verify_run", S, "Id of the verify run that wrote the row."),
)

CHAINS_COLUMNS: tuple[Column, ...] = (
    col("chain", S, "Chain id: `<account> <region> <trail> (home <region>)`, plus ` backfill` for backfill digests."),
    col("bucket", S, "The S3 bucket its digests name."),
    col("account_id", S, "Account id."),
    col("region", S, "Region the chain covers."),
    col("trail", S, "Trail name."),
    col("home_region", S, "The trail's home region."),
    col(
        "backfill",
        B,
        "A chain of `_backfill` digests (re-delivered by CloudTrail), kept apart from the regular chain.",
    ),
    col("scope", S, "Tree-relative folder of the logs it covers."),
    col(
        "first_start",
        TIMESTAMP,
        "Start of its first digest window (UTC); digests that failed verification do not count, except a window "
        "their sound successor vouches for. NULL when no digest passed.",
    ),
    col("last_end", TIMESTAMP, "End of its last digest window (UTC), on the same terms."),
    col("digests", I64, "Digest files found."),
    col("digests_valid", I64, "Digests whose every check passed."),
    col("digests_invalid", I64, "Digests that failed a check (signature, hash, format, location)."),
    col("digests_missing", I64, "Digests the chain proves existed but that are absent."),
    col(
        "digests_unchecked",
        I64,
        "Digests whose signature could not be checked (no public keys supplied, or no known signature).",
    ),
    col("logs_listed", I64, "Log files its digests list."),
    col("logs_valid", I64, "Listed log files whose hash matches a digest that passed every check."),
    col("logs_invalid", I64, "Listed log files whose hash does not match, or that are unreadable."),
    col("logs_missing", I64, "Listed log files absent from the tree."),
    col("restarts", S, "JSON array of the times the chain restarted (validation turned off and on, or a new trail)."),
    col(
        "gaps",
        S,
        "JSON array of `{from, to, digests}`: time hidden by missing digests (between two digests, or at the "
        "chain's edges when the tree proves they existed).",
    ),
    col("verify_run", S, "Id of the verify run that wrote the row."),
)

VERIFICATION = Table(
    "verification",
    VERIFICATION_COLUMNS,
    "One row per log or digest file of the last `verify --dataset` run (and per missing file).",
)
VERIFICATION_FINDINGS = Table("verification_findings", FINDINGS_COLUMNS, "The findings of that run, worst first.")
VERIFICATION_COVERAGE = Table(
    "verification_coverage",
    COVERAGE_COLUMNS,
    "Per log folder and UTC hour: is the hour provably complete?",
)
VERIFICATION_CHAINS = Table("verification_chains", CHAINS_COLUMNS, "One row per digest chain.")

VERIFICATION_TABLES: tuple[Table, ...] = (
    VERIFICATION,
    VERIFICATION_FINDINGS,
    VERIFICATION_COVERAGE,
    VERIFICATION_CHAINS,
)

VERIFICATION_SCHEMA = VERIFICATION.schema
FINDINGS_SCHEMA = VERIFICATION_FINDINGS.schema
COVERAGE_SCHEMA = VERIFICATION_COVERAGE.schema
CHAINS_SCHEMA = VERIFICATION_CHAINS.schema
