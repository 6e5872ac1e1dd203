"""`trails`, `trace`, `policy` and `coverage`: thin skins over trailforensics.posture.

The rendering is in :mod:`trailforensics.cli.posture_render`, imported when a command runs.

Every command renders the same sections in every format: ``table`` prints them one after the
other (tree and heat map as text), ``json`` writes one object with a key per section, and the
row formats (csv, jsonl, parquet, timesketch) write the section chosen with ``--view``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

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
    output_format,
    say,
    time_option,
)
from trailforensics.output.choices import check_format

# The buckets of trailforensics.posture.activity_coverage.BUCKETS, named here so that --help does not
# load the posture modules (tests/test_startup.py checks that they agree).
BUCKETS = ("day", "hour")

SinceOption = typer.Option(None, help="From this time (ISO 8601, or relative: -7d, 2h, 30m).")
UntilOption = typer.Option(None, help="Until this time (exclusive).")


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
    fmt = output_format(fmt, out)
    from trailforensics.cli import posture_render as render
    from trailforensics.output.formats import write_table
    from trailforensics.posture.trails import trails

    check_format(fmt)
    ds = open_dataset(dataset)
    report = trails(ds, since=time_option(since, "--since"), until=time_option(until, "--until"))
    sections = report.sections()
    if fmt == "table":
        with out_sink(out) as fh:
            if view == "all":
                render.render_trails(report, fh)
            else:
                write_table(render.pick_view(view, sections, "changes"), "table", None, title=view, stream=fh)
    elif fmt == "json" and view == "all":
        render.sections_json(sections, out)
    else:
        emit(render.pick_view(view, sections, "changes"), fmt, out, title="trails")


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
    fmt = output_format(fmt, out)
    from trailforensics.cli import posture_render as render
    from trailforensics.posture.trace import trace

    check_format(fmt)
    if tree_from not in ("origin", "target"):
        fail("--tree-from must be origin or target")
    ds = open_dataset(dataset)
    result = trace(ds, target, tree_from=tree_from)
    sections = result.sections()
    if fmt == "table" and view == "all":
        with out_sink(out) as fh:
            render.render_trace(result, fh)
    elif fmt == "json" and view == "all":
        render.sections_json(sections, out)
    elif fmt == "table":  # a cell cannot hold every entry: say how many were left out
        emit(render.list_cells(render.pick_view(view, sections, "chain")), fmt, out, title="trace")
    else:
        emit(render.pick_view(view, sections, "chain"), fmt, out, title="trace")


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
    fmt = output_format(fmt, out)
    from trailforensics.cli import posture_render as render
    from trailforensics.posture.least_privilege import policy

    check_format(fmt)
    ds = open_dataset(dataset)
    result = policy(ds, actor, since=time_option(since, "--since"), until=time_option(until, "--until"))
    sections = result.sections()
    if fmt == "table" and view == "all":
        with out_sink(out) as fh:
            render.render_policy(result, fh)
        return
    for warning in result.warnings:
        say(f"warning: {warning}", err=True)
    if fmt == "json" and view == "policy":
        render.json_doc(result.document, out)
    elif fmt == "json" and view == "all":
        render.sections_json(
            {k: v for k, v in sections.items() if k != "statements"},
            out,
            {"policy": result.document, "warnings": result.warnings},
        )
    else:
        emit(
            render.pick_view("statements" if view == "policy" else view, sections, "actions"),
            fmt,
            out,
            title="policy",
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
    fmt = output_format(fmt, out)
    from trailforensics.cli import posture_render as render
    from trailforensics.posture.activity_coverage import coverage

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
            render.render_coverage(report, fh)
    elif fmt == "json" and view == "all":
        render.sections_json(sections, out, {"by": by})
    else:
        emit(render.pick_view(view, sections, "counts"), fmt, out, title="coverage")
