"""`trailforensics generate OUT`: write a synthetic CloudTrail S3 dump."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer

from trailforensics.cli import app
from trailforensics.cli.common import say
from trailforensics.cli.progress import Steps


def _parse_start(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}") from exc
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@app.command("generate")
def generate(
    out: Path = typer.Argument(..., metavar="OUT", help="Output folder (receives AWSLogs/...)."),
    events: int = typer.Option(10000, "--events", min=1, help="Approximate number of records."),
    seed: int = typer.Option(1, "--seed", help="Random seed: same seed, same bytes."),
    accounts: str | None = typer.Option(None, "--accounts", help="Comma-separated 12-digit account ids."),
    org_id: str | None = typer.Option(None, "--org-id", help="Organisation id (o-...): adds the org level to keys."),
    start: str | None = typer.Option(None, "--start", help="Start time, ISO 8601 UTC (default 2026-01-05T00:00:00Z)."),
    digests: bool = typer.Option(False, "--digests", help="Also write signed hourly digest files."),
    workers: int | None = typer.Option(None, "--workers", "-j", min=1, help="Worker processes (default: all cores)."),
) -> None:
    """Generate a deterministic, realistic CloudTrail dump (what `aws s3 sync` of a trail bucket gives)."""
    from trailforensics.generate import generate_tree

    acct_list = [a.strip() for a in accounts.split(",") if a.strip()] if accounts else None
    if acct_list and not all(a.isdigit() and len(a) == 12 for a in acct_list):
        raise typer.BadParameter("accounts must be 12-digit ids", param_hint="--accounts")
    if org_id and not org_id.startswith("o-"):
        raise typer.BadParameter("organisation ids look like o-xxxxxxxxxx", param_hint="--org-id")
    with Steps("generate") as bar:
        stats = generate_tree(
            out,
            events=events,
            seed=seed,
            accounts=acct_list,
            org_id=org_id,
            start=_parse_start(start),
            digests=digests,
            workers=workers,
            progress=bar.update,
        )
    say(
        f"wrote {stats.files} log files ({stats.events} events), {stats.insight_files} Insights files, "
        f"{stats.digest_files} digest files, {stats.bytes / 1e6:.1f} MB in {stats.seconds:.1f} s"
    )
    say(f"events from {_iso(stats.start)} to {_iso(stats.end)} under {out}")
    if stats.public_keys_path:
        say(f"public keys: {stats.public_keys_path}; newest digest signatures: {stats.signatures_path}")
