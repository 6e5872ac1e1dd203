"""The incident report: one offline HTML file (or Markdown for tickets) with charts and evidence.

    >>> from trailforensics.report import ReportOptions, write_report
    >>> result = write_report(Dataset("case42"), Path("case42.html"), ReportOptions(title="Case 42"))

:mod:`.gather` collects the facts (:mod:`.model`) through the Python API: summary, hunt
(:mod:`.findings`), the attacker's path from a session graph scoped to the flagged credentials
(:mod:`.path`), trails, coverage, verification, rollup-based activity (:mod:`.activity`) and who and
where (:mod:`.people`).  :mod:`.charts` draws them as inline SVG (:mod:`.svg`), :mod:`.html` (with
:mod:`.html_blocks` and :mod:`.html_style`) and :mod:`.markdown` render them, every log value
escaped by :mod:`.escape`; :mod:`.reproduce` writes the CLI command behind every table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trailforensics.output.sink import OutputError
from trailforensics.report.charts import all_charts
from trailforensics.report.gather import gather
from trailforensics.report.html import render_html
from trailforensics.report.markdown import render_markdown
from trailforensics.report.model import ReportData, ReportOptions

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

REPORT_FORMATS = ("html", "md")


@dataclass
class ReportResult:
    path: Path
    bytes: int
    seconds: float
    findings: int
    charts: list[str]
    files: list[Path] = field(default_factory=list)  # everything written (the Markdown's SVG files too)


def write_report(ds: Dataset, out: Path, options: ReportOptions | None = None, *, fmt: str = "html") -> ReportResult:
    """Gather, render and write the report to ``out`` (Markdown: charts as SVG files in ``<stem>-charts/``)."""
    if fmt not in REPORT_FORMATS:
        raise OutputError(f"unknown report format {fmt!r}: choose one of {', '.join(REPORT_FORMATS)}")
    started = time.perf_counter()
    data = gather(ds, options)
    charts = all_charts(data)
    written: list[Path] = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "html":
            text = render_html(data, charts)
        else:
            folder = out.with_name(f"{out.stem}-charts")
            folder.mkdir(exist_ok=True)
            links = {}
            for name, svg in charts.items():
                target = folder / f"{name}.svg"
                target.write_text(svg.markup(standalone=True), encoding="utf-8")
                written.append(target)
                links[name] = f"{folder.name}/{name}.svg"
            text = render_markdown(data, links)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write the report to {out}: {exc.strerror or exc}") from exc
    written.insert(0, out)
    return ReportResult(
        path=out,
        bytes=len(text.encode("utf-8")),
        seconds=time.perf_counter() - started,
        findings=len(data.findings),
        charts=sorted(charts),
        files=written,
    )


__all__ = ["REPORT_FORMATS", "ReportData", "ReportOptions", "ReportResult", "gather", "write_report"]
