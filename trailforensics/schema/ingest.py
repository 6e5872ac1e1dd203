"""The tables ingest writes beside `events`: `manifest` (one row per input file per run) and
`duplicates` (the copies of events dropped at ingest)."""

from __future__ import annotations

from trailforensics.schema.column import I32, I64, TIMESTAMP, Column, S, Table, col

MANIFEST_COLUMNS: tuple[Column, ...] = (
    col(
        "path",
        S,
        "Absolute path of the input file as found (the file's identity for incremental runs; the source folder given "
        "is resolved, a symbolic link inside it is kept as found: see `resolved_path`; undecodable bytes of a file "
        "name as `\\xNN`). Standard input and pipes: `<stdin>:sha256:<hash>`, `<pipe>:sha256:<hash>`. Archive "
        "members: the archive's path + `!/member`.",
    ),
    col(
        "resolved_path",
        S,
        "Where the file really is when `path` reaches it through a symbolic link (possibly outside the evidence "
        "tree); NULL otherwise.",
    ),
    col("source_file", S, "The same path as `events.source_file`."),
    col("size", I64, "Size in bytes."),
    col(
        "mtime_ns",
        I64,
        "Modification time (ns since the epoch); with `size` and `ctime_ns`, used to skip unchanged files without "
        "hashing.",
    ),
    col(
        "ctime_ns",
        I64,
        "Status-change time (ns since the epoch): it moves even when an edit restores the modification time, so "
        "such a file is hashed again (`ingest --rehash` hashes every file).",
    ),
    col("sha256", S, "SHA-256 of the file's bytes as read (compressed)."),
    col(
        "kind",
        S,
        "`cloudtrail`, `cloudtrail-insight`, `cloudtrail-digest`, `candidate` (read by its content), `other`, "
        "`archive-member` or `not-a-file` (a folder, link, pipe or device seen in the tree and not read; `reason` "
        "says which).",
    ),
    col(
        "status",
        S,
        "`ingested`, `failed` (see `reason`; includes folders that could not be listed), `skipped` (not event data; "
        "see `reason`), `unchanged` (hashed again, same bytes) or `changed` (the bytes under this path changed "
        "after it was ingested: possible tampering; not re-ingested).",
    ),
    col("reason", S, "Why the file failed or was skipped; NULL when ingested."),
    col("records", I64, "Records read from the file."),
    col("rows_written", I64, "Rows written to `events`."),
    col("duplicates", I64, "Records dropped as duplicates of an event already in the dataset."),
    col("rejected", I64, "Records rejected (a `Records` element that is not a JSON object)."),
    col("org_id", S, "Organisation id from the path."),
    col("account_id", S, "Account id from the path."),
    col("region", S, "Region from the path."),
    col("file_time", TIMESTAMP, "Delivery time in the file name (`..._20260310T0215Z_...`), UTC."),
    col("ingest_run", S, "Run that considered the file."),
    col("ingested_at", TIMESTAMP, "When that run ran, UTC."),
)

DUPLICATES_COLUMNS: tuple[Column, ...] = (
    col("event_id", S, "eventID of the dropped copy."),
    col("recipient_account_id", S, "recipientAccountId of the dropped copy."),
    col("record_hash", S, "Canonical-record hash when the copy had no eventID."),
    col("event_time", TIMESTAMP, "Event time of the dropped copy."),
    col("source_file", S, "File the dropped copy came from (join `events` on the key to find the kept copy)."),
    col("record_index", I32, "Position of the dropped copy in its file."),
    col("ingest_run", S, "Run that dropped it."),
)

MANIFEST = Table(
    "manifest",
    MANIFEST_COLUMNS,
    "Every manifest row: one per input file per run that looked at it.",
)
FILES = Table("files", MANIFEST_COLUMNS, "The manifest, latest row per input file (`path`).")
DUPLICATES = Table(
    "duplicates",
    DUPLICATES_COLUMNS,
    "Copies of events already in the dataset, dropped at ingest, and where they came from (join `events` on "
    "`event_id, recipient_account_id` to find the kept copy).",
)

MANIFEST_SCHEMA = MANIFEST.schema
MANIFEST_DOCS = MANIFEST.docs
DUPLICATES_SCHEMA = DUPLICATES.schema
DUPLICATES_DOCS = DUPLICATES.docs
