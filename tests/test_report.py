"""The incident report without a browser: its facts match the APIs it is built from, it is bounded,
it escapes, and the Markdown carries the same sections.  (Browser tests: test_report_browser.py.)"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from trailforensics.engine.dataset import Dataset
from trailforensics.hunt import run_hunt
from trailforensics.hunt.loader import load_detections
from trailforensics.ingest import ingest
from trailforensics.ingest.pipeline import IngestOptions
from trailforensics.report import ReportOptions, gather, write_report
from trailforensics.report.attack import UNMAPPED, tactics_of, technique_ids
from trailforensics.report.escape import h, md
from trailforensics.report.html import SECTIONS, render_html

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs"
MAX_BYTES = 5 * 1024 * 1024
_MAIN = "import sys; from trailforensics.cli import main; sys.argv[0] = 'trailforensics'; main()"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _MAIN, *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def sample_ds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SAMPLE.is_dir():
        pytest.skip("sample_logs/ is not present")
    path: Path = tmp_path_factory.mktemp("report-sample") / "ds"
    ingest([SAMPLE], path, IngestOptions(workers=1))
    done = cli(
        "verify", str(SAMPLE), "--public-keys", str(SAMPLE / "_verification" / "public-keys.json"), "-d", str(path)
    )
    assert done.returncode in (0, 8), done.stderr  # 8: the deleted log file of the storyline
    return path


@pytest.fixture(scope="module")
def data(sample_ds: Path) -> Any:
    with Dataset(sample_ds) as ds:
        return gather(ds, ReportOptions(title="Metrolio"))


# -- escaping --------------------------------------------------------------------------------------
PAYLOADS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    'javascript:alert("x")',
    "</style><b>x</b>",
    "\"'><svg onload=alert(1)>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_escape_leaves_no_markup(payload: str) -> None:
    out = h(payload)
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert (
        out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        == payload
    )


def test_controls_and_bidi_are_shown_as_escapes() -> None:
    assert h("a\u202eb\x1b[31mc\x85d\x00e\u2028f") == "a\\u202eb\\x1b[31mc\\x85d\\x00e\\u2028f"
    assert md("a\u202eb\nc") == "a\\u202eb\\nc"  # a backslash before a letter is literal Markdown


MD_PAYLOADS = [
    *PAYLOADS,
    "[x](javascript:alert(1))",
    "![i](http://e/x.png)",
    "*bold* _it_ `code` | pipe ~~gone~~ **b** __u__",
    "<http://evil.example> http://evil.example/x www.evil.example me@evil.example",
    "&amp; &#60; &copy; & plain",
    "a\\*b \\ c\\ \\[x](y) \\_x_",
    "[ref]: http://x",
    "<!-- comment -->",
    "a\u202eb\x1b[31mc\nd\u2028e",
]


def _markdown() -> Any:
    from markdown_it import MarkdownIt  # rich's Markdown parser: CommonMark + GitHub tables and strike-through

    return MarkdownIt("commonmark").enable("table").enable("strikethrough")


@pytest.mark.parametrize("payload", MD_PAYLOADS)
def test_markdown_escape_renders_literally(payload: str) -> None:
    from markdown_it.common.utils import escapeHtml

    from trailforensics.report.escape import visible

    # a real renderer shows exactly the visible text: no tag, link, image, emphasis, code or entity
    assert _markdown().renderInline(md(payload)) == escapeHtml(visible(payload))
    # GitHub also links bare URLs and e-mail addresses: the escapes break each of them
    assert not re.search(r"(?<!\\)://|www\.|\w@\w", md(payload))
    # a table cell stays one cell
    html = _markdown().render(f"| a | b |\n|---|---|\n| {md(payload)} | z |\n")
    assert html.count("<td>") == 2 and "<td>z</td>" in html


def test_markdown_escape_leaves_ordinary_values_readable() -> None:
    for value in (
        "arn:aws:iam::483920175562:user/svc_backup_sync",
        "AWSReservedSSO_AdministratorAccess_1a2b",
        "aws-cli/2.15.0 Python/3.11.6 Linux/6.5 exe/x86_64.ubuntu.22 prompt/off",
        "s3.amazonaws.com",
        "2026-03-10T02:14:55Z",
        "AccessDenied: user is not authorized (ListBuckets) > 5 times; ratio 1.5",
    ):
        assert md(value) == value


# -- ATT&CK ------------------------------------------------------------------------------------------
def test_every_builtin_technique_has_a_tactic() -> None:
    ids = {tid for det in load_detections() for tid in technique_ids(", ".join(det.attack))}
    assert ids, "no technique ids read from the detections"
    assert {tid for tid in ids if tactics_of(tid) == (UNMAPPED,)} == set()


def test_technique_ids_parse_sigma_and_lists() -> None:
    assert technique_ids("T1078.004, T1580") == ["T1078.004", "T1580"]
    assert technique_ids("attack.t1098.001; TA0003") == ["T1098.001"]
    assert tactics_of("T1562.999") == ("Defense Evasion",)  # unknown sub-technique: its parent's
    assert tactics_of("T9999") == (UNMAPPED,)


# -- the sample incident -------------------------------------------------------------------------------
def test_findings_are_the_hunts(sample_ds: Path, data: Any) -> None:
    assert not data.hunt.errors, data.hunt.errors  # every detection ran in the report's hunt
    with Dataset(sample_ds) as ds:
        hunt = run_hunt(ds)
    assert not hunt.errors, hunt.errors
    assert [f.detection_id for f in data.findings] == [r["detection_id"] for r in hunt.summary.to_pylist() if r["hits"]]
    assert sum(f.hits for f in data.findings) == hunt.hits.num_rows
    high = [t for s, t in zip(hunt.hits["severity"].to_pylist(), hunt.hits["event_time"].to_pylist()) if s == "high"]
    assert data.incident == (min(high), max(high))


def test_attackers_path_starts_at_the_stolen_key(data: Any) -> None:
    # sample_logs/README.md: daniel.kowalski's key -> svc-backup-sync's key -> deploy role -> data-admin role
    ids = {n.access_key for n in data.path.nodes}
    assert {"AKIA5DKW7QHNMV2XRP4L", "AKIAR7QZ3M5LXB2K6PYD", "ASIAXQ4KD7TNZ2VWJ5RB", "ASIAV6MC3PLH7RY2EQTN"} <= ids
    origin = min(data.path.nodes, key=lambda n: n.depth)
    assert origin.principal == "arn:aws:iam::483920175562:user/daniel.kowalski"
    by_key = {n.access_key: n.id for n in data.path.nodes if n.access_key}
    assert (by_key["AKIA5DKW7QHNMV2XRP4L"], by_key["AKIAR7QZ3M5LXB2K6PYD"]) in data.path.edges


def test_activity_comes_from_rollups_and_matches_a_scan(sample_ds: Path, data: Any) -> None:
    with Dataset(sample_ds) as ds:
        assert ds.has_rollups
        total = ds.sql("SELECT count(*) AS n FROM events WHERE event_time IS NOT NULL")["n"][0].as_py()
        errors = ds.sql("SELECT count(error_code) AS n FROM events")["n"][0].as_py()
        scanned = gather(ds, ReportOptions(since=datetime(2000, 1, 1, tzinfo=timezone.utc)))  # a window: a scan
    assert sum(data.activity.counts["events"].to_pylist()) == total
    assert sum(data.activity.errors["errors"].to_pylist()) == errors
    assert scanned.activity.counts.to_pylist() == data.activity.counts.to_pylist()
    assert data.activity.series_by == "account" and len(data.activity.series) == 4


def test_verification_status_is_reported(data: Any) -> None:
    v = data.verification
    assert v is not None
    statuses = {(r["kind"], r["status"]): r["files"] for r in v.files.to_pylist()}
    assert statuses[("cloudtrail", "missing")] == 1  # the deleted log file


def test_html_report_is_complete_and_bounded(sample_ds: Path, tmp_path: Path) -> None:
    out = tmp_path / "case.html"
    with Dataset(sample_ds) as ds:
        result = write_report(ds, out, ReportOptions(title="Case <42>", evidence_cap=1))
    text = out.read_text("utf-8")
    assert result.bytes == len(text.encode()) <= MAX_BYTES
    for key, title in SECTIONS:
        assert f'<section id="{key}"><h2>' in text and h(title) in text
    assert "<title>Case &lt;42&gt;</title>" in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "@media print" in text
    # capped evidence: the note says how many rows are left out and how to list them
    assert re.search(
        r"1 more evidence rows not shown\. All of them: <code>trailforensics hunt -d \S+ --only "
        r"cloudtrail_tampering -f csv</code>",
        text,
    )
    assert set(result.charts) == {"activity", "coverage", "path", "severity", "trails", "verification"}
    # no reference to anything outside the file
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?!["'#])""", text)


def test_markdown_has_the_same_sections_and_linked_charts(sample_ds: Path, tmp_path: Path) -> None:
    out = tmp_path / "ticket.md"
    done = cli("report", "-d", str(sample_ds), "-o", str(out), "--format", "md")
    assert done.returncode == 0, done.stderr
    text = out.read_text("utf-8")
    for i, (_key, title) in enumerate(SECTIONS, 1):
        assert f"## {i}. {md(title)}" in text
    for name in ("activity", "path", "trails", "coverage", "severity"):
        svg = tmp_path / "ticket-charts" / f"{name}.svg"
        assert f"](ticket-charts/{name}.svg)" in text
        assert svg.read_text("utf-8").startswith('<svg xmlns="http://www.w3.org/2000/svg"')


def test_cli_prints_the_path_and_rejects_a_bad_format(sample_ds: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    done = cli("report", "-d", str(sample_ds), "-o", str(out), "--since", "2026-03-10T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    assert out.stat().st_size > 10_000
    bad = cli("report", "-d", str(sample_ds), "-o", str(out), "--format", "pdf")
    assert bad.returncode == 1 and "--format must be one of html, md" in bad.stderr


def test_failed_detections_are_flagged_in_the_overview_and_listed_in_the_appendix(
    sample_ds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trailforensics.hunt.runner as runner
    from trailforensics.report.markdown import render_markdown

    real = runner.run_detection

    def broken(ds: Dataset, det: Any, *args: Any, **kwargs: Any) -> Any:
        if det.id == "cloudtrail_tampering":
            raise RuntimeError("Binder Error: <b>no such column</b>")
        return real(ds, det, *args, **kwargs)

    monkeypatch.setattr(runner, "run_detection", broken)
    with Dataset(sample_ds) as ds:
        data = gather(ds, ReportOptions())
    assert [d for d, _ in data.hunt.errors] == ["cloudtrail_tampering"]
    text = render_html(data)
    overview = text[text.index('<section id="overview">') : text.index('<section id="activity">')]
    assert "INCOMPLETE HUNT: 1 detection(s) failed" in overview and "cloudtrail_tampering" in overview
    appendix = text[text.index('<section id="appendix">') :]
    failures = appendix[appendix.index('id="hunt-failures"') :]
    assert "cloudtrail_tampering" in failures and "&lt;b&gt;no such column&lt;/b&gt;" in failures
    assert "trailforensics hunt -d" in failures and "--only cloudtrail_tampering" in failures
    markdown = render_markdown(data)
    assert "**INCOMPLETE HUNT**: 1 detection(s) failed" in markdown
    assert re.search(r"\| cloudtrail_tampering \| .*&lt;b>no such column&lt;/b> \|", markdown)


def test_report_of_an_empty_window_still_renders(sample_ds: Path) -> None:
    with Dataset(sample_ds) as ds:
        data = gather(ds, ReportOptions(since=datetime(2030, 1, 1, tzinfo=timezone.utc)))
    assert data.findings == [] and data.incident is None and data.activity.counts.num_rows == 0
    text = render_html(data)
    assert "The hunt found nothing." in text
