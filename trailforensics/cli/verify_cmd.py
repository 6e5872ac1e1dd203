"""`trailforensics verify TREE`: offline validation of CloudTrail digest chains and log files."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import typer

from trailforensics.cli import app
from trailforensics.cli.common import dataset_option, fail, format_option, out_sink, say

FORMATS = ("text", "json")


def _progress(stream: TextIO) -> Callable[[str, int, int], None] | None:
    """A Rich bar on a terminal (stderr), nothing otherwise."""
    if not stream.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]:,} files"),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(file=stream),
        transient=True,
    )
    state: dict[str, Any] = {"task": None, "files": 0}

    def report(event: str, files: int, nbytes: int) -> None:
        if event in ("digests", "logs"):
            if state["task"] is None:
                progress.start()
            else:
                progress.update(state["task"], visible=False)
            state["files"] = 0
            label = "reading digests" if event == "digests" else "hashing logs"
            state["task"] = progress.add_task(label, total=max(nbytes, 1), files=0)
        elif event == "advance" and state["task"] is not None:
            state["files"] += files
            progress.update(state["task"], advance=nbytes, files=state["files"])
        elif event == "finish" and state["task"] is not None:
            progress.stop()
            state["task"] = None

    return report


@app.command("verify")
def verify_command(
    tree: Path = typer.Argument(
        ...,
        metavar="TREE",
        help="A folder of synced buckets (one sub-folder per bucket), or one bucket dump (top level AWSLogs/).",
    ),
    public_keys: list[Path] = typer.Option(
        [],
        "--public-keys",
        "-k",
        help="`aws cloudtrail list-public-keys` output (repeatable, one per region/period).",
    ),
    signatures: list[Path] = typer.Option(
        [],
        "--signatures",
        "-s",
        help="Signatures of digests (S3 metadata that `aws s3 sync` drops): a JSON map "
        "{digest object key: hex signature}, `aws s3api head-object` output named <digest file>.json, "
        "or a folder of them "
        "(repeatable). Default: TREE/_verification/digest-signatures.json if present.",
    ),
    dataset: Path = dataset_option(
        "Also store per-file results in this dataset (table `verification`).", show_envvar=False
    ),
    fmt: str = format_option("text", FORMATS),
    allow_unsigned: bool = typer.Option(
        False,
        "--allow-unsigned",
        help="Accept digest signatures that could not be checked (no public keys, no signature for a "
        "newest digest): the result still reads NOT PROVEN, but exit bit 32 is not set.",
    ),
    require_signatures: bool = typer.Option(
        False,
        "--require-signatures",
        help="Deprecated (a no-op): unchecked signatures now set exit bit 32 by default; "
        "it overrides --allow-unsigned.",
    ),
    workers: int = typer.Option(0, "-j", "--workers", help="Worker processes for hashing (default: automatic)."),
    max_findings: int = typer.Option(200, "--max-findings", help="Text format: at most this many finding lines."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress bar."),
) -> None:
    """Validate CloudTrail digest files offline: signatures, hash chains, deleted, altered and injected logs.

    Result words (the last line): OK, every digest signature checked and nothing invalid, missing
    or unreferenced; NOT PROVEN, digest signatures not checked (no public keys, or no signature
    for a chain's newest digest), said with the count and the reason even with --allow-unsigned;
    INVALID, something checked is not authentic; MISSING, deleted log or digest files;
    UNREFERENCED, log files inside digest coverage that no digest lists.

    A digest absent from the tree (newest, oldest, the last before a restart, a whole region of a
    multi-region trail, one whose place holds a digest of another object key) is MISSING when a
    witness proves it was due before the tree was copied, otherwise a warning; the report names
    the witness. Witnesses: other regions of the trail (same hourly schedule), the signatures
    file (S3 metadata exists only for delivered digests: capture it with the tree), the
    previousDigestS3Object of the next digest, log files of its folder delivered after it was
    due, digests of other trails and the newest log file in the same bucket (these date the copy;
    with no sign that the trail still logged they only warn). A digest is due 5 minutes after the
    end time in its name.

    Exit codes (bit flags, added together): 0 OK (or NOT PROVEN with --allow-unsigned); 1 could not
    verify (unreadable TREE / key / signature file, no digest files), or the results could not be
    stored in the dataset (the other bits still give the verdict); 2 bad usage; 4 INVALID (altered or
    appended log, forged / moved / replaced digest, refused key, no key for a digest's fingerprint,
    key not valid then); 8 MISSING; 16 UNREFERENCED; 32 NOT PROVEN (unless --allow-unsigned).
    """
    fmt = fmt or "text"
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}: choose text or json", code=2)
    if not tree.is_dir():
        fail(f"TREE {tree} is not a folder")
    from trailforensics.output.provenance import with_version
    from trailforensics.verify import store_results, verify_tree
    from trailforensics.verify.report import to_text

    if require_signatures:
        say("note: --require-signatures is deprecated: signatures are required by default now", err=True)
    progress = None if quiet else _progress(sys.stderr)
    report = verify_tree(
        tree,
        public_keys=public_keys,
        signatures=signatures,
        workers=workers or None,
        progress=progress,
        allow_unsigned=allow_unsigned and not require_signatures,
    )
    stored = None
    if dataset is not None and not report.fatal:
        try:
            store_results(report, dataset)
            stored = dataset
        except Exception as exc:
            # the verdict stands: keep its exit bits, add "could not store" (1)
            report.run_errors.append(f"results not stored in {dataset}: {exc}")
            say(f"error: results not stored in {dataset}: {exc}", err=True)
    with out_sink(None) as sink:
        if fmt == "json":
            sink.json(with_version(report.to_json()))
        else:
            sink.write(to_text(report, max_findings=max_findings))  # lines already escaped
            if stored is not None:
                sink.line(f"stored {len(report.files):,} per-file results in {stored} (table `verification`)")
    raise typer.Exit(report.exit_code)
