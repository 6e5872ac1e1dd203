"""The report's facts as data: what :func:`~trailforensics.report.gather.gather` returns and the
renderers read, with the caps that keep the report's size independent of the dataset's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from trailforensics.hunt.runner import HuntResult
from trailforensics.posture.activity_coverage import CoverageReport
from trailforensics.posture.trails import TrailReport

EVIDENCE_CAP = 20  # evidence rows shown per finding (the rest: a count and the command that lists them)
TOP = 12  # rows of each "top" table
SERIES = 6  # stacked series in the activity chart (the rest is "other")
PATH_TARGETS = 8  # keys / principals of high-severity findings traced
GRAPH_NODES = 40  # nodes drawn in the attacker's path
NEW_IDENTITIES_CAP = 30
VERIFICATION_FINDINGS_CAP = 30
FAILURES_CAP = 30
DAY_BUCKETS_AFTER_HOURS = 24 * 21  # longer data: one bar per day, not per hour
INCIDENT_SEVERITIES = ("high", "critical")
OTHER = "other"


@dataclass
class ReportOptions:
    """What ``trailforensics report`` takes; ``since``/``until`` narrow what is shown, never the baselines."""

    title: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sigma: list[Path] = field(default_factory=list)
    known_accounts: list[str] = field(default_factory=list)
    known_accounts_file: Path | None = None  # only to write the reproducing commands
    evidence_cap: int = EVIDENCE_CAP
    top: int = TOP


@dataclass
class Custody:
    """Chain of custody: which tool and which exact state of the dataset the report describes."""

    tool_version: str
    dataset: str
    generation: int
    snapshot_sha256: str
    runs: list[str]
    generated_at: datetime


@dataclass
class Activity:
    bucket: str  # "hour" or "day"
    series_by: str  # "account" or "region"
    series: list[str]  # stacking order, most events first ("other" last)
    counts: pa.Table  # start, series, events (one row per bucket x series with events)
    errors: pa.Table  # start, errors


@dataclass
class Finding:
    """One detection (or Sigma rule) with hits: its capped evidence and how many rows were left out."""

    detection_id: str
    title: str
    severity: str
    attack: str
    author: str
    hits: int
    first_time: datetime | None
    last_time: datetime | None
    evidence: pa.Table
    more: int

    @property
    def anchor(self) -> str:
        return "finding-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in self.detection_id)


@dataclass
class PathNode:
    id: str
    kind: str
    principal: str | None
    access_key: str | None
    session_name: str | None
    link: str | None
    link_event: str | None
    link_ip: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    events: int
    ips: list[str]
    depth: int
    flagged: bool  # a key or principal named by a high-severity finding


@dataclass
class AttackPath:
    targets: list[str]  # what was traced
    nodes: list[PathNode]
    edges: list[tuple[str, str]]  # (parent id, child id): credentials flow from parent to child
    omitted: int  # derived sessions left out of the drawing (the CLI lists them)
    errors: list[str]
    untraced: int  # targets beyond PATH_TARGETS
    not_loaded: int = 0  # derived credentials beyond the graph's scope cap (at least this many)


@dataclass
class Verification:
    files: pa.Table  # kind, status, files
    hours: pa.Table  # state, hours
    findings: pa.Table  # severity, kind, message (capped)
    findings_total: int


@dataclass
class ReportData:
    title: str
    options: ReportOptions
    custody: Custody
    overview: dict[str, pa.Table]  # query.summary's sections
    files_by_kind: pa.Table
    failures: pa.Table
    failures_total: int
    verification: Verification | None
    activity: Activity
    hunt: HuntResult
    findings: list[Finding]
    incident: tuple[datetime, datetime] | None
    matrix: dict[str, dict[str, dict[str, Any]]]  # tactic -> technique -> {hits, severity, detections}
    path: AttackPath
    trails: TrailReport
    coverage: CoverageReport
    user_agents: pa.Table
    new_identities: pa.Table
    new_identities_total: int
    flagged_actors: set[str]
    flagged_ips: set[str]
