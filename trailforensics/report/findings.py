"""Findings: the hunt's hits per detection (evidence capped), the incident window and the ATT&CK matrix."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from trailforensics.hunt.model import SEVERITY_RANK
from trailforensics.hunt.runner import HuntResult
from trailforensics.report.attack import TACTICS, UNMAPPED, tactics_of, technique_ids
from trailforensics.report.model import INCIDENT_SEVERITIES, Finding


def high_hits(hits: pa.Table) -> pa.Table:
    if hits.num_rows == 0:
        return hits
    return hits.filter(pc.is_in(hits.column("severity"), pa.array(INCIDENT_SEVERITIES)))


def incident_window(hits: pa.Table) -> tuple[datetime, datetime] | None:
    """First to last high-or-critical hit (None when there is none)."""
    times = [t for t in high_hits(hits).column("event_time").to_pylist() if t is not None] if hits.num_rows else []
    return (min(times), max(times)) if times else None


def findings(hunt: HuntResult, cap: int) -> list[Finding]:
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


def matrix(hits: pa.Table) -> dict[str, dict[str, dict[str, Any]]]:
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
