"""The report's facts, gathered through the Python API: ``gather(ds, options) -> ReportData``.

Every section comes from the capability that answers it on the command line: ``query.summary``
(overview, top actors and addresses, ingest health), ``hunt.run_hunt`` (findings), ``posture.trace``
(the attacker's path), ``posture.trails`` and ``posture.activity_coverage.coverage`` (logging
posture), the ``verification*`` tables (integrity).  What no command shows yet (events per hour by
series, user agents, identities first seen in the incident window) is read from the rollups when
they cover the dataset and no window is asked for, else from a scan of the window, like
``summary``.  Everything kept is bounded: evidence rows are capped per finding and the rest are
counted, so the report's size does not grow with the dataset.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from trailforensics import __version__
from trailforensics.hunt.model import SEVERITY_RANK
from trailforensics.hunt.runner import HuntResult, run_hunt
from trailforensics.posture.activity_coverage import CoverageReport, coverage
from trailforensics.posture.graph import SessionGraph
from trailforensics.posture.trace import TraceError, trace
from trailforensics.posture.trails import TrailReport, trails
from trailforensics.query.summary import summary
from trailforensics.query.timeline import EventFilter
from trailforensics.report.attack import TACTICS, UNMAPPED, tactics_of, technique_ids
from trailforensics.schema.rollups import COVERAGE_ACCOUNT_SQL
from trailforensics.store.layout import SNAPSHOT

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

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


def gather(ds: Dataset, options: ReportOptions | None = None) -> ReportData:
    """Everything the report shows, from the dataset ``ds``."""
    opts = options or ReportOptions()
    flt = EventFilter(since=opts.since, until=opts.until)
    overview = summary(ds, flt, top=opts.top)
    hunt = run_hunt(
        ds,
        since=opts.since,
        until=opts.until,
        known_accounts=opts.known_accounts,
        sigma=opts.sigma or None,
    )
    findings = _findings(hunt, opts.evidence_cap)
    incident = incident_window(hunt.hits)
    high = _high_hits(hunt.hits)
    trail_report = trails(ds, since=opts.since, until=opts.until)
    failures, failures_total = _failures(ds)
    new_ids, new_total = _new_identities(ds, incident)
    return ReportData(
        title=opts.title or f"Incident report: {ds.path.name}",
        options=opts,
        custody=_custody(ds),
        overview=overview,
        files_by_kind=ds.sql(
            "SELECT kind, status, count(*) AS files, coalesce(sum(records), 0)::BIGINT AS records "
            "FROM files GROUP BY ALL ORDER BY kind, status"
        ),
        failures=failures,
        failures_total=failures_total,
        verification=_verification(ds),
        activity=_activity(ds, opts),
        hunt=hunt,
        findings=findings,
        incident=incident,
        matrix=_matrix(hunt.hits),
        path=attack_path(ds, high),
        trails=trail_report,
        coverage=coverage(ds, by="day", since=opts.since, until=opts.until, trail_report=trail_report),
        user_agents=_user_agents(ds, opts),
        new_identities=new_ids,
        new_identities_total=new_total,
        flagged_actors={a for a in high.column("actor").to_pylist() if a},
        flagged_ips={a for a in high.column("source_ip").to_pylist() if a},
    )


# -- chain of custody ------------------------------------------------------------------------------
def _custody(ds: Dataset) -> Custody:
    snap = ds.path / SNAPSHOT
    digest = hashlib.sha256(snap.read_bytes()).hexdigest() if snap.is_file() else ""
    runs = sorted(p.stem for p in (ds.path / "runs").glob("*.json")) if (ds.path / "runs").is_dir() else []
    return Custody(
        tool_version=__version__,
        dataset=str(ds.path),
        generation=ds.snapshot.generation,
        snapshot_sha256=digest,
        runs=runs,
        generated_at=datetime.now(timezone.utc).replace(microsecond=0),
    )


def _failures(ds: Dataset) -> tuple[pa.Table, int]:
    where = "FROM files WHERE status NOT IN ('ingested', 'skipped', 'unchanged') OR rejected > 0"
    total = int(ds.sql(f"SELECT count(*) AS n {where}").column("n")[0].as_py())
    rows = ds.sql(
        f"SELECT source_file, kind, status, reason, records, rows_written, rejected {where} "
        f"ORDER BY source_file LIMIT {FAILURES_CAP}"
    )
    return rows, total


def _verification(ds: Dataset) -> Verification | None:
    if not ds.has_table("verification"):
        return None
    files = ds.sql("SELECT kind, status, count(*) AS files FROM verification GROUP BY ALL ORDER BY kind, status")
    hours = (
        ds.sql("SELECT state, count(*) AS hours FROM verification_coverage GROUP BY ALL ORDER BY hours DESC, state")
        if ds.has_table("verification_coverage")
        else pa.table({"state": pa.array([], pa.string()), "hours": pa.array([], pa.int64())})
    )
    if ds.has_table("verification_findings"):
        order = "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, start_time NULLS LAST, kind"
        findings = ds.sql(
            f"SELECT severity, kind, start_time, message FROM verification_findings ORDER BY {order} "
            f"LIMIT {VERIFICATION_FINDINGS_CAP}"
        )
        total = int(ds.sql("SELECT count(*) AS n FROM verification_findings").column("n")[0].as_py())
    else:
        findings, total = pa.table({"severity": pa.array([], pa.string())}), 0
    return Verification(files=files, hours=hours, findings=findings, findings_total=total)


# -- activity ----------------------------------------------------------------------------------------
def _hourly_source(ds: Dataset, opts: ReportOptions) -> tuple[str, list[Any]]:
    """Rows (hour, account, region, error, events) from the rollup, or from a scan of the window."""
    if ds.has_rollups and opts.since is None and opts.until is None:
        return (
            "SELECT hour, account, coalesce(aws_region, 'unknown') AS region, error_code, events "
            "FROM rollup_hourly WHERE hour IS NOT NULL",
            [],
        )
    where, params = EventFilter(since=opts.since, until=opts.until).where(ds)
    cond = f"{where} AND event_time IS NOT NULL" if where else " WHERE event_time IS NOT NULL"
    return (
        f"SELECT date_trunc('hour', event_time) AS hour, {COVERAGE_ACCOUNT_SQL} AS account, "
        f"coalesce(aws_region, 'unknown') AS region, error_code, 1::BIGINT AS events FROM events{cond}",
        params,
    )


def _activity(ds: Dataset, opts: ReportOptions) -> Activity:
    source, params = _hourly_source(ds, opts)
    span = ds.sql(f"SELECT min(hour) AS a, max(hour) AS b, count(DISTINCT account) AS n FROM ({source})", params)
    first, last, accounts = (span.column(c)[0].as_py() for c in ("a", "b", "n"))
    bucket = "day" if first and last and (last - first).total_seconds() / 3600 > DAY_BUCKETS_AFTER_HOURS else "hour"
    series_by = "account" if (accounts or 0) > 1 else "region"
    totals = ds.sql(
        f"SELECT {series_by} AS s, sum(events)::BIGINT AS n FROM ({source}) GROUP BY ALL ORDER BY n DESC, s", params
    )
    names = [str(s) for s in totals.column("s").to_pylist()]
    kept = names if len(names) <= SERIES + 1 else names[:SERIES]  # never an "other" of one
    grouped = ds.sql(
        f"""SELECT date_trunc('{bucket}', hour) AS start, {series_by} AS s, sum(events)::BIGINT AS events,
                   coalesce(sum(events) FILTER (WHERE error_code IS NOT NULL), 0)::BIGINT AS errors
            FROM ({source}) GROUP BY ALL ORDER BY start""",
        params,
    ).to_pylist()
    counts: Counter[tuple[datetime, str]] = Counter()
    errors: Counter[datetime] = Counter()
    for row in grouped:
        series = row["s"] if row["s"] in kept else OTHER
        counts[(row["start"], series)] += row["events"]
        errors[row["start"]] += row["errors"]
    series_list = kept + ([OTHER] if len(names) > len(kept) else [])
    return Activity(
        bucket=bucket,
        series_by=series_by,
        series=series_list,
        counts=pa.Table.from_pylist(
            [{"start": t, "series": s, "events": n} for (t, s), n in sorted(counts.items())],
            schema=pa.schema(
                [("start", pa.timestamp("us", tz="UTC")), ("series", pa.string()), ("events", pa.int64())]
            ),
        ),
        errors=pa.Table.from_pylist(
            [{"start": t, "errors": n} for t, n in sorted(errors.items())],
            schema=pa.schema([("start", pa.timestamp("us", tz="UTC")), ("errors", pa.int64())]),
        ),
    )


# -- findings ----------------------------------------------------------------------------------------
def _high_hits(hits: pa.Table) -> pa.Table:
    if hits.num_rows == 0:
        return hits
    return hits.filter(pc.is_in(hits.column("severity"), pa.array(INCIDENT_SEVERITIES)))


def incident_window(hits: pa.Table) -> tuple[datetime, datetime] | None:
    """First to last high-or-critical hit (None when there is none)."""
    times = [t for t in _high_hits(hits).column("event_time").to_pylist() if t is not None] if hits.num_rows else []
    return (min(times), max(times)) if times else None


def _findings(hunt: HuntResult, cap: int) -> list[Finding]:
    out = []
    hits = hunt.hits
    for row in hunt.summary.to_pylist():
        if not row["hits"]:
            continue
        mine = hits.filter(pc.equal(hits.column("detection_id"), row["detection_id"]))
        out.append(
            Finding(
                detection_id=row["detection_id"],
                title=row["title"],
                severity=row["severity"],
                attack=row["attack"] or "",
                author=row.get("author") or "trailforensics",
                hits=mine.num_rows,
                first_time=row["first_time"],
                last_time=row["last_time"],
                evidence=mine.slice(0, cap),
                more=max(mine.num_rows - cap, 0),
            )
        )
    return out


def _matrix(hits: pa.Table) -> dict[str, dict[str, dict[str, Any]]]:
    """Tactic -> technique -> hits, highest severity and detections (tactics in kill-chain order)."""
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    if hits.num_rows == 0:
        return cells
    for row in hits.select(["detection_id", "severity", "attack"]).to_pylist():
        for tid in technique_ids(row["attack"]):
            for tactic in tactics_of(tid):
                cell = cells.setdefault(tactic, {}).setdefault(
                    tid, {"hits": 0, "severity": "info", "detections": set()}
                )
                cell["hits"] += 1
                cell["detections"].add(row["detection_id"])
                if SEVERITY_RANK.get(row["severity"], 0) > SEVERITY_RANK.get(cell["severity"], 0):
                    cell["severity"] = row["severity"]
    order = {t: i for i, t in enumerate((*TACTICS, UNMAPPED))}
    return {t: dict(sorted(cells[t].items())) for t in sorted(cells, key=lambda t: order.get(t, len(order)))}


# -- the attacker's path -----------------------------------------------------------------------------
def path_targets(high: pa.Table) -> list[str]:
    """The access keys (else principals) of high-severity hits, in order of first appearance."""
    seen: list[str] = []
    if high.num_rows == 0:
        return seen
    rows = high.sort_by([("event_time", "ascending")]).select(["access_key", "actor"]).to_pylist()
    for r in rows:
        target = r["access_key"] or r["actor"]
        if target and target not in seen:
            seen.append(target)
    return seen


def attack_path(ds: Dataset, high: pa.Table) -> AttackPath:
    """The credential chains (``trace``) of the keys and principals named by high-severity hits.

    Each target's chain back to its origin, and the sessions derived from that origin, become
    one graph (nodes merged by id); at most ``GRAPH_NODES`` are drawn, chain nodes first.
    """
    targets = path_targets(high)
    traced, untraced = targets[:PATH_TARGETS], max(len(targets) - PATH_TARGETS, 0)
    flagged = set(targets) | {a for a in high.column("actor").to_pylist() if a} if high.num_rows else set()
    if not traced:
        return AttackPath([], [], [], 0, [], 0)
    graph = SessionGraph.build(ds)
    nodes: dict[str, PathNode] = {}
    edges: dict[tuple[str, str], None] = {}
    tree_nodes: list[tuple[dict[str, Any], int]] = []
    errors: list[str] = []
    for target in traced:
        try:
            result = trace(ds, target, graph=graph)
        except TraceError as exc:
            errors.append(str(exc))
            continue
        chain = result.chain.to_pylist()
        by_target: dict[str, list[dict[str, Any]]] = {}
        for row in chain:
            by_target.setdefault(row["target"], []).append(row)
        for hops in by_target.values():
            depth_of_origin = len(hops) - 1
            for row in hops:
                _add_node(nodes, row, depth_of_origin - row["hop"], flagged)
            for child, parent in pairwise(hops):
                edges[(parent["node_id"], child["node_id"])] = None
        for row in result.tree.to_pylist():
            tree_nodes.append((row, row["depth"]))
    total_ids = set(nodes) | {r["node_id"] for r, _ in tree_nodes}
    for row, depth in tree_nodes:  # forward from each origin, while there is room
        if (
            row["node_id"] not in nodes
            and len(nodes) < GRAPH_NODES
            and (row["parent_id"] is None or row["parent_id"] in nodes)
        ):
            _add_node(nodes, row, depth, flagged)
        if row["parent_id"] and row["parent_id"] in nodes and row["node_id"] in nodes:
            edges[(row["parent_id"], row["node_id"])] = None
    return AttackPath(
        targets=traced,
        nodes=list(nodes.values()),
        edges=list(edges),
        omitted=len(total_ids - set(nodes)),
        errors=errors,
        untraced=untraced,
    )


def _add_node(nodes: dict[str, PathNode], row: dict[str, Any], depth: int, flagged: set[str]) -> None:
    node = nodes.get(row["node_id"])
    if node is not None:
        node.depth = max(node.depth, depth)
        return
    nodes[row["node_id"]] = PathNode(
        id=row["node_id"],
        kind=row["kind"],
        principal=row["principal"],
        access_key=row["access_key"],
        session_name=row["session_name"],
        link=row["link"],
        link_event=row["link_event"],
        link_ip=row["link_ip"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        events=row["events"] or 0,
        ips=list(row["ips"] or []),
        depth=depth,
        flagged=bool({row["access_key"], row["principal"]} & flagged),
    )


# -- who and where -----------------------------------------------------------------------------------
def _principal_source(ds: Dataset, opts: ReportOptions | None) -> tuple[str, list[Any]]:
    """Rows (actor, key, address, user agent, region, events, first/last time) from the rollup or a scan."""
    since = opts.since if opts else None
    until = opts.until if opts else None
    if ds.has_rollups and since is None and until is None:
        return "rollup_principals", []
    where, params = EventFilter(since=since, until=until).where(ds)
    return (
        "(SELECT actor, user_identity_type, user_identity_access_key_id, source_ip_address, user_agent, "
        "aws_region, recipient_account_id, error_code, 1::BIGINT AS events, event_time AS first_time, "
        f"event_time AS last_time FROM events{where})",
        params,
    )


def _user_agents(ds: Dataset, opts: ReportOptions) -> pa.Table:
    source, params = _principal_source(ds, opts)
    return ds.sql(
        f"""SELECT user_agent, sum(events)::BIGINT AS events, count(DISTINCT actor) AS actors,
                   min(first_time) AS first_seen, max(last_time) AS last_seen
            FROM {source} GROUP BY ALL ORDER BY events DESC, user_agent LIMIT {int(opts.top)}""",
        params,
    )


def _new_identities(ds: Dataset, incident: tuple[datetime, datetime] | None) -> tuple[pa.Table, int]:
    """Principals and keys whose first event in the whole dataset falls in the incident window."""
    source, params = _principal_source(ds, None)
    if incident is None:
        return pa.table({"actor": pa.array([], pa.string())}), 0
    sql = f"""
        SELECT actor, user_identity_access_key_id AS access_key, min(first_time) AS first_seen,
               max(last_time) AS last_seen, sum(events)::BIGINT AS events,
               list_sort(list(DISTINCT source_ip_address) FILTER (WHERE source_ip_address IS NOT NULL)) AS ips
        FROM {source} WHERE actor IS NOT NULL GROUP BY ALL
        HAVING min(first_time) >= ? AND min(first_time) <= ?"""
    params = [*params, incident[0], incident[1]]
    total = int(ds.sql(f"SELECT count(*) AS n FROM ({sql})", params).column("n")[0].as_py())
    rows = ds.sql(f"{sql} ORDER BY first_seen, actor, access_key LIMIT {NEW_IDENTITIES_CAP}", params)
    return rows, total
