"""The incident report in a real headless Chromium (network cut): it renders without a console
error or a request, every chart is drawn with the expected series and marks, the screenshot is not
blank, it prints, and hostile log content is shown as text and never runs.

Skipped, with the reason, only when no chromium is installed (``.ci/run`` installs Debian's).
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.ct import record, write_log
from tests.test_report import cli, sample_ds  # noqa: F401 - the module-scoped sample dataset fixture
from tests.test_report_cdp import Browser, distinct_colours, require_chromium
from trailforensics.engine.dataset import Dataset
from trailforensics.report import gather

UTC = timezone.utc
ACCOUNT = "111122223333"
CONTROLS = "\u202eevil\x1b[31m\x85\x9b\x01\u2066end"
XSS = (
    '<script>alert("xss-script")</script><img src=x onerror=alert("xss-img")>'
    '<a href="javascript:alert(\'xss-js\')">js</a></style><script>alert("xss-style")</script>'
    "<svg onload=alert('xss-svg')></svg>\"'><iframe src=javascript:alert(1)>"
)
HOSTILE = XSS + CONTROLS
FILE_NAME = '<img src=x onerror=alert("xss-file")><script>alert(2)<_script>\u202e\x1b[31m.json.gz'
# What the page's DOM must not hold if the payload had been parsed as markup.
NO_PAYLOAD_NODES = """(() => ({
  scripts: document.scripts.length,
  styles: document.querySelectorAll('style').length,
  imgs: document.querySelectorAll('img').length,
  iframes: document.querySelectorAll('iframe').length,
  handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
  jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
  foreignSvg: document.querySelectorAll('svg:not(.chart)').length,
}))()"""


@pytest.fixture(scope="module")
def browser() -> Any:
    require_chromium()
    with Browser(width=1280, height=1000) as b:
        yield b


# -- the sample incident -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_report(sample_ds: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:  # noqa: F811
    out = tmp_path_factory.mktemp("report-html") / "case.html"
    done = cli("report", "-d", str(sample_ds), "-o", str(out), "--title", "Metrolio incident")
    assert done.returncode == 0, done.stderr
    with Dataset(sample_ds) as ds:
        data = gather(ds)
    return out, data


def test_sample_report_renders_offline_without_errors(browser: Browser, sample_report: tuple[Path, Any]) -> None:
    out, _ = sample_report
    page = browser.load(out.as_uri())
    assert page.load.dialogs == []
    assert page.load.errors == []
    assert page.load.sent == [out.as_uri()]  # the page itself and nothing else
    assert out.stat().st_size <= 5 * 1024 * 1024
    assert distinct_colours(page.screenshot()) > 20  # a drawn page, not a blank one


def _chart(page: Any, name: str) -> dict[str, Any]:
    result: dict[str, Any] = page.js(
        f"""(() => {{
      const svg = document.querySelector('svg.chart[data-chart="{name}"]');
      if (!svg) return null;
      const box = svg.getBoundingClientRect();
      const series = {{}};
      svg.querySelectorAll('g[data-series]').forEach(g => {{
        series[g.getAttribute('data-series')] = g.querySelectorAll('.mark').length;
      }});
      return {{width: box.width, height: box.height, series: series,
               visible: getComputedStyle(svg).visibility === 'visible' && getComputedStyle(svg).display !== 'none'}};
    }})()"""
    )
    assert result is not None, f"chart {name} is missing"
    assert result["visible"] and result["width"] > 200 and result["height"] > 40, result
    return result


def test_every_chart_is_drawn_with_its_series_and_marks(browser: Browser, sample_report: tuple[Path, Any]) -> None:
    out, data = sample_report
    page = browser.load(out.as_uri())
    activity = _chart(page, "activity")
    for i, name in enumerate(data.activity.series):
        expected = sum(1 for s in data.activity.counts["series"].to_pylist() if s == name)
        assert activity["series"][name] == expected > 0, (i, name)
    assert activity["series"]["errors"] == sum(1 for n in data.activity.errors["errors"].to_pylist() if n)
    assert activity["series"]["hits"] >= len(data.findings)  # one triangle per detection and hour at least
    assert page.js("document.querySelectorAll('svg[data-chart=activity] .incident-window').length") == 1

    severity = _chart(page, "severity")
    assert severity["series"] == {"hits by severity": len(set(data.hunt.hits["severity"].to_pylist()))}

    path = _chart(page, "path")
    assert path["series"]["credentials"] == len(data.path.nodes) >= 5
    assert path["series"]["links"] == len(data.path.edges) >= 4

    trails = _chart(page, "trails")
    assert trails["series"]["recorded"] == len(data.trails.trails)
    assert trails["series"]["stopped"] == data.trails.stops.num_rows == 1
    assert trails["series"]["findings"] == data.trails.findings.num_rows

    coverage = _chart(page, "coverage")
    assert coverage["series"]["events"] == data.coverage.counts.num_rows

    verification = _chart(page, "verification")
    assert verification["series"]["files"] >= 3  # valid, unverified, missing
    # the severity is written out, not only coloured
    text = page.js("document.body.innerText")
    assert "HIGH" in text and "MEDIUM" in text and "PROBLEMS FOUND" in text


def test_works_without_javascript_and_prints(sample_report: tuple[Path, Any]) -> None:
    out, _ = sample_report
    require_chromium()
    with Browser(javascript=False) as b:
        page = b.load(out.as_uri())
        assert page.load.errors == []
        assert page.js("document.querySelectorAll('svg.chart').length") == 6
        assert page.js("document.querySelector('th[data-sort]')") is None  # the script really did not run
        b.call("Emulation.setEmulatedMedia", {"media": "print"}, session=page.session)
        assert page.js("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
        pdf = b.call("Page.printToPDF", {"printBackground": False}, session=page.session)["data"]
        assert len(pdf) > 10_000


def test_tables_sort_when_javascript_runs(browser: Browser, sample_report: tuple[Path, Any]) -> None:
    out, _ = sample_report
    page = browser.load(out.as_uri())
    first = """(() => { const t = document.querySelectorAll('table.sortable')[1];
        return Array.from(t.tBodies[0].rows).map(r => r.cells[0].textContent); })()"""
    before = page.js(first)
    page.js("document.querySelectorAll('table.sortable')[1].querySelector('th').click()")
    assert page.js(first) == sorted(before)


# -- hostile log content ------------------------------------------------------------------------------
def _hostile_records() -> list[dict[str, Any]]:
    t0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    recs = [
        record("DescribeInstances", t0 + timedelta(minutes=i), userAgent="aws-cli/2.15.30", user="alice")
        for i in range(30)
    ]
    kali = f"aws-cli/1.16.312 Python/2.7.18 Linux/5.10.0-kali7-amd64 {HOSTILE}"
    recs.append(
        record(
            "GetCallerIdentity",
            t0 + timedelta(minutes=40),
            userAgent=kali,
            user=HOSTILE,
            source="sts.amazonaws.com",
            ip="203.0.113.66",
        )
    )
    recs.append(
        record(
            "StopLogging",
            t0 + timedelta(minutes=41),
            source="cloudtrail.amazonaws.com",
            user=HOSTILE,
            userAgent=kali,
            ip="203.0.113.66",
            requestParameters={"name": f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/{HOSTILE}"},
            readOnly=False,
        )
    )
    recs.append(
        record(
            HOSTILE,
            t0 + timedelta(minutes=42),
            user=HOSTILE,
            userAgent=kali,
            ip="203.0.113.66",
            errorCode=HOSTILE,
            errorMessage=HOSTILE,
            requestParameters={"bucketName": HOSTILE, "key": HOSTILE},
            readOnly=False,
        )
    )
    return recs


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-report")
    tree = root / "tree"
    write_log(tree, _hostile_records(), delivered=datetime(2026, 3, 10, 2, 50, tzinfo=UTC))
    # a file that fails to read, whose name is hostile (the failures table shows file names)
    bad = tree / "AWSLogs" / ACCOUNT / "CloudTrail" / "eu-west-1" / "2026" / "03" / "10"
    (bad / FILE_NAME).write_bytes(gzip.compress(b'{"Records": [{"eventTi'))
    ds = root / "ds"
    done = cli("ingest", str(tree), "-d", str(ds), "-q")
    assert done.returncode in (0, 2), done.stderr  # 2: the broken file, reported
    out = root / "hostile.html"
    done = cli("report", "-d", str(ds), "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_hostile_content_never_runs_and_is_shown_literally(browser: Browser, hostile_report: Path) -> None:
    html = hostile_report.read_text("utf-8")
    assert "\u202e" not in html and "\x1b" not in html and "\x85" not in html  # shown as escapes, never raw
    page = browser.load(hostile_report.as_uri())
    assert page.load.dialogs == []
    assert page.load.errors == []
    assert page.load.sent == [hostile_report.as_uri()]
    nodes = page.js(NO_PAYLOAD_NODES)
    assert nodes == {
        "scripts": 1,  # the report's own
        "styles": 1,
        "imgs": 0,
        "iframes": 0,
        "handlers": 0,
        "jsLinks": 0,
        "foreignSvg": 0,
    }
    text = page.js("document.body.innerText")
    shown = XSS + "\\u202eevil\\x1b[31m\\x85\\x9b\\x01\\u2066end"
    # the user agent (top user agents), the event name (top events), the error (top errors), the actor
    assert text.count(shown) >= 3, text[:2000]
    assert '<img src=x onerror=alert("xss-file")><script>alert(2)<_script>\\u202e\\x1b[31m.json.gz' in text
    # the trail name from the request parameters, drawn inside an SVG chart, as text
    labels = page.js("Array.from(document.querySelectorAll('svg.chart text')).map(t => t.textContent).join('\\n')")
    assert "<script>" in labels
    assert page.js("typeof window.alert") == "function"  # nothing replaced it either
    tips = page.js("Array.from(document.querySelectorAll('svg.chart title')).map(t => t.textContent).join('\\n')")
    assert shown in tips


def test_hostile_markdown_has_no_markup(tmp_path: Path, hostile_report: Path) -> None:
    ds = hostile_report.parent / "ds"
    out = tmp_path / "hostile.md"
    done = cli("report", "-d", str(ds), "-o", str(out), "--format", "md")
    assert done.returncode == 0, done.stderr
    text = out.read_text("utf-8")
    assert "<script" not in text and "<img" not in text and "](javascript" not in text
    assert "\u202e" not in text and "\x1b" not in text
    svg = "".join(p.read_text("utf-8") for p in sorted((tmp_path / "hostile-charts").glob("*.svg")))
    assert "<script" not in svg and "&lt;script&gt;" in svg
    json.dumps(text)  # plain text all the way
