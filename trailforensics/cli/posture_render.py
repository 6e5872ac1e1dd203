"""How the posture reports (`trails`, `trace`, `policy`, `coverage`) look in each format.

Split from :mod:`trailforensics.cli.posture_cmd` so that declaring the commands (for ``--help``)
does not load Arrow and the posture modules: this module is imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from trailforensics.cli.common import fail, out_sink
from trailforensics.output.formats import plain, render_rich, write_table
from trailforensics.output.provenance import with_version
from trailforensics.output.sink import Sink
from trailforensics.posture.activity_coverage import CoverageReport, heatmap_lines
from trailforensics.posture.common import head_text
from trailforensics.posture.least_privilege import PolicyResult
from trailforensics.posture.trace import TraceResult
from trailforensics.posture.trails import TrailReport


def json_doc(doc: Any, out: Path | None) -> None:
    with out_sink(out) as sink:
        sink.json(plain(doc))


def sections_json(sections: dict[str, pa.Table], out: Path | None, extra: dict[str, Any] | None = None) -> None:
    doc: dict[str, Any] = with_version(dict(extra or {}))
    doc.update({name: t.to_pylist() for name, t in sections.items()})
    json_doc(doc, out)


def pick_view(view: str, sections: dict[str, pa.Table], default: str) -> pa.Table:
    name = default if view == "all" else view
    if name not in sections:
        fail(f"unknown --view {view!r}: choose one of all, {', '.join(sections)}")
    return sections[name]


# -- trails --------------------------------------------------------------------------------------
STATE_COLUMNS = ["field", "value", "since", "event_name", "actor"]
FINDING_COLUMNS = [
    "event_time",
    "trail_name",
    "severity",
    "finding",
    "detail",
    "actor",
    "source_ip",
    "event_id",
]
CHANGE_COLUMNS = ["event_time", "trail_name", "event_name", "actor", "source_ip", "error_code", "change"]


WIDE = 110  # cells that carry the point of a section (a change, a finding's detail) are not cut at 60


def render_trails(report: TrailReport, fh: Sink) -> None:
    for arn in sorted(report.trails):
        rows = report.state.filter(pc.equal(report.state["trail"], arn)).select(STATE_COLUMNS)
        render_rich(rows, fh, title=f"trail {arn}", max_cell=WIDE)
    if report.deliveries.num_rows:
        render_rich(
            report.deliveries.select(["location", "org_id", "log_files", "digest_files", "evidence"]),
            fh,
            title="what the delivered files show",
            max_cell=WIDE,
        )
    render_rich(report.findings.select(FINDING_COLUMNS), fh, title="findings", max_cell=WIDE)
    render_rich(report.changes.select(CHANGE_COLUMNS), fh, title="changes", max_cell=WIDE)


# -- trace ---------------------------------------------------------------------------------------
CHAIN_COLUMNS = ["hop", "kind", "principal", "access_key", "link", "link_event", "link_ip", "link_reason"]


# How many entries of each activity list a table cell shows (every one in the other formats).
TABLE_LIST_HEAD = {"event_names": 4, "ips": 3, "regions": 6}


def list_cells(table: pa.Table) -> pa.Table:
    """The activity lists as text for a table: ``[total] most used, ..., +N more``."""
    for name, keep in TABLE_LIST_HEAD.items():
        i = table.schema.get_field_index(name)
        cells = [f"[{len(v or [])}] {head_text(v or [], keep)}" for v in table.column(name).to_pylist()]
        table = table.set_column(i, name, pa.array(cells, pa.string()))
    return table


def _activity(row: dict[str, Any]) -> str:
    if not row["events"]:
        return "no activity of its own"
    span = f"{plain(row['first_seen'])} .. {plain(row['last_seen'])}"
    return (
        f"{span}; {row['events']} events, {row['distinct_event_names']} names ({head_text(row['event_names'], 4)}); "
        f"IPs {head_text(row['ips'], 3) or '-'}; {row['errors']} errors"
    )


def render_trace(result: TraceResult, fh: Sink) -> None:
    for target in result.targets:
        chain = result.chain.filter(pc.equal(result.chain["target"], target.id))
        render_rich(chain.select(CHAIN_COLUMNS), fh, title=f"chain of {target.id}")
        for row in chain.to_pylist():
            if row["notes"]:
                fh.line(f"  hop {row['hop']}: {row['notes']}")
    fh.write("\ntree of derived sessions (event names and IPs: most used first; -f json has every one)\n")
    root = None
    for row in result.tree.to_pylist():
        if row["root"] != root:
            root = row["root"]
            fh.write("\n")
        fh.line(f"{row['label']}  -- {_activity(row)}")
    if result.omitted:
        fh.line(
            f"\n{result.omitted:,} more credential(s) derived from the origin are not in this tree "
            "(trace one of the sessions above to follow it further)"
        )


# -- policy --------------------------------------------------------------------------------------
def render_policy(result: PolicyResult, fh: Sink) -> None:
    fh.lines(orjson.dumps(result.document, option=orjson.OPT_INDENT_2).decode().splitlines())
    for warning in result.warnings:
        fh.line(f"warning: {warning}")
    write_table(
        result.actions.select(["action", "event_names", "events", "resources", "mapping", "note"]),
        "table",
        None,
        title="actions",
        stream=fh,
    )
    write_table(result.unmapped, "table", None, title="events without an IAM action", stream=fh)
    write_table(result.recording, "table", None, title="what the trails recorded", stream=fh)


# -- coverage ------------------------------------------------------------------------------------
def render_coverage(report: CoverageReport, fh: Sink) -> None:
    fh.lines(heatmap_lines(report))
    fh.write("\n")
    write_table(
        report.flags.select(["kind", "account", "region", "start", "end", "events", "detail", "stopped_logging"]),
        "table",
        None,
        title="flags",
        stream=fh,
    )
