"""HTML building blocks of the report: tables, severity badges, figures, commands and "N more" notes.

Every value from the logs goes through :func:`~trailforensics.report.escape.h`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from trailforensics.output.formats import plain
from trailforensics.report.escape import h
from trailforensics.report.svg import Svg


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
