"""The report as one self-contained HTML file: ``render_html(data) -> str``.

Offline by construction: styles and the one small script are inline, charts are inline SVG, and a
Content-Security-Policy meta tag forbids every request (``default-src 'none'``) and every script
but ours (a fresh nonce per report).  Every value from the logs goes through
:func:`~trailforensics.report.escape.h`.  The page works without JavaScript (the script only makes
tables sortable), reads without colour (severities and states are written out) and has a print
stylesheet.
"""

from __future__ import annotations

import secrets
from typing import Any

from trailforensics.output.formats import plain
from trailforensics.report.charts import all_charts
from trailforensics.report.escape import h
from trailforensics.report.html_blocks import cmd, figure, kv, more, sev, table
from trailforensics.report.html_style import CSS, SCRIPT, csp
from trailforensics.report.model import Finding, ReportData
from trailforensics.report.reproduce import Commands
from trailforensics.report.svg import Svg

SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Case overview"),
    ("activity", "Activity over time"),
    ("findings", "Findings"),
    ("path", "The attacker's path"),
    ("posture", "Logging posture"),
    ("who", "Who and where"),
    ("appendix", "Appendix: method and reproduction"),
)


# -- sections --------------------------------------------------------------------------------------
def _overview(data: ReportData, charts: dict[str, Svg], c: Commands) -> str:
    ov = data.overview["overview"].to_pylist()
    o = ov[0] if ov else {}
    cards = [
        ("events", o.get("events")),
        ("accounts", o.get("accounts")),
        ("regions", o.get("regions")),
        ("actors", o.get("actors")),
        ("source IPs", o.get("source_ips")),
        ("errors", o.get("errors")),
        ("duplicates dropped", o.get("duplicates_dropped")),
        ("hunt hits", data.hunt.hits.num_rows),
    ]
    card_html = "".join(
        f'<div class="card"><b>{h(f"{v:,}" if isinstance(v, int) else v)}</b>{h(k)}</div>' for k, v in cards
    )
    cust = data.custody
    window = (
        f"{plain(data.options.since) or 'start'} to {plain(data.options.until) or 'end'}"
        if data.options.since or data.options.until
        else "whole dataset"
    )
    incident = f"{plain(data.incident[0])} to {plain(data.incident[1])}" if data.incident else "no high-severity hit"
    parts = [
        f'<div class="cards">{card_html}</div>',
        _hunt_failed(data),
        kv(
            [
                ("time range", f"{plain(o.get('first_event'))} to {plain(o.get('last_event'))}"),
                ("report window", window),
                ("incident window", incident),
                ("tool", f"trailforensics {cust.tool_version}"),
                ("dataset", cust.dataset),
                ("dataset snapshot", f"generation {cust.generation}, _snapshot.json SHA-256 {cust.snapshot_sha256}"),
                ("writer runs", ", ".join(cust.runs) or "-"),
                ("report generated", plain(cust.generated_at)),
            ]
        ),
        "<h3>Sources ingested</h3>",
        table(data.files_by_kind, caption="files by kind and status"),
    ]
    if data.failures_total:
        parts.append(table(data.failures, caption="files that failed or were read in part"))
        parts.append(more(data.failures_total - data.failures.num_rows, "files", c.failed_files()))
    parts += [
        "<h3>Accounts and regions</h3>",
        table(data.overview["accounts"], caption="accounts"),
        table(data.overview["regions"], caption="regions"),
        "<h3>Integrity of the logs (verify)</h3>",
    ]
    v = data.verification
    if v is None:
        parts.append(
            '<p class="status-bad">UNVERIFIED: <code>verify -d</code> has not been run on this dataset, so '
            "nothing proves the logs are complete and unaltered.</p>"
            + cmd(f"trailforensics verify TREE --public-keys KEYS.json -d {data.custody.dataset}")
        )
    else:
        bad = [r for r in v.files.to_pylist() if r["status"] in ("invalid", "missing", "unreferenced")]
        verdict = (
            '<p class="status-bad">PROBLEMS FOUND: '
            + h(", ".join(f"{r['files']} {r['kind']} file(s) {r['status']}" for r in bad))
            + "</p>"
            if bad
            else '<p class="status-good">No invalid, missing or injected file found.</p>'
        )
        parts += [
            verdict,
            figure(charts.get("verification"), "Log files by verification status"),
            table(v.files, caption="files by verification status"),
            table(v.hours, caption="hours by digest coverage state"),
            table(v.findings, caption="verification findings (worst first)"),
            more(v.findings_total - v.findings.num_rows, "verification findings", c.verification_findings()),
        ]
    return "".join(parts)


def _activity(data: ReportData, charts: dict[str, Svg], c: Commands) -> str:
    act = data.activity
    window = ""
    if data.incident:
        window = (
            f"<p>Incident window (first to last high-severity hit): <b>{h(plain(data.incident[0]))}</b> to "
            f"<b>{h(plain(data.incident[1]))}</b>. Every event in it: <code>"
            f"{h(c.timeline(data.incident[0], data.incident[1]))}</code></p>"
        )
    return (
        figure(
            charts.get("activity"),
            f"Events per {act.bucket} (UTC), stacked by {act.series_by}; red dots: errors; triangles at the top: "
            "hunt hits (colour and tooltip give the severity); shaded: the incident window.",
        )
        + window
        + table(data.overview["top_events"], caption="most frequent API calls")
        + table(data.overview["errors"], caption="most frequent errors")
    )


def _matrix(data: ReportData) -> str:
    if not data.matrix:
        return '<p class="note">No ATT&amp;CK technique among the hits.</p>'
    head = "".join(f"<th scope='col'>{h(t)}</th>" for t in data.matrix)
    cells = []
    for cellmap in data.matrix.values():
        items = "".join(
            f'<span class="cell-hit cell-{h(v["severity"])}">{h(tid)} · {v["hits"]} hit(s) · '
            f"{h(v['severity'].upper())}<br><span class='note'>{h(', '.join(sorted(v['detections'])))}</span></span>"
            for tid, v in cellmap.items()
        )
        cells.append(f"<td>{items}</td>")
    return (
        '<table class="matrix"><caption>ATT&amp;CK tactics (columns) and the techniques hit</caption>'
        f"<thead><tr>{head}</tr></thead><tbody><tr>{''.join(cells)}</tr></tbody></table>"
    )


EVIDENCE_COLUMNS = ("event_time", "actor", "access_key", "source_ip", "region", "event_name", "user_agent", "details")


def _finding(f: Finding, c: Commands) -> str:
    sigma = f.author != "trailforensics"
    cols = [col for col in EVIDENCE_COLUMNS if col in f.evidence.column_names]
    if len(set(f.evidence.column("severity").to_pylist())) > 1:
        cols.insert(0, "severity")
    return (
        f'<article class="finding" id="{h(f.anchor)}"><h3>{sev(f.severity)} {h(f.title)} '
        f'<a href="#{h(f.anchor)}" class="note">#</a></h3>'
        f'<p class="note">{h(f.detection_id)}{" (Sigma rule by " + h(f.author) + ")" if sigma else ""} · '
        f"ATT&amp;CK {h(f.attack or '-')} · {f.hits:,} hit(s) from {h(plain(f.first_time))} to "
        f"{h(plain(f.last_time))}</p>"
        + table(f.evidence, cols)
        + more(f.more, "evidence rows", c.hunt(f.detection_id, sigma_rule=sigma))
        + "</article>"
    )


def _findings(data: ReportData, charts: dict[str, Svg], c: Commands) -> str:
    if not data.findings:
        return "<p>The hunt found nothing.</p>" + cmd(c.hunt())
    index = "".join(
        f"<tr><td>{sev(f.severity)}</td><td><a href='#{h(f.anchor)}'>{h(f.title)}</a></td>"
        f"<td class='mono'>{h(f.detection_id)}</td><td class='num'>{f.hits:,}</td><td>{h(f.attack)}</td>"
        f"<td>{h(plain(f.first_time))}</td></tr>"
        for f in data.findings
    )
    parts = [
        figure(charts.get("severity"), "Hunt hits by severity"),
        _matrix(data),
        "<h3>Findings, most severe first</h3>",
        '<table class="sortable"><thead><tr><th>severity</th><th>finding</th><th>detection</th><th>hits</th>'
        f"<th>ATT&amp;CK</th><th>first hit</th></tr></thead><tbody>{index}</tbody></table>",
    ]
    parts.append(_hunt_failed(data))
    parts += [_finding(f, c) for f in data.findings]
    return "".join(parts)


def _path(data: ReportData, charts: dict[str, Svg], c: Commands) -> str:
    path = data.path
    if not path.targets:
        return '<p class="note">No high-severity finding names a key or principal to trace.</p>'
    parts = [
        "<p>The keys and principals named by high-severity findings, traced back to the identity that issued "
        "them (left) and forward to every session derived from it. Flagged boxes (⚑, red border) are named by a "
        "finding; hover a box or a link for its details.</p>",
        figure(charts.get("path"), "Credential chains: origin on the left, derived sessions to the right"),
    ]
    if path.omitted:
        parts.append(f'<p class="more">{path.omitted:,} more derived sessions not drawn (see the trace commands).</p>')
    if path.not_loaded:
        parts.append(
            f'<p class="more">At least {path.not_loaded:,} more credentials derived from these origins were not '
            "followed (the report loads a bounded part of the session graph). All of them: the trace commands "
            "below.</p>"
        )
    if path.untraced:
        parts.append(
            f'<p class="more">{path.untraced} more keys or principals of high-severity findings not traced. '
            f"All of them: <code>{h(c.hunt_high())}</code></p>"
        )
    for e in path.errors:
        parts.append(f'<p class="note">{h(e)}</p>')
    rows = [
        {
            "credential": n.access_key or n.principal,
            "kind": n.kind,
            "principal": n.principal,
            "issued by": f"{n.link_event or '-'} ({n.link or '-'})",
            "from IP": n.link_ip,
            "first_seen": n.first_seen,
            "last_seen": n.last_seen,
            "events": n.events,
            "source IPs": n.ips,
            "flagged": "FLAGGED" if n.flagged else "",
        }
        for n in sorted(path.nodes, key=lambda n: (n.depth, str(n.first_seen)))
    ]
    parts.append(table(rows, caption="credentials on the path"))
    parts.append("<p>Reproduce:</p>" + "".join(cmd(c.trace(t)) for t in path.targets))
    return "".join(parts)


def _posture(data: ReportData, charts: dict[str, Svg], c: Commands) -> str:
    tr = data.trails
    cov = data.coverage
    return "".join(
        [
            "<h3>Trails</h3>",
            figure(
                charts.get("trails"),
                "Each trail: green while the logs cover it, red while logging was stopped, diamonds at findings",
            ),
            table(
                tr.findings.select(["event_time", "trail_name", "severity", "finding", "detail", "actor", "source_ip"]),
                caption="trail findings",
            ),
            table(
                tr.stops.select(
                    ["trail_name", "stopped_at", "started_at", "duration", "status", "stopped_by", "source_ip"]
                ),
                caption="logging stopped",
            ),
            cmd(c.trails()),
            "<h3>Coverage: events per account, region and day</h3>",
            figure(charts.get("coverage"), "Heat map of events per account x region x day"),
            table(
                cov.flags.select(["kind", "account", "region", "start", "end", "events", "detail"]),
                caption="coverage flags: rare or new regions, silences, missing copies",
            ),
            cmd(c.coverage()),
        ]
    )


def _who(data: ReportData, charts: dict[str, Svg], c: Commands) -> str:
    def mark(rows: list[dict[str, Any]], key: str, flagged: set[str]) -> list[dict[str, Any]]:
        for r in rows:
            r["in high-severity findings"] = "YES" if r.get(key) in flagged else ""
        return rows

    region_flags: dict[str, str] = {}
    for f in data.coverage.flags.to_pylist():
        if f["kind"] == "region" and f["region"]:
            region_flags[f["region"]] = (
                " / ".join(
                    w for w in ("new", "rare") if (f["detail"] or "").startswith(w) or f"; {w}:" in (f["detail"] or "")
                )
                or "flagged"
            )
    regions = data.overview["regions"].to_pylist()
    for r in regions:
        r["new or rare"] = region_flags.get(r["region"], "").upper()
    ids = data.new_identities
    return "".join(
        [
            table(mark(data.overview["top_actors"].to_pylist(), "actor", data.flagged_actors), caption="top actors"),
            table(
                mark(data.overview["top_source_ips"].to_pylist(), "source_ip", data.flagged_ips),
                caption="top source IPs",
            ),
            table(data.user_agents, caption="top user agents"),
            more(1 if data.user_agents.num_rows >= data.options.top else 0, "user agents (at least)", c.user_agents()),
            table(regions, caption="regions (NEW: first seen well after the data starts; RARE: a tiny share)"),
            "<h3>Identities first seen during the incident window</h3>",
            table(ids, caption="principals and keys whose first event ever falls in the incident window")
            if data.incident
            else '<p class="note">No incident window (no high-severity hit).</p>',
            more(data.new_identities_total - ids.num_rows, "identities", c.identities()),
            cmd(c.summary()),
        ]
    )


def _hunt_failed(data: ReportData) -> str:
    """The flag that the hunt is incomplete (the failures themselves are listed in the appendix)."""
    failed = [d for d, _ in data.hunt.errors]
    if not failed:
        return ""
    return (
        f'<p class="status-bad">INCOMPLETE HUNT: {len(failed)} detection(s) failed, so their findings are missing '
        f"from this report: {h(', '.join(failed))}. Their errors: "
        '<a href="#hunt-failures">appendix, detections that failed</a>.</p>'
    )


def _appendix(data: ReportData, charts: dict[str, Svg], c: Commands) -> str:
    hunt = data.hunt
    dets = [
        {
            "detection": d.id,
            "severity": d.severity,
            "ATT&CK": ", ".join(d.attack),
            "parameters": ", ".join(f"{p.name}={p.default}" for p in d.params) or "-",
            "hits": next((r["hits"] for r in hunt.summary.to_pylist() if r["detection_id"] == d.id), 0),
            "seconds": round(hunt.timings.get(d.id, 0.0), 3),
        }
        for d in hunt.detections
    ]
    parts = [
        "<h3>Method</h3>",
        f"<p>{len(hunt.detections)} built-in detections ran over the whole dataset (baselines use every event; "
        "hits are kept in the report window). Severity is written out everywhere; colour only repeats it.</p>",
        table(dets, caption="detections run, with their parameters"),
        '<h3 id="hunt-failures">Detections that failed</h3>',
        table(
            [{"detection": d, "error": e} for d, e in hunt.errors],
            ["detection", "error"],
            caption="detections that failed (their hits are missing from this report)",
        ),
    ]
    if hunt.errors:
        parts.append("<p>Run them again, alone:</p>" + "".join(cmd(c.hunt(d)) for d, _ in hunt.errors if d != "sigma"))
    if hunt.sigma is not None:
        s = hunt.sigma
        parts.append(
            f"<p>Sigma: {len(s.rules)} rule(s) loaded, {len(s.skipped)} skipped, "
            f"{len(getattr(s, 'failed', []) or [])} failed to compile.</p>"
        )
        if s.skipped:
            parts.append(table([{"file": f, "reason": e} for f, e in s.skipped], caption="Sigma files skipped"))
    parts += [
        "<h3>Ingest health</h3>",
        table(data.overview["ingest_health"], caption="files by status and reason"),
        "<h3>Reproduce every table</h3>",
        table(
            [
                {"table": "this report", "command": c.report("case.html")},
                {"table": "overview, top actors / IPs / events, errors, ingest health", "command": c.summary()},
                {"table": "findings and all their evidence", "command": c.hunt()},
                {"table": "detections and parameters", "command": c.detections()},
                *({"table": f"the attacker's path: {t}", "command": c.trace(t)} for t in data.path.targets),
                {"table": "trails, stops and trail findings", "command": c.trails()},
                {"table": "coverage heat map and flags", "command": c.coverage()},
                {"table": "identities (first and last seen)", "command": c.identities()},
                {"table": "verification findings", "command": c.verification_findings()},
                {"table": "files that failed", "command": c.failed_files()},
            ],
            ["table", "command"],
        ),
    ]
    return "".join(parts)


RENDERERS = {
    "overview": _overview,
    "activity": _activity,
    "findings": _findings,
    "path": _path,
    "posture": _posture,
    "who": _who,
    "appendix": _appendix,
}


def render_html(data: ReportData, charts: dict[str, Svg] | None = None) -> str:
    """The whole report as one HTML document."""
    charts = all_charts(data) if charts is None else charts
    commands = Commands(data.custody.dataset, data.options)
    nonce = secrets.token_urlsafe(16)
    toc = "".join(f'<a href="#{key}">{i}. {h(title)}</a>' for i, (key, title) in enumerate(SECTIONS, 1))
    body = "".join(
        f'<section id="{key}"><h2>{i}. {h(title)}</h2>{RENDERERS[key](data, charts, commands)}</section>'
        for i, (key, title) in enumerate(SECTIONS, 1)
    )
    high = sum(1 for f in data.findings if f.severity in ("high", "critical"))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp(nonce)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{h(data.title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><h1>{h(data.title)}</h1><p>trailforensics {h(data.custody.tool_version)} · '
        f"generated {h(plain(data.custody.generated_at))} · dataset generation {data.custody.generation} · "
        f"{len(data.findings)} finding(s), {high} high or critical"
        + (f" · <b>{len(data.hunt.errors)} detection(s) FAILED</b>" if data.hunt.errors else "")
        + "</p></header>"
        f'<nav class="toc" aria-label="Sections">{toc}</nav><main>{body}</main>'
        f'<script nonce="{nonce}">{SCRIPT}</script></body></html>\n'
    )
