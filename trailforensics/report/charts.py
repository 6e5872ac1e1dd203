"""The report's charts, drawn as SVG from :class:`~trailforensics.report.gather.ReportData`.

Each function returns an :class:`~trailforensics.report.svg.Svg` (or None when there is nothing
to draw).  Marks carry ``class="mark"`` and sit in one ``<g data-series=...>`` per series, so a
test can count what the browser shows; every mark has a ``<title>`` tooltip with its numbers,
and colour is never the only carrier of meaning (severities and states are also written out).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from trailforensics.output.formats import plain
from trailforensics.report.model import Activity, AttackPath, PathNode, ReportData
from trailforensics.report.svg import OTHER_COLOUR, SEVERITY_COLOUR, Svg, colour

WIDTH = 960
TIME_LABELS = 8
HEATMAP_ROWS = 40


def _t(value: Any) -> str:
    return str(plain(value)) if value is not None else "-"


def _nice_max(n: float) -> float:
    if n <= 0:
        return 1
    mag = 10 ** math.floor(math.log10(n))
    for step in (1, 2, 2.5, 5, 10):
        if n <= step * mag:
            return step * mag
    return 10 * mag


def _short(text: str | None, keep: int) -> str:
    value = text or "-"
    return value if len(value) <= keep else value[: keep - 1] + "…"


class _TimeAxis:
    """Maps UTC times onto [x0, x1]."""

    def __init__(self, start: datetime, end: datetime, x0: float, x1: float) -> None:
        self.start, self.end = start, max(end, start + timedelta(minutes=1))
        self.x0, self.x1 = x0, x1

    def x(self, t: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        return self.x0 + (self.x1 - self.x0) * (t - self.start).total_seconds() / span

    def draw(self, svg: Svg, y: float) -> None:
        svg.line(self.x0, y, self.x1, y, stroke="#444")
        span = self.end - self.start
        for i in range(TIME_LABELS + 1):
            t = self.start + span * i / TIME_LABELS
            x = self.x(t)
            svg.line(x, y, x, y + 4, stroke="#444")
            label = _t(t.replace(microsecond=0))[:16].replace("T", " ")
            svg.text(x, y + 15, label, text_anchor="middle", font_size=9)


# -- activity over time --------------------------------------------------------------------------
def activity_chart(data: ReportData) -> Svg | None:
    act: Activity = data.activity
    rows = act.counts.to_pylist()
    if not rows:
        return None
    step = timedelta(days=1) if act.bucket == "day" else timedelta(hours=1)
    start = min(r["start"] for r in rows)
    end = max(r["start"] for r in rows) + step
    left, right, top, plot_h = 56, WIDTH - 12, 34, 220
    legend_y = top + plot_h + 44
    svg = Svg(
        WIDTH,
        legend_y + 20 * (1 + (len(act.series) + 3) // 6),
        "activity",
        f"Events per {act.bucket}, stacked by {act.series_by}, errors overlaid, hunt hits marked",
    )
    axis = _TimeAxis(start, end, left, right)
    totals: dict[datetime, int] = defaultdict(int)
    for r in rows:
        totals[r["start"]] += r["events"]
    ymax = _nice_max(max(totals.values()))

    def y(n: float) -> float:
        return top + plot_h - plot_h * n / ymax

    if data.incident:  # behind the bars
        a, b = data.incident
        x0, x1 = axis.x(a), axis.x(b)
        svg.rect(
            x0,
            top - 6,
            max(x1 - x0, 3),
            plot_h + 6,
            fill="#fde2e1",
            stroke="#c0392b",
            stroke_dasharray="4 3",
            cls="incident-window",
            tip=f"incident window (first to last high-severity hit): {_t(a)} to {_t(b)}",
        )
        svg.text(x0 + 3, top + 6, "incident window", font_size=10, fill="#c0392b")
    for i in range(5):
        n = ymax * i / 4
        svg.line(left, y(n), right, y(n), stroke="#e5e5e5")
        svg.text(left - 4, y(n) + 3, f"{n:,.0f}", text_anchor="end", font_size=9)
    bar_w = max(axis.x(start + step) - axis.x(start) - 1, 1)
    stacked: dict[datetime, int] = defaultdict(int)
    by_series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_series[r["series"]].append(r)
    for i, name in enumerate(act.series):
        fill = OTHER_COLOUR if name == "other" else colour(i)
        svg.open_group(data_series=name, fill=fill)
        for r in by_series.get(name, []):
            base = stacked[r["start"]]
            stacked[r["start"]] = base + r["events"]
            svg.rect(
                axis.x(r["start"]),
                y(base + r["events"]),
                bar_w,
                y(base) - y(base + r["events"]),
                cls="mark",
                tip=f"{_t(r['start'])} {act.series_by} {name}: {r['events']:,} events",
            )
        svg.close_group()
    errors = [r for r in act.errors.to_pylist() if r["errors"]]
    if errors:
        svg.open_group(data_series="errors")
        for r in errors:
            cx = axis.x(r["start"]) + bar_w / 2
            svg.circle(
                cx,
                y(r["errors"]),
                2.5,
                fill="#d62728",
                stroke="#fff",
                stroke_width=0.5,
                cls="mark",
                tip=f"{_t(r['start'])}: {r['errors']:,} errors",
            )
        pts = [(axis.x(r["start"]) + bar_w / 2, y(r["errors"])) for r in act.errors.to_pylist()]
        svg.polyline(pts, stroke="#d62728", stroke_width=1.2, stroke_dasharray="3 2")
        svg.close_group()
    _hit_marks(svg, data, axis, top - 14)
    axis.draw(svg, top + plot_h)
    svg.text(left - 40, top - 20, f"events per {act.bucket} (UTC)", font_size=10)
    legend = [(OTHER_COLOUR if n == "other" else colour(i), f"{act.series_by} {n}") for i, n in enumerate(act.series)]
    legend.append(("#d62728", "errors (dots)"))
    legend.append(("#c0392b", "hunt hits (triangles, by severity)"))
    _legend(svg, legend, left, legend_y)
    return svg


def _hit_marks(svg: Svg, data: ReportData, axis: _TimeAxis, y: float) -> None:
    """One triangle per detection and bucket (bounded however many hits), coloured and titled by severity."""
    hits = data.hunt.hits
    if hits.num_rows == 0:
        return
    step = 86400 if data.activity.bucket == "day" else 3600
    groups: dict[tuple[str, int], dict[str, Any]] = {}
    for r in hits.select(["detection_id", "severity", "event_time"]).to_pylist():
        t = r["event_time"]
        if t is None or not (axis.start <= t <= axis.end):
            continue
        key = (r["detection_id"], int(t.timestamp()) // step)
        g = groups.setdefault(key, {"n": 0, "first": t, "severity": r["severity"], "id": r["detection_id"]})
        g["n"] += 1
        g["first"] = min(g["first"], t)
    svg.open_group(data_series="hits")
    for g in sorted(groups.values(), key=lambda g: g["first"]):
        x = axis.x(g["first"])
        svg.path(
            f"M{x - 4:.1f},{y - 6:.1f} L{x + 4:.1f},{y - 6:.1f} L{x:.1f},{y + 1:.1f} Z",
            fill=SEVERITY_COLOUR.get(g["severity"], "#555"),
            stroke="#fff",
            stroke_width=0.5,
            cls="mark",
            tip=f"[{g['severity']}] {g['id']}: {g['n']} hit(s) from {_t(g['first'])}",
        )
    svg.close_group()


def _legend(svg: Svg, items: list[tuple[str, str]], x0: float, y0: float) -> None:
    x, y = x0, y0
    for fill, label in items:
        width = 22 + 6.2 * len(label)
        if x + width > WIDTH - 10:
            x, y = x0, y + 18
        svg.rect(x, y - 9, 12, 10, fill=fill)
        svg.text(x + 16, y, label, font_size=10)
        x += width


# -- findings --------------------------------------------------------------------------------------
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def severity_chart(data: ReportData) -> Svg | None:
    counts: dict[str, int] = defaultdict(int)
    for s in data.hunt.hits.column("severity").to_pylist() if data.hunt.hits.num_rows else []:
        counts[s] += 1
    shown = [s for s in SEVERITY_ORDER if counts.get(s)]
    if not shown:
        return None
    row_h, left, width = 26, 90, 520
    svg = Svg(width, 16 + row_h * len(shown), "severity", "Hunt hits by severity")
    top = max(counts.values())
    svg.open_group(data_series="hits by severity")
    for i, sev in enumerate(shown):
        y = 8 + i * row_h
        w = (width - left - 80) * counts[sev] / top
        svg.text(left - 8, y + 14, sev.upper(), text_anchor="end", font_weight="bold")
        svg.rect(left, y, w, row_h - 8, fill=SEVERITY_COLOUR[sev], cls="mark", tip=f"{sev}: {counts[sev]} hit(s)")
        svg.text(left + w + 6, y + 14, f"{counts[sev]} hit(s)")
    svg.close_group()
    return svg


# -- the attacker's path ---------------------------------------------------------------------------
BOX_W, BOX_H, COL_GAP, ROW_GAP = 210, 74, 60, 18


def _node_lines(node: PathNode) -> list[str]:
    if node.kind in ("principal", "unknown"):
        head = f"{node.kind}: {(node.principal or '-').rsplit('/', 1)[-1]}"
    elif node.kind == "access-key":
        head = f"long-term key {node.access_key}"
    else:
        head = f"{node.kind} {node.access_key or ''} {node.session_name or ''}".strip()
    seen = f"{_t(node.first_seen)[:19]} → {_t(node.last_seen)[11:19]}" if node.first_seen else "no activity of its own"
    ips = ", ".join(node.ips[:2]) + (f" +{len(node.ips) - 2}" if len(node.ips) > 2 else "")
    return [
        ("⚑ FLAGGED " if node.flagged else "") + head,
        node.principal or "-",
        seen,
        f"{node.events} events; IPs {ips or '-'}",
    ]


def path_chart(path: AttackPath) -> Svg | None:
    if not path.nodes:
        return None
    columns: dict[int, list[PathNode]] = defaultdict(list)
    for node in path.nodes:
        columns[node.depth].append(node)
    depths = sorted(columns)
    rows = max(len(v) for v in columns.values())
    width = len(depths) * (BOX_W + COL_GAP) + 20
    height = rows * (BOX_H + ROW_GAP) + 30
    svg = Svg(width, height, "path", "The attacker's path: credential chains from origin (left) to sessions (right)")
    pos: dict[str, tuple[float, float]] = {}
    for ci, depth in enumerate(depths):
        for ri, node in enumerate(columns[depth]):
            pos[node.id] = (10 + ci * (BOX_W + COL_GAP), 20 + ri * (BOX_H + ROW_GAP))
    by_id = {n.id: n for n in path.nodes}
    svg.open_group(data_series="links", fill="none", stroke="#555")
    for parent, child in path.edges:
        if parent not in pos or child not in pos:
            continue
        (px, py), (cx, cy) = pos[parent], pos[child]
        x1, y1, x2, y2 = px + BOX_W, py + BOX_H / 2, cx, cy + BOX_H / 2
        mid = (x1 + x2) / 2
        c = by_id[child]
        svg.path(
            f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2 - 6:.1f},{y2:.1f}",
            stroke_width=1.5,
            cls="mark",
            tip=f"{c.link_event or 'issued'} ({c.link or '-'}) from {c.link_ip or '-'}",
        )
        svg.path(f"M{x2 - 7:.1f},{y2 - 4:.1f} L{x2:.1f},{y2:.1f} L{x2 - 7:.1f},{y2 + 4:.1f}", fill="#555")
        if c.link_event:
            svg.text(mid, (y1 + y2) / 2 - 4, _short(c.link_event, 18), text_anchor="middle", font_size=9, stroke="none")
    svg.close_group()
    svg.open_group(data_series="credentials")
    for node in path.nodes:
        x, y = pos[node.id]
        lines = _node_lines(node)
        svg.rect(
            x,
            y,
            BOX_W,
            BOX_H,
            rx=5,
            fill="#fff5f4" if node.flagged else "#f4f7fb",
            stroke="#c0392b" if node.flagged else "#5b7da8",
            stroke_width=2.5 if node.flagged else 1,
            cls="mark",
            tip="\n".join(lines) + f"\nIPs: {', '.join(node.ips) or '-'}",
        )
        for i, line in enumerate(lines):
            svg.text(
                x + 6,
                y + 16 + i * 16,
                _short(line, 36),
                font_size=10,
                font_weight="bold" if i == 0 else None,
                fill="#c0392b" if i == 0 and node.flagged else "#222",
            )
    svg.close_group()
    return svg


# -- logging posture -------------------------------------------------------------------------------
def trails_chart(data: ReportData) -> Svg | None:
    report = data.trails
    names = sorted(report.trails)
    if not names or report.data_start is None or report.data_end is None:
        return None
    lane_h, left, top = 34, 230, 10
    svg = Svg(WIDTH, top + lane_h * len(names) + 50, "trails", "Each trail over time: logging, stops and findings")
    axis = _TimeAxis(report.data_start, report.data_end, left, WIDTH - 14)
    stops = report.stops.to_pylist()
    findings = report.findings.to_pylist()
    lanes = {arn: top + i * lane_h for i, arn in enumerate(names)}
    for arn, y in lanes.items():
        svg.text(left - 8, y + 18, _short(report.trails[arn].name, 34), text_anchor="end")
    svg.open_group(data_series="recorded", fill="#b8e0c8")
    for _arn, y in lanes.items():
        svg.rect(left, y + 8, axis.x1 - left, 14, cls="mark", tip="period covered by the logs")
    svg.close_group()
    svg.open_group(data_series="stopped", fill="#c0392b")
    for s in stops:
        if s["trail"] not in lanes:
            continue
        a = max(s["stopped_at"], axis.start)
        b = s["started_at"] or axis.end
        x0 = axis.x(a)
        y = lanes[s["trail"]]
        svg.rect(
            x0,
            y + 6,
            max(axis.x(b) - x0, 3),
            18,
            cls="mark",
            tip=f"stopped {_t(s['stopped_at'])} by {s['stopped_by']} from {s['source_ip']}; "
            f"{s['status']} after {s['duration'] or '-'}",
        )
        svg.text(x0 + 2, y + 4, f"STOPPED {s['duration'] or ''}", font_size=9, fill="#c0392b")
    svg.close_group()
    svg.open_group(data_series="findings")
    for f in findings:
        if f["trail"] not in lanes or f["event_time"] is None:
            continue
        x, y = axis.x(f["event_time"]), lanes[f["trail"]] + 15
        svg.path(
            f"M{x:.1f},{y - 6:.1f} L{x + 5:.1f},{y:.1f} L{x:.1f},{y + 6:.1f} L{x - 5:.1f},{y:.1f} Z",
            fill=SEVERITY_COLOUR.get(f["severity"], "#555"),
            stroke="#fff",
            cls="mark",
            tip=f"[{f['severity']}] {f['finding']} at {_t(f['event_time'])}: {f['detail']}",
        )
    svg.close_group()
    axis.draw(svg, top + lane_h * len(names) + 4)
    return svg


def coverage_chart(data: ReportData) -> Svg | None:
    """Events per account x region x day; an empty cell in a row that has events elsewhere is a gap."""
    rows = data.coverage.counts.to_pylist()
    if not rows:
        return None
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        totals[(r["account"], r["region"])] += r["events"]
    keys = sorted(totals, key=lambda k: (-totals[k], k))[:HEATMAP_ROWS]
    days = sorted({r["bucket_start"] for r in rows})
    cell_w = max(min((WIDTH - 260) / max(len(days), 1), 90), 3)
    cell_h, left, top = 16, 250, 24
    svg = Svg(
        left + cell_w * len(days) + 10,
        top + cell_h * len(keys) + 40,
        "coverage",
        "Events per account x region x day (empty: no events that day)",
    )
    peak = max(r["events"] for r in rows)
    col = {d: i for i, d in enumerate(days)}
    row = {k: i for i, k in enumerate(keys)}
    for k, i in row.items():
        svg.text(left - 6, top + i * cell_h + 12, f"{k[0]} {k[1]}", text_anchor="end", font_size=10)
        svg.rect(left, top + i * cell_h, cell_w * len(days), cell_h - 1, fill="#fafafa", stroke="#ddd")
    for d, i in col.items():
        if len(days) <= 31 or i % max(len(days) // 15, 1) == 0:
            svg.text(left + i * cell_w + cell_w / 2, top - 6, _t(d)[:10], text_anchor="middle", font_size=9)
    svg.open_group(data_series="events")
    for r in rows:
        k = (r["account"], r["region"])
        if k not in row:
            continue
        share = math.log1p(r["events"]) / math.log1p(peak)
        svg.rect(
            left + col[r["bucket_start"]] * cell_w,
            top + row[k] * cell_h,
            cell_w - 1,
            cell_h - 1,
            fill=f"rgba(0,114,178,{0.15 + 0.85 * share:.2f})",
            cls="mark",
            tip=f"{k[0]} {k[1]} {_t(r['bucket_start'])[:10]}: {r['events']:,} events",
        )
    svg.close_group()
    svg.text(
        left, top + cell_h * len(keys) + 20, "darker: more events (log scale); light grey: none that day", font_size=10
    )
    return svg


def verification_chart(data: ReportData) -> Svg | None:
    """Log files by verification status, as one bar with each status's share written out."""
    if data.verification is None:
        return None
    counts: dict[str, int] = defaultdict(int)
    for r in data.verification.files.to_pylist():
        if r["kind"] != "cloudtrail-digest":
            counts[r["status"]] += r["files"]
    if not counts:
        return None
    order = ["valid", "unverified", "unreferenced", "invalid", "missing"]
    shown = [s for s in order if counts.get(s)] + [s for s in counts if s not in order]
    fills = {
        "valid": "#2e8b57",
        "unverified": "#b0b0b0",
        "unreferenced": "#e67e22",
        "invalid": "#c0392b",
        "missing": "#7b0000",
    }
    total = sum(counts.values())
    svg = Svg(WIDTH, 70, "verification", "Log files by verification status")
    x, w_all = 10.0, WIDTH - 20
    svg.open_group(data_series="files")
    for s in shown:
        w = max(w_all * counts[s] / total, 2)
        svg.rect(x, 10, w, 24, fill=fills.get(s, "#555"), cls="mark", tip=f"{s}: {counts[s]:,} log files")
        x += w
    svg.close_group()
    svg.text(10, 54, "  ·  ".join(f"{s}: {counts[s]:,}" for s in shown), font_size=11)
    return svg


def all_charts(data: ReportData) -> dict[str, Svg]:
    """Every chart that has something to show, by name."""
    made = {
        "verification": verification_chart(data),
        "activity": activity_chart(data),
        "severity": severity_chart(data),
        "path": path_chart(data.path),
        "trails": trails_chart(data),
        "coverage": coverage_chart(data),
    }
    return {k: v for k, v in made.items() if v is not None}
