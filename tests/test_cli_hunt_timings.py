"""`hunt --timings`: seconds per detection on stderr, most expensive first, with a total."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trailforensics.cli import _register_commands, app
from trailforensics.cli.hunt_cmd import timing_lines

_register_commands()

ROW = re.compile(r"^  (\S+(?: \S+)?)\s+(\d+\.\d{3})$")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.ct import simple_tree
    from trailforensics.ingest import IngestOptions, ingest

    root = tmp_path_factory.mktemp("timings")
    simple_tree(root / "src", files=2, per_file=5)
    ingest([root / "src"], root / "ds", IngestOptions(workers=1))
    return root / "ds"


def test_timing_lines_sorted_most_expensive_first_with_a_total() -> None:
    lines = timing_lines({"cheap": 0.25, "dear": 2.0, "middle": 1.0, "also_cheap": 0.25}, wall=3.75)
    assert lines[0] == "timings (seconds, most expensive first):"
    rows = [ROW.match(line) for line in lines[1:]]
    assert all(rows), lines
    names = [m.group(1) for m in rows if m]
    assert names == ["dear", "middle", "also_cheap", "cheap", "total", "wall clock"]
    assert [m.group(2) for m in rows if m][-2:] == ["3.500", "3.750"]


def test_hunt_timings_go_to_stderr_after_the_hunt(dataset: Path) -> None:
    only = "mfa_tampering,recon_burst,leave_organization"
    r = CliRunner().invoke(app, ["hunt", "-d", str(dataset), "--only", only, "--timings", "-f", "json"])
    assert r.exit_code == 0, r.output
    assert "timings" not in r.stdout  # the hits stay machine-readable
    err = r.stderr.splitlines()
    start = err.index("timings (seconds, most expensive first):")
    assert "hit(s) from" in err[start - 1]
    rows = [ROW.match(line) for line in err[start + 1 :]]
    assert all(rows), err
    named = {m.group(1): float(m.group(2)) for m in rows if m}
    assert set(named) == set(only.split(",")) | {"total", "wall clock"}
    detections = [named[d] for d in only.split(",")]
    order = [m.group(1) for m in rows if m][:3]
    assert [named[d] for d in order] == sorted(detections, reverse=True)
    assert named["total"] == pytest.approx(sum(detections), abs=0.002)
    assert named["wall clock"] >= named["total"] - 0.002


def test_no_timings_without_the_option(dataset: Path) -> None:
    r = CliRunner().invoke(app, ["hunt", "-d", str(dataset), "--only", "mfa_tampering"])
    assert r.exit_code == 0, r.output
    assert "timings" not in r.stderr
