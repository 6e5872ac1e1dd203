"""The report's facts, gathered through the Python API: ``gather(ds, options) -> ReportData``.

Every section comes from the capability that answers it on the command line: ``query.summary``
(overview, top actors and addresses, ingest health), ``hunt.run_hunt`` (findings, :mod:`.findings`),
``posture.trace``'s graph scoped to the flagged credentials (the attacker's path, :mod:`.path`),
``posture.trails`` and ``posture.activity_coverage.coverage`` (logging posture), the
``verification*`` tables (integrity).  What no command shows yet (events per hour by series, user
agents, identities first seen in the incident window: :mod:`.activity`, :mod:`.people`) is read
from the rollups when they cover the dataset and no window is asked for.  Everything kept is
bounded (:mod:`.model`'s caps), so the report's size does not grow with the dataset.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pyarrow as pa

from trailforensics import __version__
from trailforensics.hunt.runner import run_hunt
from trailforensics.posture.activity_coverage import coverage
from trailforensics.posture.trails import trails
from trailforensics.query.summary import summary
from trailforensics.query.timeline import EventFilter
from trailforensics.report.activity import activity
from trailforensics.report.findings import findings, high_hits, incident_window, matrix
from trailforensics.report.model import (
    FAILURES_CAP,
    VERIFICATION_FINDINGS_CAP,
    Custody,
    ReportData,
    ReportOptions,
    Verification,
)
from trailforensics.report.path import attack_path
from trailforensics.report.people import new_identities, user_agents
from trailforensics.store.layout import SNAPSHOT

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset


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
    incident = incident_window(hunt.hits)
    high = high_hits(hunt.hits)
    trail_report = trails(ds, since=opts.since, until=opts.until)
    failures, failures_total = _failures(ds)
    new_ids, new_total = new_identities(ds, incident)
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
        activity=activity(ds, opts),
        hunt=hunt,
        findings=findings(hunt, opts.evidence_cap),
        incident=incident,
        matrix=matrix(hunt.hits),
        path=attack_path(ds, high),
        trails=trail_report,
        coverage=coverage(ds, by="day", since=opts.since, until=opts.until, trail_report=trail_report),
        user_agents=user_agents(ds, opts),
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
        worst = ds.sql(
            f"SELECT severity, kind, start_time, message FROM verification_findings ORDER BY {order} "
            f"LIMIT {VERIFICATION_FINDINGS_CAP}"
        )
        total = int(ds.sql("SELECT count(*) AS n FROM verification_findings").column("n")[0].as_py())
    else:
        worst, total = pa.table({"severity": pa.array([], pa.string())}), 0
    return Verification(files=files, hours=hours, findings=worst, findings_total=total)
