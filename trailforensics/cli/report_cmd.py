"""`report`: one offline HTML file (or Markdown) for people who will not run SQL.

The heavy imports (the report package pulls in pyarrow, duckdb and every capability) happen
inside the command, so other commands start without them.
"""

from __future__ import annotations

from pathlib import Path

import typer

from trailforensics.cli import app
from trailforensics.cli.common import DatasetOption, fail, open_dataset, say, time_option
from trailforensics.cli.progress import Steps


@app.command("report")
def report_command(
    dataset: Path = DatasetOption,
    out: Path = typer.Option(..., "-o", "--output", help="The report file to write (e.g. case42.html)."),
    title: str = typer.Option(None, "--title", help="Title on the report (default: the dataset's folder name)."),
    since: str = typer.Option(
        None, help="Show activity and hits from this time (ISO 8601 or relative); baselines use every event."
    ),
    until: str = typer.Option(None, help="Until this time (exclusive)."),
    sigma: list[Path] = typer.Option([], "--sigma", help="Also run these Sigma rules (file or folder, repeatable)."),
    known_accounts: Path = typer.Option(
        None, "--known-accounts", help="File of trusted account ids (one per line), as for `hunt`."
    ),
    fmt: str = typer.Option("html", "--format", help="html (one self-contained file) or md (Markdown + SVG files)."),
) -> None:
    """Write the incident report: overview, activity, findings, the attacker's path, logging posture, who and where."""
    from trailforensics.hunt.sigma_bridge import SigmaPathError
    from trailforensics.hunt.sqlenv import read_known_accounts
    from trailforensics.report import REPORT_FORMATS, ReportOptions, write_report

    if fmt not in REPORT_FORMATS:
        fail(f"--format must be one of {', '.join(REPORT_FORMATS)}")
    options = ReportOptions(
        title=title,
        since=time_option(since, "--since"),
        until=time_option(until, "--until"),
        sigma=list(sigma),
        known_accounts=read_known_accounts(known_accounts) if known_accounts else [],
        known_accounts_file=known_accounts,
    )
    ds = open_dataset(dataset)
    try:
        with Steps("report"):
            result = write_report(ds, out, options, fmt=fmt)
    except SigmaPathError as exc:
        fail(f"--sigma: {exc}")
    say(
        f"report written: {result.path} ({result.bytes:,} bytes, {result.findings} finding(s), "
        f"charts: {', '.join(result.charts) or 'none'}, {result.seconds:.1f} s)",
        err=True,
    )
    say(str(result.path))
