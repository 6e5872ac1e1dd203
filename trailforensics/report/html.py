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
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from trailforensics.output.formats import plain
from trailforensics.report.charts import all_charts
from trailforensics.report.escape import h
from trailforensics.report.gather import Finding, ReportData
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

CSS = """
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#d9d9de; --bg:#fff; --accent:#0b57a4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; }
header.top { background: #14213d; color: #fff; padding: 18px 28px; }
header.top h1 { margin: 0 0 4px; font-size: 22px; }
header.top p { margin: 0; color: #dfe6f3; font-size: 12px; }
nav.toc { padding: 8px 28px; border-bottom: 1px solid var(--line); font-size: 13px; }
nav.toc a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 0 28px 40px; max-width: 1280px; }
section { margin-top: 26px; }
h2 { border-bottom: 2px solid #14213d; padding-bottom: 4px; font-size: 19px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 12px; width: auto; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f1f3f6; }
th[data-sort] { cursor: pointer; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { overflow-wrap: anywhere; max-width: 520px; }
td.time { white-space: nowrap; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
pre.cmd { background: #f6f8fa; border: 1px solid var(--line); padding: 6px 8px; white-space: pre-wrap;
          word-break: break-all; font-size: 12px; }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; font-weight: 700; font-size: 11px;
       color: #fff; letter-spacing: .03em; }
.sev-critical { background: #7b0000; } .sev-high { background: #c0392b; } .sev-medium { background: #b35900; }
.sev-low { background: #2e6da4; } .sev-info { background: #6b7378; }
.sev-error { background: #8a1c12; } .sev-warning { background: #b35900; }
.flag { font-weight: 700; color: #8a1c12; }
.more { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: 12px; }
.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; font-size: 13px; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.card b { display: block; font-size: 20px; }
.figure { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: 6px; margin: 8px 0; }
svg.chart { max-width: 100%; height: auto; display: block; }
table.matrix td { min-width: 120px; }
.cell-hit { display: block; margin: 2px 0; padding: 2px 4px; border-left: 4px solid #999; background: #f7f7f7; }
.cell-critical { border-color: #7b0000; } .cell-high { border-color: #c0392b; } .cell-medium { border-color: #b35900; }
.cell-low { border-color: #2e6da4; }
.status-bad { font-weight: 700; color: #8a1c12; } .status-good { color: #1e6b3a; }
details summary { cursor: pointer; }
@media print {
  nav.toc, .noprint { display: none; }
  header.top { background: none; color: #000; border-bottom: 2px solid #000; padding: 0 0 8px; }
  header.top p { color: #000; }
  main { padding: 0; max-width: none; }
  section { break-before: page; }
  section#overview { break-before: auto; }
  table, .figure, article.finding { break-inside: avoid; }
  .figure { border: none; overflow: visible; }
  a { color: #000; text-decoration: none; }
  .sev { color: #000; border: 1px solid #000; background: none; }
  details > *:not(summary) { display: block; }
  @page { size: A4 landscape; margin: 12mm; }
}
"""

# Click a header to sort its table (numbers numerically); nothing else needs a script.
SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.setAttribute('data-sort', '');
    th.title = 'Sort by this column';
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute('data-dir') !== 'asc';
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var nx = parseFloat(x.replace(/,/g, '')), ny = parseFloat(y.replace(/,/g, ''));
        var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? r : -r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      th.setAttribute('data-dir', asc ? 'asc' : 'desc');
    });
  });
});
"""


def _csp(nonce: str) -> str:
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'"
    )


# -- building blocks ---------------------------------------------------------------------------------
def sev(severity: str | None) -> str:
    s = (severity or "info").lower()
    return f'<span class="sev sev-{h(s)}">{h(s.upper())}</span>'


def _cell(value: Any, column: str) -> str:
    if isinstance(value, datetime):
        return f'<td class="time">{h(value)}</td>'
    v = plain(value)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f'<td class="num">{v:,}</td>'
    if isinstance(v, list):
        shown = ", ".join(h(x) for x in v[:8]) + (
            f" <span class='more'>+{len(v) - 8} more</span>" if len(v) > 8 else ""
        )
        return f'<td class="wrap">{shown}</td>'
    if column == "severity" and isinstance(v, str):
        return f"<td>{sev(v)}</td>"
    return f'<td class="wrap">{h(v)}</td>'


def table(rows: Sequence[dict[str, Any]] | pa.Table, columns: Sequence[str] | None = None, *, caption: str = "") -> str:
    """An HTML table of ``rows`` (every cell escaped); an empty one says so."""
    data = rows.to_pylist() if isinstance(rows, pa.Table) else list(rows)
    cols = list(columns or (rows.column_names if isinstance(rows, pa.Table) else (data[0].keys() if data else [])))
    if not data:
        return f'<p class="note">{h(caption) + ": " if caption else ""}none.</p>'
    head = "".join(f"<th scope='col'>{h(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(_cell(r.get(c), c) for c in cols) + "</tr>" for r in data)
    cap = f"<caption>{h(caption)}</caption>" if caption else ""
    return f'<table class="sortable">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def cmd(command: str) -> str:
    return f'<pre class="cmd"><code>{h(command)}</code></pre>'


def more(n: int, what: str, command: str) -> str:
    """The visible note under a capped table: how many rows are left out and how to list them all."""
    if n <= 0:
        return ""
    return f'<p class="more">{n:,} more {h(what)} not shown. All of them: <code>{h(command)}</code></p>'


def figure(chart: Svg | None, caption: str) -> str:
    if chart is None:
        return f'<p class="note">{h(caption)}: nothing to draw.</p>'
    return f'<figure class="figure">{chart.markup()}<figcaption class="note">{h(caption)}</figcaption></figure>'


def kv(pairs: Iterable[tuple[str, Any]]) -> str:
    return '<dl class="kv">' + "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in pairs) + "</dl>"


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
    hunt = data.hunt
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
    if hunt.errors:
        parts.append(table([{"detection": d, "error": e} for d, e in hunt.errors], caption="detections that failed"))
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
    if path.untraced:
        parts.append(f'<p class="more">{path.untraced} more keys or principals not traced.</p>')
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
    ]
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
        f'<meta http-equiv="Content-Security-Policy" content="{_csp(nonce)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{h(data.title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><h1>{h(data.title)}</h1><p>trailforensics {h(data.custody.tool_version)} · '
        f"generated {h(plain(data.custody.generated_at))} · dataset generation {data.custody.generation} · "
        f"{len(data.findings)} finding(s), {high} high or critical</p></header>"
        f'<nav class="toc" aria-label="Sections">{toc}</nav><main>{body}</main>'
        f'<script nonce="{nonce}">{SCRIPT}</script></body></html>\n'
    )
