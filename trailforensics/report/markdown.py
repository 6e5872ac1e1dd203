"""The report as Markdown for tickets and wikis: the same sections, charts as linked SVG files.

Every log value goes through :func:`~trailforensics.report.escape.md` (no raw HTML, no link, no
emphasis can come from the logs); commands we write ourselves are code spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from trailforensics.output.formats import plain
from trailforensics.report.escape import md, md_code
from trailforensics.report.html import EVIDENCE_COLUMNS, SECTIONS
from trailforensics.report.model import ReportData
from trailforensics.report.reproduce import Commands

LIST_SHOWN = 8


def _cell(value: Any) -> str:
    v = plain(value)
    if isinstance(v, list):
        return md(
            ", ".join(str(x) for x in v[:LIST_SHOWN]) + (f" +{len(v) - LIST_SHOWN} more" if len(v) > LIST_SHOWN else "")
        )
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return md(v)


def table(rows: Sequence[dict[str, Any]] | pa.Table, columns: Sequence[str] | None = None, caption: str = "") -> str:
    data = rows.to_pylist() if isinstance(rows, pa.Table) else list(rows)
    cols = list(columns or (rows.column_names if isinstance(rows, pa.Table) else (data[0].keys() if data else [])))
    title = f"*{md(caption)}*\n\n" if caption else ""
    if not data:
        return f"{title}(none)\n\n"
    head = "| " + " | ".join(md(c) for c in cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join(_cell(r.get(c)) for c in cols) + " |\n" for r in data)
    return title + head + body + "\n"


def _more(n: int, what: str, command: str) -> str:
    return f"*{n:,} more {md(what)} not shown. All of them:* {md_code(command)}\n\n" if n > 0 else ""


def _chart(charts: dict[str, str], name: str, caption: str) -> str:
    link = charts.get(name)
    return f"![{md(caption)}]({link})\n\n" if link else ""


def render_markdown(data: ReportData, chart_links: dict[str, str] | None = None) -> str:
    """The report as Markdown; ``chart_links`` maps chart names to the SVG files written beside it."""
    links = chart_links or {}
    c = Commands(data.custody.dataset, data.options)
    o = (data.overview["overview"].to_pylist() or [{}])[0]
    out: list[str] = [f"# {md(data.title)}\n\n"]
    out.append(
        f"trailforensics {md(data.custody.tool_version)}, generated {md(plain(data.custody.generated_at))}; "
        f"dataset {md(data.custody.dataset)} generation {data.custody.generation}, `_snapshot.json` SHA-256 "
        f"`{data.custody.snapshot_sha256}`\n\n"
    )
    titles = dict(SECTIONS)
    n = iter(range(1, len(SECTIONS) + 1))

    def section(key: str) -> None:
        out.append(f"## {next(n)}. {md(titles[key])}\n\n")

    section("overview")
    if data.hunt.errors:
        out.append(
            f"**INCOMPLETE HUNT**: {len(data.hunt.errors)} detection(s) failed, so their findings are missing "
            f"from this report: {md(', '.join(d for d, _ in data.hunt.errors))} (errors in the appendix).\n\n"
        )
    out.append(
        table(
            [
                {"fact": "events", "value": o.get("events")},
                {"fact": "time range", "value": f"{plain(o.get('first_event'))} to {plain(o.get('last_event'))}"},
                {"fact": "accounts", "value": o.get("accounts")},
                {"fact": "regions", "value": o.get("regions")},
                {"fact": "duplicates dropped", "value": o.get("duplicates_dropped")},
                {
                    "fact": "incident window",
                    "value": f"{plain(data.incident[0])} to {plain(data.incident[1])}" if data.incident else "none",
                },
                {"fact": "writer runs", "value": ", ".join(data.custody.runs)},
            ],
            ["fact", "value"],
        )
    )
    out.append(table(data.files_by_kind, caption="files by kind and status"))
    if data.failures_total:
        out.append(table(data.failures, caption="files that failed or were read in part"))
        out.append(_more(data.failures_total - data.failures.num_rows, "files", c.failed_files()))
    out.append(table(data.overview["accounts"], caption="accounts"))
    out.append(table(data.overview["regions"], caption="regions"))
    v = data.verification
    if v is None:
        out.append("**UNVERIFIED**: `verify -d` has not been run on this dataset.\n\n")
    else:
        out.append(_chart(links, "verification", "log files by verification status"))
        out.append(table(v.files, caption="files by verification status"))
        out.append(table(v.hours, caption="hours by digest coverage state"))
        out.append(table(v.findings, caption="verification findings"))
        out.append(_more(v.findings_total - v.findings.num_rows, "verification findings", c.verification_findings()))

    section("activity")
    out.append(_chart(links, "activity", "events over time, errors and hunt hits"))
    out.append(table(data.overview["top_events"], caption="most frequent API calls"))
    out.append(table(data.overview["errors"], caption="most frequent errors"))

    section("findings")
    out.append(_chart(links, "severity", "hunt hits by severity"))
    matrix = [
        {
            "tactic": tactic,
            "technique": tid,
            "hits": cell["hits"],
            "severity": cell["severity"].upper(),
            "detections": ", ".join(sorted(cell["detections"])),
        }
        for tactic, cells in data.matrix.items()
        for tid, cell in cells.items()
    ]
    out.append(table(matrix, ["tactic", "technique", "hits", "severity", "detections"], "ATT&CK tactic x technique"))
    for f in data.findings:
        out.append(f"### {f.severity.upper()}: {md(f.title)} ({md(f.detection_id)})\n\n")
        out.append(
            f"ATT&CK {md(f.attack or '-')}; {f.hits:,} hit(s) from {md(plain(f.first_time))} to "
            f"{md(plain(f.last_time))}\n\n"
        )
        cols = [col for col in EVIDENCE_COLUMNS if col in f.evidence.column_names]
        out.append(table(f.evidence, cols))
        out.append(_more(f.more, "evidence rows", c.hunt(f.detection_id, sigma_rule=f.author != "trailforensics")))

    section("path")
    out.append(_chart(links, "path", "credential chains"))
    out.append(
        table(
            [
                {
                    "credential": nd.access_key or nd.principal,
                    "kind": nd.kind,
                    "issued by": nd.link_event,
                    "from IP": nd.link_ip,
                    "first_seen": nd.first_seen,
                    "last_seen": nd.last_seen,
                    "events": nd.events,
                    "source IPs": nd.ips,
                    "flagged": "FLAGGED" if nd.flagged else "",
                }
                for nd in sorted(data.path.nodes, key=lambda nd: (nd.depth, str(nd.first_seen)))
            ],
            caption="credentials on the path (origin first)",
        )
    )
    if data.path.omitted:
        out.append(f"*{data.path.omitted:,} more derived sessions not drawn (the trace commands list them).*\n\n")
    if data.path.not_loaded:
        out.append(
            f"*At least {data.path.not_loaded:,} more credentials derived from these origins were not followed "
            "(the report loads a bounded part of the session graph); the trace commands list them all.*\n\n"
        )
    if data.path.untraced:
        out.append(_more(data.path.untraced, "keys or principals of high-severity findings, not traced", c.hunt_high()))
    out.extend(f"{md_code(c.trace(t))}\n\n" for t in data.path.targets)

    section("posture")
    out.append(_chart(links, "trails", "trails over time"))
    out.append(
        table(
            data.trails.findings.select(["event_time", "trail_name", "severity", "finding", "detail", "actor"]),
            caption="trail findings",
        )
    )
    out.append(
        table(
            data.trails.stops.select(["trail_name", "stopped_at", "started_at", "duration", "stopped_by"]),
            caption="logging stopped",
        )
    )
    out.append(_chart(links, "coverage", "events per account x region x day"))
    out.append(
        table(
            data.coverage.flags.select(["kind", "account", "region", "start", "end", "detail"]),
            caption="coverage flags",
        )
    )

    section("who")
    out.append(table(data.overview["top_actors"], caption="top actors"))
    out.append(table(data.overview["top_source_ips"], caption="top source IPs"))
    out.append(table(data.user_agents, caption="top user agents"))
    out.append(table(data.new_identities, caption="identities first seen in the incident window"))
    out.append(_more(data.new_identities_total - data.new_identities.num_rows, "identities", c.identities()))

    section("appendix")
    out.append(
        table(
            [
                {
                    "detection": d.id,
                    "severity": d.severity,
                    "parameters": ", ".join(f"{p.name}={p.default}" for p in d.params),
                }
                for d in data.hunt.detections
            ],
            caption="detections run",
        )
    )
    out.append(
        table(
            [{"detection": d, "error": e} for d, e in data.hunt.errors],
            ["detection", "error"],
            caption="detections that failed (their hits are missing from this report)",
        )
    )
    out.append(table(data.overview["ingest_health"], caption="ingest health"))
    out.append("Reproduce:\n\n")
    for command in (c.summary(), c.hunt(), c.trails(), c.coverage(), c.identities(), c.verification_findings()):
        out.append(f"* {md_code(command)}\n")
    return "".join(out)
