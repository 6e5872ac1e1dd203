"""The rest of a responder's first day with the CLI: the tool's version in every JSON summary, `ingest -q`
still saying why it failed, a source with nothing to ingest is an error, an empty dataset is one line,
`s3://` says how to read S3, `compact -d`, Ctrl-C between detections, and progress bars on a terminal
(a real pseudo-terminal) but never in a pipe."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ct import simple_tree
from test_cli_habits import CLI, SAMPLE, run_pty
from typer.testing import CliRunner

from trailforensics import __version__
from trailforensics.cli import _register_commands, app
from trailforensics.output.provenance import VERSION_KEY

_register_commands()


@pytest.fixture(scope="module")
def ds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("day-one") / "ds"
    run = subprocess.run([*CLI, "ingest", str(SAMPLE), "-d", str(path), "--json"], capture_output=True, check=True)
    doc = json.loads(run.stdout)
    assert next(iter(doc)) == VERSION_KEY and doc[VERSION_KEY] == __version__
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True)


# -- the version in every JSON summary (chain of custody) ---------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["summary", "-f", "json"],
        ["hunt", "-f", "json", "--only", "cloudtrail_tampering"],
        ["trails", "-f", "json"],
        ["coverage", "-f", "json"],
    ],
)
def test_json_summaries_start_with_the_tool_version(ds: Path, args: list[str]) -> None:
    run = cli(*args, "-d", str(ds))
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert next(iter(doc)) == VERSION_KEY and doc[VERSION_KEY] == __version__


def test_verify_json_has_the_version_and_row_streams_do_not(ds: Path) -> None:
    keys = SAMPLE / "_verification" / "public-keys.json"
    run = cli("verify", str(SAMPLE), "--public-keys", str(keys), "-f", "json")
    doc = json.loads(run.stdout)  # the sample's verdict is "a log file was deleted": exit code not 0
    assert next(iter(doc)) == VERSION_KEY and doc[VERSION_KEY] == __version__ and "findings" in doc
    rows = cli("hunt", "-d", str(ds), "-f", "jsonl", "--only", "cloudtrail_tampering").stdout.splitlines()
    assert rows and all(VERSION_KEY not in json.loads(r) for r in rows)
    assert isinstance(json.loads(cli("timeline", "-d", str(ds), "--limit", "2", "-f", "json").stdout), list)


def test_the_ingest_run_stored_in_the_dataset_names_the_version(ds: Path) -> None:
    runs = [json.loads(p.read_text()) for p in (ds / "runs").glob("*.json")]
    assert len(runs) == 1 and runs[0][VERSION_KEY] == __version__ and runs[0]["committed"] is True


# -- ingest: quiet is not silent, and nothing to ingest is an error ---------------------------------
def test_quiet_ingest_still_prints_why_it_aborted(tmp_path: Path) -> None:
    run = cli("ingest", str(tmp_path / "no-such-folder"), "-d", str(tmp_path / "ds"), "-q")
    assert run.returncode == 1
    assert run.stdout == "" and run.stderr == f"ABORTED: source does not exist: {tmp_path / 'no-such-folder'}\n"


def test_quiet_ingest_prints_failed_files_only(tmp_path: Path) -> None:
    simple_tree(tmp_path / "src", files=1, per_file=3)
    bad = tmp_path / "src" / "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/10/broken.json.gz"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(gzip.compress(b'{"Records": [{"eventVersion": "1.08", "eventTi')[:-8])  # cut short
    run = cli("ingest", str(tmp_path / "src"), "-d", str(tmp_path / "ds"), "-q")
    assert run.returncode == 2 and run.stdout == ""
    assert [line.split(" ", 1)[0] for line in run.stderr.splitlines()] == ["FAILED"]


@pytest.mark.parametrize("quiet", [False, True])
def test_an_empty_folder_is_nothing_ingestable(tmp_path: Path, quiet: bool) -> None:
    (tmp_path / "evidence").mkdir()
    run = cli("ingest", str(tmp_path / "evidence"), "-d", str(tmp_path / "ds"), *(["-q"] if quiet else []))
    assert run.returncode == 2
    warning = [line for line in run.stderr.splitlines() if line.startswith("WARNING")]
    assert warning == [
        "WARNING: nothing ingestable in the sources named: no CloudTrail log or digest file (1 skipped: 1 empty folder)"
    ]


def test_a_file_that_is_not_cloudtrail_is_nothing_ingestable(tmp_path: Path) -> None:
    notes = tmp_path / "notes.json"
    notes.write_text('{"case": 42}')
    run = cli("ingest", str(notes), "-d", str(tmp_path / "ds"), "--json")
    doc = json.loads(run.stdout)
    assert run.returncode == 2 and doc["exit_code"] == 2 and doc["nothing_ingestable"] is True


def test_digests_alone_or_logs_beside_an_empty_folder_are_fine(tmp_path: Path) -> None:
    digests = tmp_path / "digests" / "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/03/10"
    digests.mkdir(parents=True)
    name = "111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260310T010000Z.json.gz"
    (digests / name).write_bytes(gzip.compress(b"{}"))
    run = cli("ingest", str(tmp_path / "digests"), "-d", str(tmp_path / "ds1"))
    assert run.returncode == 0 and "WARNING" not in run.stderr
    simple_tree(tmp_path / "logs", files=1, per_file=2)
    (tmp_path / "logs" / "empty").mkdir()
    run = cli("ingest", str(tmp_path / "logs"), "-d", str(tmp_path / "ds2"))
    assert run.returncode == 0 and "WARNING" not in run.stderr
    again = cli("ingest", str(tmp_path / "logs"), "-d", str(tmp_path / "ds2"))  # everything unchanged
    assert again.returncode == 0 and "WARNING" not in again.stderr


@pytest.mark.parametrize("url", ["s3://case-bucket/AWSLogs/", "s3a://case-bucket/AWSLogs"])
def test_an_s3_url_says_how_to_read_s3(tmp_path: Path, url: str) -> None:
    run = cli("ingest", url, "-d", str(tmp_path / "ds"))
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"error: {url.rstrip('/')}: S3 is not read directly")
    assert "aws s3 sync s3://case-bucket/AWSLogs ./evidence" in run.stderr and "--engine spark" in run.stderr
    assert not (tmp_path / "ds").exists()


# -- hunt -----------------------------------------------------------------------------------------
def test_hunting_an_empty_dataset_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    cli("ingest", str(tmp_path / "empty"), "-d", str(tmp_path / "ds"), "-q")
    run = cli("hunt", "-d", str(tmp_path / "ds"))
    assert run.returncode == 0 and run.stdout == ""
    assert (
        run.stderr
        == f"the dataset {tmp_path / 'ds'} is empty: no events to hunt in (ingest CloudTrail logs into it first)\n"
    )


def test_ctrl_c_swallowed_by_duckdb_stops_before_the_next_detection(ds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trailforensics.cli as cli_module
    from trailforensics.hunt import runner

    ran: list[str] = []

    def interrupted_query(ds: Any, det: Any, *args: Any) -> Any:
        ran.append(det.id)
        cli_module._interrupted = True  # what the SIGINT handler does; DuckDB then raises its own error
        raise RuntimeError("INTERRUPT Error: Interrupted!")

    monkeypatch.setattr(runner, "run_detection", interrupted_query)
    monkeypatch.setattr(cli_module, "_interrupted", False)
    r = CliRunner().invoke(app, ["hunt", "-d", str(ds)])
    assert r.exit_code == 130 and r.stderr == "interrupted, nothing committed\n"
    assert len(ran) == 1


def test_run_hunt_calls_back_before_each_detection_and_stops_when_told(ds: Path) -> None:
    from trailforensics.engine import Dataset
    from trailforensics.hunt import run_hunt

    seen: list[str] = []

    def stop_at_third(det_id: str) -> None:
        if len(seen) == 2:
            raise KeyboardInterrupt
        seen.append(det_id)

    dataset = Dataset(ds)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_hunt(dataset, before_each=stop_at_third)
        assert len(seen) == 2
        result = run_hunt(dataset, only=["cloudtrail_tampering", "mfa_tampering"], before_each=seen.append)
        assert seen[2:] == ["cloudtrail_tampering", "mfa_tampering"] and result.summary.num_rows == 2
    finally:
        dataset.close()


# -- compact -d -------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", [["-d"], [], ["env"]])
def test_compact_takes_the_dataset_like_every_command(tmp_path: Path, form: list[str]) -> None:
    ds = tmp_path / "ds"
    for seed in (1, 2):
        simple_tree(tmp_path / f"src{seed}", files=2, per_file=3, seed=seed)
        assert cli("ingest", str(tmp_path / f"src{seed}"), "-d", str(ds), "-q").returncode == 0
    before = len(list((ds / "events").rglob("*.parquet")))
    if form == ["env"]:
        env = {**os.environ, "TRAILFORENSICS_DATASET": str(ds)}
        run = subprocess.run([*CLI, "compact"], capture_output=True, text=True, env=env)
    else:
        run = cli("compact", *form, str(ds))
    assert run.returncode == 0, run.stderr
    assert len(list((ds / "events").rglob("*.parquet"))) < before
    assert cli("sql", "-d", str(ds), "SELECT count(*) AS n FROM events", "-f", "csv").stdout == "n\n12\n"


# -- progress bars: on a terminal, never in a pipe ----------------------------------------------------
def test_hunt_shows_a_bar_per_detection_on_a_terminal_and_nothing_in_a_pipe(ds: Path) -> None:
    code, shown = run_pty(["hunt", "-d", str(ds), "--min-severity", "high"])
    assert code == 0, shown
    from trailforensics.hunt.loader import load_detections
    from trailforensics.hunt.runner import select_detections

    total = len(select_detections(load_detections(), min_severity="high"))
    counts = {int(m) for m in re.findall(rf"hunt \[[#-]+\] (\d+)/{total} ", shown)}
    assert counts == set(range(total))  # one redraw per detection (at least), before it runs
    cleared = re.search(r"\r +\r", shown)  # the bar is blanked out before the summary is printed
    assert cleared and "hit(s) from" in shown[cleared.end() :] and "hunt [" not in shown[cleared.end() :]
    piped = cli("hunt", "-d", str(ds), "--min-severity", "high")
    assert "hunt [" not in piped.stderr and "\r" not in piped.stderr


def test_generate_compact_and_report_show_progress_on_a_terminal_only(ds: Path, tmp_path: Path) -> None:
    code, shown = run_pty(["generate", str(tmp_path / "gen"), "--events", "3000", "-j", "1"])
    assert code == 0 and "generate [" in shown and "wrote " in shown
    piped = cli("generate", str(tmp_path / "gen2"), "--events", "3000", "-j", "1")
    assert piped.returncode == 0 and "generate [" not in piped.stderr + piped.stdout
    code, shown = run_pty(["report", "-d", str(ds), "-o", str(tmp_path / "r.html")])
    assert code == 0 and "report ... " in shown
    assert f"trailforensics {__version__}" in (tmp_path / "r.html").read_text()
    piped = cli("report", "-d", str(ds), "-o", str(tmp_path / "r2.html"))
    assert piped.returncode == 0 and "report ... " not in piped.stderr
    simple_tree(tmp_path / "src", files=2, per_file=3)
    cli("ingest", str(tmp_path / "src"), "-d", str(tmp_path / "small"), "-q")
    code, shown = run_pty(["compact", "-d", str(tmp_path / "small")])
    assert code == 0 and "compact ... " in shown
    piped = cli("compact", "-d", str(tmp_path / "small"))
    assert piped.returncode == 0 and "compact ... " not in piped.stderr + piped.stdout
