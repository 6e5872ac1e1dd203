"""The dataset schema: the one place that defines every table, view and column.

* :mod:`.column`: ``Column`` (name, Arrow type, doc; helper columns also their SQL) and ``Table``;
* :mod:`.events`: the stored `events` columns, the `event_date` partition and the helper columns
  the `events` view computes (``actor``, ``service``, ``verification_status``);
* :mod:`.ingest`: `manifest` (and its `files` view) and `duplicates`;
* :mod:`.rollups`: the aggregate tables ingest writes beside `events` (summary, coverage, charts);
* :mod:`.verification`: the four tables `verify --dataset` writes.

Everything else imports these definitions: the normaliser, the Parquet writers, the DuckDB
views (``engine/views.py``), the msgspec fast path (``normalize/fast.py``, checked by a test) and
docs/SCHEMA.md (``make docs``).  ``VIEWS`` lists every view a user can query.  Changing a
stored column is a change to the dataset contract: bump ``SCHEMA_VERSION`` and run ``make docs``.
"""

from __future__ import annotations

from trailforensics.schema.column import DATE, TIMESTAMP, Column, Table, arrow_schema
from trailforensics.schema.events import (
    ACTOR_SQL,
    COLUMN_NAMES,
    COLUMNS,
    CORE_COLUMNS,
    EVENT_SCHEMA,
    HELPER_COLUMNS,
    IDENTITY_COLUMNS,
    JSON_COLUMNS,
    KNOWN_TOP_LEVEL_KEYS,
    PARTITION,
    PARTITION_COLUMN,
    PARTITION_DOC,
    PROVENANCE_COLUMNS,
    SERVICE_SQL,
    STRING_BOOL_KEYS,
    TLS_KEYS,
    TOP_LEVEL_BOOL_KEYS,
    TOP_LEVEL_JSON_KEYS,
    TOP_LEVEL_STRING_KEYS,
)
from trailforensics.schema.ingest import (
    DUPLICATES,
    DUPLICATES_COLUMNS,
    DUPLICATES_DOCS,
    DUPLICATES_SCHEMA,
    FILES,
    MANIFEST,
    MANIFEST_COLUMNS,
    MANIFEST_DOCS,
    MANIFEST_SCHEMA,
)
from trailforensics.schema.rollups import ROLLUP_TABLES, ROLLUPS
from trailforensics.schema.verification import (
    CHAINS_SCHEMA,
    COVERAGE_SCHEMA,
    FINDINGS_SCHEMA,
    VERIFICATION,
    VERIFICATION_SCHEMA,
    VERIFICATION_TABLES,
)

SCHEMA_VERSION = 1

EVENTS_RAW = Table(
    "events_raw",
    (*COLUMNS, PARTITION),
    "The stored rows as they are, with the partition column but without the helper columns.",
)
EVENTS = Table(
    "events",
    (*COLUMNS, PARTITION, *HELPER_COLUMNS),
    "Every event: the stored columns, the partition column and the helper columns.",
)

# Every view `Dataset` registers (the verification views only once `verify --dataset` ran).
VIEWS: tuple[Table, ...] = (EVENTS, EVENTS_RAW, FILES, MANIFEST, DUPLICATES, *ROLLUP_TABLES, *VERIFICATION_TABLES)

__all__ = [
    "ACTOR_SQL",
    "CHAINS_SCHEMA",
    "COLUMNS",
    "COLUMN_NAMES",
    "CORE_COLUMNS",
    "COVERAGE_SCHEMA",
    "DATE",
    "DUPLICATES",
    "DUPLICATES_COLUMNS",
    "DUPLICATES_DOCS",
    "DUPLICATES_SCHEMA",
    "EVENTS",
    "EVENTS_RAW",
    "EVENT_SCHEMA",
    "FILES",
    "FINDINGS_SCHEMA",
    "HELPER_COLUMNS",
    "IDENTITY_COLUMNS",
    "JSON_COLUMNS",
    "KNOWN_TOP_LEVEL_KEYS",
    "MANIFEST",
    "MANIFEST_COLUMNS",
    "MANIFEST_DOCS",
    "MANIFEST_SCHEMA",
    "PARTITION",
    "PARTITION_COLUMN",
    "PARTITION_DOC",
    "PROVENANCE_COLUMNS",
    "ROLLUPS",
    "ROLLUP_TABLES",
    "SCHEMA_VERSION",
    "SERVICE_SQL",
    "STRING_BOOL_KEYS",
    "TIMESTAMP",
    "TLS_KEYS",
    "TOP_LEVEL_BOOL_KEYS",
    "TOP_LEVEL_JSON_KEYS",
    "TOP_LEVEL_STRING_KEYS",
    "VERIFICATION",
    "VERIFICATION_SCHEMA",
    "VERIFICATION_TABLES",
    "VIEWS",
    "Column",
    "Table",
    "arrow_schema",
]
