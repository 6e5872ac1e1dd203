"""Rendering a VerifyReport: text in the spirit of `aws cloudtrail validate-logs`, and JSON.

Every name that comes from the evidence (paths, keys, trail names) goes through
``terminal_safe`` before it reaches a terminal.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from trailforensics.output.sanitize import terminal_safe
from trailforensics.verify import model as m

LABELS = {m.ERROR: "ERROR", m.WARNING: "WARNING", m.INFO: "NOTE"}


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def text_lines(report: m.VerifyReport, *, max_findings: int | None = None) -> Iterator[str]:
    s = report.summary
    yield f"Verified {report.tree}"
    if report.fatal:
        yield f"error: {report.fatal}"
    for problem in report.run_errors:
        yield f"error: {problem}"
    yield (
        f"Public keys: {s.public_keys} accepted, {s.public_keys_rejected} refused; "
        f"signatures supplied: {s.signatures_supplied}"
    )
    yield ""
    yield (
        f"Digest files: {s.digests_found:,} found: {s.digests_valid:,} valid, {s.digests_invalid:,} INVALID, "
        f"{s.digests_unchecked:,} unchecked signature; {s.digests_missing:,} MISSING"
    )
    yield (
        f"Log files: {s.logs_listed:,} listed by digests: {s.logs_valid:,} valid, "
        f"{s.logs_invalid:,} INVALID, "
        f"{s.logs_missing:,} MISSING, {s.logs_unverified:,} unverified (digest not proven)"
    )
    yield (
        f"Log files listed by no digest: {s.logs_unreferenced:,} UNREFERENCED inside digest coverage, "
        f"{s.logs_unproven:,} unverified where digests are missing, invalid or not yet delivered, "
        f"{s.logs_not_covered:,} outside any digest coverage; {_n(s.insight_files, 'Insights file')}"
    )
    yield (f"Chains: {s.chains} ({s.restarts} restarts); hashed {s.bytes_hashed / 1e6:,.1f} MB in {s.seconds:.1f} s")
    for c in report.chains:
        extra = []
        if c.restarts:
            extra.append("restarted " + ", ".join(m.iso(t) or "" for t in c.restarts))
        if c.digests_missing:
            extra.append(f"{c.digests_missing} digest(s) MISSING")
        if c.digests_invalid:
            extra.append(f"{c.digests_invalid} INVALID")
        if c.logs_missing or c.logs_invalid:
            extra.append(f"logs: {c.logs_missing} missing, {c.logs_invalid} invalid")
        span = f"{m.iso(c.first_start)} to {m.iso(c.last_end)}" if c.first_start is not None else "no sound digest"
        yield terminal_safe(
            f"  {c.chain}: {span}, {_n(c.digests, 'digest')} "
            f"({c.digests_valid} valid), {_n(c.logs_listed, 'log file')} listed"
            + (f"; {'; '.join(extra)}" if extra else "")
        )
    yield ""
    errors = sum(1 for f in report.findings if f.severity == m.ERROR)
    warnings = sum(1 for f in report.findings if f.severity == m.WARNING)
    notes = len(report.findings) - errors - warnings
    yield f"Findings: {_n(errors, 'error')}, {_n(warnings, 'warning')}, {_n(notes, 'note')}"
    shown = report.findings if max_findings is None else report.findings[:max_findings]
    for f in shown:
        yield terminal_safe(f"{LABELS[f.severity]:7} {f.kind}: {f.message}")
    if len(shown) < len(report.findings):
        yield f"... {len(report.findings) - len(shown):,} more (use --format json)"
    for note in report.notes:
        yield terminal_safe(f"note: {note}")
    yield ""
    yield result_line(report)


def result_line(report: m.VerifyReport) -> str:
    """`Result: MISSING, NOT PROVEN: 39 digest signatures not checked (no public keys) (exit 40: ...)`.

    NOT PROVEN stays in the line with --allow-unsigned (which only clears its exit bit): a report
    that checked no signature never reads OK."""
    code = report.exit_code
    words = report.result
    text = ", ".join(words)
    unproven = report.not_proven_text()
    if unproven:
        text += f": {unproven}"
        if report.allow_unsigned:
            text += ", accepted with --allow-unsigned"
    meaning = m.exit_meaning(code)
    if code == 0 and unproven:
        meaning = "nothing checked is invalid or missing, but signatures were not checked"
    return f"Result: {text} (exit {code}: {meaning})"


def to_text(report: m.VerifyReport, *, max_findings: int | None = None) -> str:
    return "\n".join(terminal_safe(line) for line in text_lines(report, max_findings=max_findings)) + "\n"


def to_json_bytes(report: m.VerifyReport, *, indent: bool = True) -> bytes:
    opt = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(report.to_json(), option=opt) + b"\n"
