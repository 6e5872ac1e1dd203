"""Issue 17: hostile and broken input beside good files.  Nothing good is lost, memory stays
bounded, every path seen is listed with its reason, every failure is one clear line.

Each test here failed on the code before the fix (the symptom named in its docstring).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pytest
from ct import record, write_log

from trailforensics.discovery import NOT_A_FILE, discover
from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.ingest.fileread import process_file
from trailforensics.ingest.summary import EXIT_FAILED_FILES, EXIT_OK
from trailforensics.ingest.tasks import FileTask
from trailforensics.normalize.rebuild import original_bytes, rebuild_record
from trailforensics.readers.decompress import RATIO_FLOOR, DecompressError, gunzip_strict

ONE = IngestOptions(workers=1)
GOOD = [record("ListUsers", event_id=f"good-{i}") for i in range(5)]


def events(ds: Path, where: str = "true") -> list[dict[str, Any]]:
    with Dataset(ds) as d:
        return d.sql(f"SELECT * FROM events WHERE {where} ORDER BY event_id").to_pylist()


def doc(*parts: str) -> bytes:
    return ('{"Records":[' + ",".join(parts) + "]}").encode()


def good_texts() -> list[str]:
    return [json.dumps(r) for r in GOOD]


# -- 1, 6, 7: the walk ---------------------------------------------------------------------------


def _odd_tree(tmp_path: Path) -> Path:
    src = tmp_path / "ev"
    folder = src / "a"
    folder.mkdir(parents=True)
    (folder / "aa.json").write_bytes(doc(good_texts()[0]))
    os.symlink("b-self", folder / "b-self")  # points to itself
    (folder / "zz.json").write_bytes(doc(good_texts()[1]))
    os.symlink("/nonexistent/x.json", folder / "dangling.json")
    os.symlink("..", folder / "loop")
    os.symlink("/dev/null", folder / "devnull")
    os.mkfifo(folder / "fifo")
    (src / "empty").mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.json").write_bytes(doc(good_texts()[2]))
    os.symlink(outside / "x.json", folder / "linked.json")
    return src


def test_a_self_link_is_reported_alone_and_its_siblings_are_read(tmp_path: Path) -> None:
    """Before: "cannot list directory: Too many levels of symbolic links" and the folder's files lost."""
    src = _odd_tree(tmp_path)
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 3 and summary.reconciles
    assert not summary.failures
    assert sorted(r["event_id"] for r in events(tmp_path / "ds")) == ["good-0", "good-1", "good-2"]


def test_a_link_into_an_unreadable_folder_costs_only_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "ev"
    src.mkdir()
    (src / "a.json").write_bytes(doc(good_texts()[0]))
    os.symlink(tmp_path / "locked" / "y.json", src / "b-locked.json")
    (src / "c.json").write_bytes(doc(good_texts()[1]))
    real_stat = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if str(path).endswith("b-locked.json") and kwargs.get("follow_symlinks", True):
            raise PermissionError(13, "Permission denied")  # as for a non-root user and a 000 folder
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    found = {Path(f.path).name: f for f in discover([src])}
    assert (
        found["b-locked.json"].error
        == "cannot read: Permission denied (symbolic link to " + str(tmp_path / "locked" / "y.json") + ")"
    )
    assert found["a.json"].error is None and found["c.json"].error is None


def test_every_path_seen_is_listed_with_its_reason(tmp_path: Path) -> None:
    """Before: the FIFO, the empty folder, the loop, the dangling link and /dev/null were not listed."""
    src = _odd_tree(tmp_path)
    summary = ingest([src], tmp_path / "ds", ONE)
    with Dataset(tmp_path / "ds") as d:
        files = {r["source_file"]: r for r in d.sql("SELECT * FROM files").to_pylist()}
    assert summary.files_seen == len(files) == 9
    expected = {
        "a/b-self": "symbolic link loop",
        "a/dangling.json": "dangling symbolic link",
        "a/loop": "folder loop",
        "a/devnull": "link to a character device",
        "a/fifo": "named pipe (FIFO)",
        "empty": "empty folder",
    }
    for name, fragment in expected.items():
        row = files[name]
        assert row["status"] == "skipped" and row["kind"] == NOT_A_FILE and fragment in row["reason"], row
    files_line = next(line for line in summary.lines() if line.startswith("files:"))
    assert files_line.startswith("files: 9 seen = 3 ingested + 0 unchanged + 6 skipped")
    again = ingest([src], tmp_path / "ds", ONE)  # a re-run reads nothing new and lists the same paths
    assert again.files_seen == 9 and again.rows_written == 0 and again.exit_code == EXIT_OK


def test_a_link_outside_the_tree_keeps_both_paths(tmp_path: Path) -> None:
    src = _odd_tree(tmp_path)
    found = {f.source_file: f for f in discover([src])}
    linked = found["a/linked.json"]
    assert linked.path == str(src / "a" / "linked.json")
    assert linked.resolved_path == str(tmp_path / "elsewhere" / "x.json")
    assert found["a/aa.json"].resolved_path is None
    task = FileTask(linked.path, linked.source_file, linked.kind, None, None, None, None, None, linked.size, 0)
    result, _ = process_file(task, "run")
    assert result.resolved_path == str(tmp_path / "elsewhere" / "x.json")


# -- 2: decompression bombs ------------------------------------------------------------------------


def _zeros_gzip(n_bytes: int) -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    step = 64 << 20
    parts = [co.compress(b"\0" * min(step, n_bytes - i)) for i in range(0, n_bytes, step)]
    return b"".join([*parts, co.flush()])


def test_a_bomb_is_named_and_stopped_early() -> None:
    """Before: inflated to 2 GiB, then "invalid JSON ... byte 0"."""
    bomb = _zeros_gzip(256 << 20)
    with pytest.raises(DecompressError, match=r"decompression bomb \(ratio [\d,]+:1, stopped at \d+ MB\)") as exc:
        gunzip_strict(bomb)
    stopped_mb = int(str(exc.value).rsplit("stopped at ", 1)[1].split()[0])
    assert stopped_mb * 1e6 < RATIO_FLOOR + (8 << 20)


def test_the_cap_follows_the_memory_setting() -> None:
    big = os.urandom(1 << 20).hex().encode() * 40  # 80 MB of text that compresses about 2:1: no bomb
    import gzip

    packed = gzip.compress(big, 1)
    assert gunzip_strict(packed, cap=100 << 20) == big
    with pytest.raises(DecompressError, match="the limit for one file"):
        gunzip_strict(packed, cap=64 << 20)


_RSS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from trailforensics.ingest import IngestOptions, ingest
    summary = ingest([sys.argv[1]], sys.argv[2], IngestOptions(workers=1))
    # VmHWM: this process's own peak (ru_maxrss would keep the forking parent's across exec)
    status = Path("/proc/self/status").read_text()
    peak = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]) * 1024
    print(json.dumps({"peak": peak, "rows": summary.rows_written, "failures": summary.failures}))
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc")
def test_peak_memory_of_bombs_beside_good_files(tmp_path: Path) -> None:
    """Peak RSS of ingesting three 1 GiB bombs beside good files, in a fresh process.

    Before: 2.1 GB for one bomb (inflated in full, then copied into a string).  The target is
    the memory setting (here 512 MiB), whatever the number of bombs.  Measured on the
    reference machine: 203 MB with no bomb, 224 MB with one, 225 MB with three.
    """
    src = tmp_path / "ev"
    write_log(src, GOOD)
    bomb = _zeros_gzip(1 << 30)
    base = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/10/111122223333_CloudTrail_eu-west-1_"
    for i in range(3):
        (src / f"{base}20260310T030{i}Z_bomb{i}.json.gz").write_bytes(bomb)
    env = {**os.environ, "TRAILFORENSICS_MEMORY_LIMIT": "512MiB"}
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(src), str(tmp_path / "ds")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\npeak RSS, 3 x 1 GiB gzip bombs + 5 good records: {got['peak'] / 1e6:.0f} MB (limit 537 MB)")
    assert got["rows"] == 5
    assert len(got["failures"]) == 3 and all("decompression bomb" in why for _, why in got["failures"])
    assert got["peak"] <= 512 << 20


# -- 3, 5: damage costs only what it touches ---------------------------------------------------------


def test_two_records_arrays_keep_both_and_are_reported(tmp_path: Path) -> None:
    """Before: `{"Records":[a],"Records":[b]}` kept only b, silently."""
    a, b = good_texts()[:2]
    src = tmp_path / "ev"
    write_log(src, [], raw=('{"Records":[' + a + '],"Records":[' + b + "]}").encode())
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 2 and summary.reconciles
    assert any("2 Records arrays" in why for _, why in summary.file_notes)


def test_invalid_utf8_costs_only_its_value(tmp_path: Path) -> None:
    """Before: one invalid byte failed the whole file ("invalid UTF-8 at byte N"): 5 good records lost."""
    odd = record("GetObject", event_id="odd")
    odd_bytes = json.dumps(odd).encode().replace(b"aws-cli/", b"aws-\xffcli/")
    src = tmp_path / "ev"
    write_log(src, [], raw=b'{"Records":[' + b",".join([t.encode() for t in good_texts()] + [odd_bytes]) + b"]}")
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 6 and summary.exit_code == EXIT_OK and summary.reconciles
    assert any("invalid UTF-8" in why for _, why in summary.file_notes)
    (row,) = events(tmp_path / "ds", "event_id = 'odd'")
    assert row["user_agent"].startswith("aws-\\xffcli/")
    assert original_bytes(row) == odd_bytes  # the exact original, byte for byte
    rebuilt = rebuild_record(row)
    assert rebuilt == {**odd, "userAgent": row["user_agent"]}
    for good in events(tmp_path / "ds", "event_id LIKE 'good-%'"):
        assert original_bytes(good) is None


def test_an_over_deep_record_is_rejected_alone_and_counted(tmp_path: Path) -> None:
    """Before: a record nested 5,000 levels deep failed its file (the 5 good records lost)."""
    deep = json.dumps(record("GetObject", event_id="deep")).replace(
        '"filterSet": {}', '"filterSet": ' + "[" * 5000 + "]" * 5000
    )
    src = tmp_path / "ev"
    write_log(src, [], raw=doc(*good_texts(), deep))
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.rows_written == 5 and summary.records_rejected == 1 and summary.records_read == 6
    assert summary.reconciles and summary.exit_code == EXIT_FAILED_FILES
    assert "nested too deeply" in summary.partly_read[0][1]


# -- 9: 128-bit integers in every format -------------------------------------------------------------

HUGE = "170141183460469231731687303715884105727"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
def test_hugeint_renders_exactly(tmp_path: Path, fmt: str) -> None:
    """Before: `sql -f json` printed a traceback ("Integer exceeds 64-bit range")."""
    src = tmp_path / "ev"
    write_log(src, GOOD[:1])
    ingest([src], tmp_path / "ds", ONE)
    query = f"SELECT -{HUGE}::HUGEINT AS low, {HUGE}::HUGEINT AS high, sum(hash(event_id))::HUGEINT AS h FROM events"
    out = subprocess.run(
        [str(Path(sys.executable).parent / "trailforensics"), "sql", "-d", str(tmp_path / "ds"), "-f", fmt, query],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert f"-{HUGE}" in out.stdout and HUGE in out.stdout.replace(f"-{HUGE}", "")


def test_hugeint_to_parquet(tmp_path: Path) -> None:
    import duckdb
    import pyarrow.parquet as pq

    from trailforensics.output.formats import write_table

    table = duckdb.sql(f"SELECT {HUGE}::HUGEINT AS high").to_arrow_table()
    write_table(table, "parquet", tmp_path / "h.parquet")
    assert str(pq.read_table(tmp_path / "h.parquet").column(0)[0].as_py()) == HUGE


def test_the_manifest_records_both_paths_of_a_link(tmp_path: Path) -> None:
    src = _odd_tree(tmp_path)
    assert ingest([src], tmp_path / "ds-links", ONE).committed
    from trailforensics import Dataset

    with Dataset(tmp_path / "ds-links") as ds:
        rows = {r["source_file"]: r for r in ds.sql("SELECT source_file, path, resolved_path FROM files").to_pylist()}
    assert rows["a/linked.json"]["path"] == str(src / "a" / "linked.json")
    assert rows["a/linked.json"]["resolved_path"] == str(tmp_path / "elsewhere" / "x.json")
    assert rows["a/aa.json"]["resolved_path"] is None


# -- 8: a full disk is one clear line ----------------------------------------------------------------

_DISK_FULL = """
import errno, sys
from trailforensics.store import writer

def full(self, *args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", str(self.root / "events" / "part.parquet"))

writer.EventWriter._flush = full
from trailforensics.cli import main
sys.argv = ["trailforensics", "ingest", *sys.argv[1:]]
main()
"""


def test_a_full_disk_is_one_line_and_nothing_is_committed(tmp_path: Path) -> None:
    import subprocess
    import sys

    sample = Path(__file__).resolve().parent.parent / "sample_logs"
    ds = tmp_path / "ds"
    proc = subprocess.run(
        [sys.executable, "-c", _DISK_FULL, str(sample), "-d", str(ds), "-j", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "Exception ignored" not in output, output
    aborted = [ln for ln in proc.stderr.splitlines() if ln.startswith("ABORTED")]
    assert len(aborted) == 1 and "no space left on device while writing" in aborted[0], proc.stderr
    assert aborted[0].endswith("nothing committed")
    snapshot = json.loads((ds / "_snapshot.json").read_text())
    assert not snapshot["tables"].get("events")
    assert not list((ds / ".staging").glob("*")) if (ds / ".staging").exists() else True


def test_os_error_line() -> None:
    import errno

    from trailforensics.ingest.worker import os_error_line

    assert os_error_line(OSError(errno.ENOSPC, "No space left on device", "/d/x.parquet")) == (
        "no space left on device while writing /d/x.parquet; nothing committed"
    )
    assert os_error_line(OSError(errno.EIO, "Input/output error")) == "Input/output error; nothing committed"


# -- 4: a key given twice inside a record ---------------------------------------------------------


def test_a_key_given_twice_is_kept_and_flagged(tmp_path: Path) -> None:
    good = [record(event_id=f"00000000-0000-4000-8000-00000000000{i}") for i in range(3)]
    dup_top = json.dumps(record(event_id="00000000-0000-4000-8000-0000000000aa"), separators=(",", ":"))
    dup_top = dup_top[:-1] + ',"userAgent":"innocent/1.0"}'  # the second userAgent wins in most parsers
    dup_nested = json.dumps(
        record(event_id="00000000-0000-4000-8000-0000000000bb", requestParameters={"bucketName": "a"}),
        separators=(",", ":"),
    ).replace('{"bucketName":"a"}', '{"bucketName":"a","bucketName":"b"}')
    body = ",".join([json.dumps(r, separators=(",", ":")) for r in good] + [dup_top, dup_nested])
    src = tmp_path / "src"
    src.mkdir()
    (src / "dups.json").write_text('{"Records":[' + body + "]}")
    summary = ingest([src], tmp_path / "ds", ONE)
    assert summary.committed and summary.rows_written == 5 and summary.records_rejected == 0
    with Dataset(tmp_path / "ds") as ds:
        rows = {r["event_id"]: r for r in ds.sql("SELECT * FROM events").to_pylist()}
        notes = ds.sql("SELECT reason FROM files WHERE source_file = 'dups.json'").to_pylist()
    top = rows["00000000-0000-4000-8000-0000000000aa"]
    assert top["user_agent"] == "innocent/1.0"
    flagged = json.loads(top["original_values"])
    assert flagged["$duplicate_keys"] == ["userAgent"]
    assert original_bytes(top) == dup_top.encode()
    # inside a JSON part the stored text is the original's: both values are there, nothing to flag
    nested = rows["00000000-0000-4000-8000-0000000000bb"]
    assert nested["request_parameters"] == '{"bucketName":"a","bucketName":"b"}'
    for eid in (r["eventID"] for r in good):
        assert rows[eid]["original_values"] is None or "$duplicate" not in rows[eid]["original_values"]
        assert rebuild_record(rows[eid]) == next(r for r in good if r["eventID"] == eid)
    assert any("key given twice" in (n["reason"] or "") for n in notes), notes
