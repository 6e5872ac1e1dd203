"""`trails`, `trace`, `policy` and `coverage`: thin skins over trailforensics.posture.

Every command renders the same sections in every format: ``table`` prints them one after the
other (tree and heat map as text), ``json`` writes one object with a key per section, and the
row formats (csv, jsonl, parquet, timesketch) write the section chosen with ``--view``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import typer

from trailforensics.cli import app
from trailforensics.cli.common import (
    DatasetOption,
    FormatOption,
    OutOption,
    emit,
    fail,
    open_dataset,
    out_sink,
    say,
    time_option,
)
from trailforensics.output.formats import check_format, plain, render_rich, write_table
from trailforensics.output.sink import Sink
from trailforensics.posture.activity_coverage import BUCKETS, CoverageReport, coverage, heatmap_lines
from trailforensics.posture.common import head_text
from trailforensics.posture.least_privilege import PolicyResult, policy
from trailforensics.posture.trace import TraceResult, trace
from trailforensics.posture.trails import TrailReport, trails

SinceOption = typer.Option(None, help="From this time (ISO 8601, or relative: -7d, 2h, 30m).")
UntilOption = typer.Option(None, help="Until this time (exclusive).")


def _json(doc: Any, out: Path | None) -> None:
    with out_sink(out) as sink:
        sink.json(plain(doc))


def _sections_json(sections: dict[str, pa.Table], out: Path | None, extra: dict[str, Any] | None = None) -> None:
    doc: dict[str, Any] = dict(extra or {})
    doc.update({name: t.to_pylist() for name, t in sections.items()})
    _json(doc, out)


def _pick_view(view: str, sections: dict[str, pa.Table], default: str) -> pa.Table:
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


@app.command("trails")
def trails_command(
    dataset: Path = DatasetOption,
    since: str = typer.Option(None, help="Only changes and findings from this time (the state needs all)."),
    until: str = typer.Option(None, help="Reconstruct the state as of this time (exclusive)."),
    view: str = typer.Option(
        "all", help="Section for row formats: changes (default), state, findings, stops, deliveries."
    ),
    fmt: str = FormatOption,
    out: Path = OutOption,
) -> None:
    """Each trail's logging configuration over time, its bucket and key, and what weakened it."""
    check_format(fmt)
    ds = open_dataset(dataset)
    report = trails(ds, since=time_option(since, "--since"), until=time_option(until, "--until"))
    sections = report.sections()
    if fmt == "table":
        with out_sink(out) as fh:
            if view == "all":
                render_trails(report, fh)
            else:
                write_table(_pick_view(view, sections, "changes"), "table", None, title=view, stream=fh)
    elif fmt == "json" and view == "all":
        _sections_json(sections, out)
    else:
        emit(_pick_view(view, sections, "changes"), fmt, out, title="trails")


# -- trace ---------------------------------------------------------------------------------------
CHAIN_COLUMNS = ["hop", "kind", "principal", "access_key", "link", "link_event", "link_ip", "link_reason"]


# How many entries of each activity list a table cell shows (every one in the other formats).
TABLE_LIST_HEAD = {"event_names": 4, "ips": 3, "regions": 6}


def _list_cells(table: pa.Table) -> pa.Table:
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


@app.command("trace")
def trace_command(
    target: str = typer.Argument(..., help="Access key id, session/user/role ARN, or a session name."),
    dataset: Path = DatasetOption,
    tree_from: str = typer.Option("origin", "--tree-from", help="Root the tree at the origin or the target."),
    view: str = typer.Option("all", help="Section for row formats: chain (default) or tree."),
    fmt: str = FormatOption,
    out: Path = OutOption,
) -> None:
    """Where credentials came from (the chain back to the origin) and every session derived from it."""
    check_format(fmt)
    if tree_from not in ("origin", "target"):
        fail("--tree-from must be origin or target")
    ds = open_dataset(dataset)
    result = trace(ds, target, tree_from=tree_from)
    sections = result.sections()
    if fmt == "table" and view == "all":
        with out_sink(out) as fh:
            render_trace(result, fh)
    elif fmt == "json" and view == "all":
        _sections_json(sections, out)
    elif fmt == "table":  # a cell cannot hold every entry: say how many were left out
        emit(_list_cells(_pick_view(view, sections, "chain")), fmt, out, title="trace")
    else:
        emit(_pick_view(view, sections, "chain"), fmt, out, title="trace")


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


@app.command("policy")
def policy_command(
    actor: str = typer.Option(..., "--actor", help="Principal ARN (user, role or session)."),
    dataset: Path = DatasetOption,
    since: str = SinceOption,
    until: str = UntilOption,
    view: str = typer.Option(
        "all",
        help="all, policy (the bare IAM policy document with -f json), statements, actions (what row "
        "formats write for all), unmapped, recording.",
    ),
    fmt: str = FormatOption,
    out: Path = OutOption,
) -> None:
    """A least-privilege IAM policy from the actions the principal performed successfully."""
    check_format(fmt)
    ds = open_dataset(dataset)
    result = policy(ds, actor, since=time_option(since, "--since"), until=time_option(until, "--until"))
    sections = result.sections()
    if fmt == "table" and view == "all":
        with out_sink(out) as fh:
            render_policy(result, fh)
        return
    for warning in result.warnings:
        say(f"warning: {warning}", err=True)
    if fmt == "json" and view == "policy":
        _json(result.document, out)
    elif fmt == "json" and view == "all":
        _sections_json(
            {k: v for k, v in sections.items() if k != "statements"},
            out,
            {"policy": result.document, "warnings": result.warnings},
        )
    else:
        emit(
            _pick_view("statements" if view == "policy" else view, sections, "actions"),
            fmt,
            out,
            title="policy",
        )


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


@app.command("coverage")
def coverage_command(
    dataset: Path = DatasetOption,
    by: str = typer.Option("day", "--by", help=f"Bucket: {', '.join(BUCKETS)}."),
    since: str = typer.Option(
        None,
        help="Show counts and flags from this time (ISO 8601, or relative: -7d, 2h, 30m); "
        "the flags are still judged against the whole dataset.",
    ),
    until: str = typer.Option(None, help="Show counts and flags until this time (exclusive)."),
    account: str = typer.Option(None, help="Only this account (its own baselines)."),
    rare_share: float = typer.Option(0.01, "--rare-share", help="Flag regions with less than this share of events."),
    new_after: float = typer.Option(
        24.0, "--new-after", help="Flag regions first seen this many hours after the data starts."
    ),
    gap_min: float = typer.Option(20.0, "--gap-min", help="Shortest silence (minutes) to report as a gap."),
    gap_expected: float = typer.Option(
        10.0,
        "--gap-expected",
        help="Report a silence when the usual rate predicts at least this many events.",
    ),
    view: str = typer.Option("all", help="Section for row formats: counts (default) or flags."),
    fmt: str = FormatOption,
    out: Path = OutOption,
) -> None:
    """Events per account x region x day (or hour) as a heat map, unusual regions and logging gaps."""
    check_format(fmt)
    if by not in BUCKETS:
        fail(f"--by must be one of {', '.join(BUCKETS)}")
    ds = open_dataset(dataset)
    report = coverage(
        ds,
        by=by,
        since=time_option(since, "--since"),
        until=time_option(until, "--until"),
        account=account,
        rare_share=rare_share,
        new_after=timedelta(hours=new_after),
        gap_min=timedelta(minutes=gap_min),
        gap_expected=gap_expected,
    )
    sections = report.sections()
    if fmt == "table" and view == "all":
        with out_sink(out) as fh:
            render_coverage(report, fh)
    elif fmt == "json" and view == "all":
        _sections_json(sections, out, {"by": by})
    else:
        emit(_pick_view(view, sections, "counts"), fmt, out, title="coverage")
