"""What a detection is (its metadata and severity scale) and what a hit is (``Hit``, ``HITS_SCHEMA``)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from trailforensics.query.named import NamedQuery, Param, QueryError

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}

# Sigma levels and other spellings people use, mapped onto our scale.
SEVERITY_ALIASES: dict[str, str] = {"informational": "info", "information": "info"}
RULE_DEFAULT_SEVERITY = "medium"  # a Sigma rule without a known level

# Every hit carries these columns, in this order (the detection's SQL returns them first).
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "event_time",
    "actor",
    "access_key",
    "source_ip",
    "user_agent",
    "region",
    "account",
    "event_name",
    "event_id",
    "details",
)
METADATA_COLUMNS: tuple[str, ...] = ("detection_id", "title", "severity", "attack")
BUILTIN_AUTHOR = "trailforensics"  # the ``author`` of the built-in detections' hits

TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Hit:
    """One hit, of a built-in detection or of a Sigma rule: the one definition of the hit shape.

    ``HITS_SCHEMA`` (the columns of ``HuntResult.hits``) is derived from these fields, in this
    order.  ``author`` is the rule's author, which the Detection Rule License requires wherever
    Sigma matches are shown (``trailforensics`` for the built-ins); a hunt without Sigma rules
    leaves the column out (see :func:`without_author`).
    """

    detection_id: str
    title: str
    severity: str
    attack: str  # ATT&CK technique ids, comma-separated
    author: str
    event_time: datetime | None
    actor: str | None
    access_key: str | None
    source_ip: str | None
    user_agent: str | None
    region: str | None
    account: str | None
    event_name: str | None
    event_id: str | None
    details: str | None
    attempt: bool = False  # a denied (or dry-run) try of what the detection reports: one severity lower

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Hit:
        """A row of a hits table (``author`` defaults to the built-ins' when the column is left out)."""
        values: dict[str, Any] = {f.name: row.get(f.name) for f in fields(cls)}
        values["author"] = row.get("author", BUILTIN_AUTHOR)
        values["attempt"] = bool(row.get("attempt") or False)
        return cls(**values)


_HIT_TYPES: dict[str, pa.DataType] = {"event_time": TIMESTAMP, "attempt": pa.bool_()}
HITS_SCHEMA = pa.schema([pa.field(f.name, _HIT_TYPES.get(f.name, pa.string())) for f in fields(Hit)])
EVIDENCE_SCHEMA = pa.schema([HITS_SCHEMA.field(c) for c in EVIDENCE_COLUMNS])


def without_author(schema: pa.Schema) -> pa.Schema:
    """``HITS_SCHEMA`` or ``SUMMARY_SCHEMA`` as a hunt without Sigma rules returns it (no ``author``)."""
    return schema.remove(schema.get_field_index("author"))


SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("detection_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("severity", pa.string()),
        pa.field("attack", pa.string()),
        pa.field("author", pa.string()),
        pa.field("hits", pa.int64()),
        pa.field("first_time", TIMESTAMP),
        pa.field("last_time", TIMESTAMP),
        pa.field("distinct_actors", pa.int64()),
        pa.field("attempts", pa.int64()),  # of the hits, how many are denied attempts
        pa.field("note", pa.string()),  # e.g. the dataset is shorter than the detection's baseline
    ]
)

# Header keys: required ones, and every key a detection file may use.
REQUIRED_KEYS: tuple[str, ...] = (
    "id",
    "title",
    "severity",
    "attack",
    "events",
    "description",
    "false_positives",
    "references",
)
OPTIONAL_KEYS: tuple[str, ...] = ("attack_v19", "name", "columns", "notes")


class DetectionError(QueryError):
    """A detection file is invalid (bad header, unknown severity, missing keys...)."""


def normalize_severity(value: str) -> str:
    """``High`` -> ``high``; ``informational`` -> ``info``; anything else is an error."""
    low = (value or "").strip().lower()
    low = SEVERITY_ALIASES.get(low, low)
    if low not in SEVERITY_RANK:
        raise DetectionError(f"unknown severity {value!r} (use one of {', '.join(SEVERITIES)})")
    return low


def rule_severity(value: Any) -> str:
    """A Sigma rule's level on our scale; ``medium`` when it has none we know (never an error)."""
    low = str(value or "").strip().lower()
    low = SEVERITY_ALIASES.get(low, low)
    return low if low in SEVERITY_RANK else RULE_DEFAULT_SEVERITY


def one_lower(severity: str) -> str:
    """The severity of a denied attempt: one step below the success's (``info`` stays ``info``)."""
    return SEVERITIES[max(SEVERITY_RANK[normalize_severity(severity)] - 1, 0)]


def severity_at_least(value: str, minimum: str) -> bool:
    return SEVERITY_RANK[normalize_severity(value)] >= SEVERITY_RANK[normalize_severity(minimum)]


@dataclass(frozen=True)
class Detection:
    """One built-in (or user-supplied) detection: a named query plus hunting metadata."""

    id: str
    title: str
    severity: str  # the highest severity its hits can have (a row may lower it, never raise it)
    attack: tuple[str, ...]
    attack_v19: tuple[str, ...]
    events: tuple[str, ...]  # eventSource:eventName pairs
    description: str
    false_positives: str
    references: tuple[str, ...]
    query: NamedQuery = field(repr=False, compare=False)

    @property
    def params(self) -> list[Param]:
        return self.query.params

    @property
    def sql(self) -> str:
        return self.query.sql

    @property
    def path(self) -> Path:
        return self.query.path

    @property
    def meta(self) -> dict[str, str]:
        return self.query.meta

    def bind(self, given: dict[str, str] | None = None) -> dict[str, Any]:
        return self.query.bind(given or {})

    def metadata(self) -> dict[str, Any]:
        """The metadata as plain values (for listings and documentation)."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "attack": ", ".join(self.attack),
            "attack_v19": ", ".join(self.attack_v19),
            "events": ", ".join(self.events),
            "params": ", ".join(f"{p.name}={p.default}" for p in self.params),
            "description": self.description,
            "false_positives": self.false_positives,
            "references": ", ".join(self.references),
            "path": str(self.path),
        }
