"""`make bench`: measured figures next to a baseline computed in the same run.

    python -m trailforensics.bench [--events 2000000] [--small 200000] [--out .bench]
    python -m trailforensics.bench --scale [--events 10000000] [--tree DIR]   (`make bench-scale`)

* ingest: records/s, MB/s and peak RSS (the whole process tree, sampled from /proc) for
  trailforensics and for a DuckDB-native ingest of the same tree (explicit schema, JSON
  columns), at two sizes (memory must stay flat as the input grows); a no-op re-run;
* queries: median latency of a one-principal two-hour timeline, a top-N and a JSON-field
  filter, next to the same answers computed by DuckDB over the raw .json.gz tree;
* verify: throughput next to the plain gunzip+SHA-256 floor of the same files;
* hunt: all built-in detections over the large dataset;
* spark: ``ingest --engine spark`` (``local[cores]``) of the large tree and ``hunt --engine spark``
  on the local dataset, next to the local engine's figures of the same run (skipped, with the
  reason, when pyspark or a Java runtime is missing).

``--scale`` runs the one-machine scale tier instead: on a 10 M-event tree (or ``--tree``), the
time and peak RSS of each command (ingest, compact), with the DuckDB-native ingest of the same
tree as the baseline in the same run.

Trees are generated once and cached under ``--out``.  This is a benchmark, not a test: it
prints figures and never fails on them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DUCK_COLUMNS = {
    "eventVersion": "VARCHAR",
    "userIdentity": "JSON",
    "eventTime": "VARCHAR",
    "eventSource": "VARCHAR",
    "eventName": "VARCHAR",
    "awsRegion": "VARCHAR",
    "sourceIPAddress": "VARCHAR",
    "userAgent": "VARCHAR",
    "errorCode": "VARCHAR",
    "errorMessage": "VARCHAR",
    "requestParameters": "JSON",
    "responseElements": "JSON",
    "additionalEventData": "JSON",
    "requestID": "VARCHAR",
    "eventID": "VARCHAR",
    "readOnly": "BOOLEAN",
    "resources": "JSON",
    "eventType": "VARCHAR",
    "apiVersion": "VARCHAR",
    "managementEvent": "BOOLEAN",
    "recipientAccountId": "VARCHAR",
    "sharedEventID": "VARCHAR",
    "vpcEndpointId": "VARCHAR",
    "eventCategory": "VARCHAR",
    "serviceEventDetails": "JSON",
    "insightDetails": "JSON",
    "tlsDetails": "JSON",
    "sessionCredentialFromConsole": "VARCHAR",
}


# -- measuring ------------------------------------------------------------------------------
class RssSampler:
    """Peak resident memory of this process and all its descendants (sampled every 20 ms), or only
    of the descendants (``children_only``: a command run as a subprocess, without the bench itself)."""

    def __init__(self, children_only: bool = False) -> None:
        self.children_only = children_only
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree_rss(root: int) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                pid, ppid, pages = int(entry), int(fields[1]), int(fields[21])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(pid)
            rss[pid] = pages * os.sysconf("SC_PAGE_SIZE")
        total, stack = 0, [root]
        while stack:
            pid = stack.pop()
            total += rss.get(pid, 0)
            stack.extend(children.get(pid, []))
        return total

    def _sample(self) -> int:
        me = os.getpid()
        total = self._tree_rss(me)
        if self.children_only:
            total -= self._tree_rss_self(me)
        return total

    @staticmethod
    def _tree_rss_self(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return int(fh.read().rsplit(")", 1)[1].split()[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            return 0

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._sample())

    def __enter__(self) -> RssSampler:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(fn: Callable[[], Any], children_only: bool = False) -> tuple[float, int, Any]:
    with RssSampler(children_only) as rss:
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
    return seconds, rss.peak, result


def median_ms(fn: Callable[[], Any], runs: int = 7) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def log_files(tree: Path) -> list[str]:
    """The CloudTrail log files of a tree (what a DuckDB-native ingest reads)."""
    return sorted(str(p) for p in tree.rglob("*.json.gz") if "/CloudTrail/" in str(p))


def raw_json_source() -> str:
    """DuckDB's own reader with an explicit schema and JSON columns (the file list is parameter $1)."""
    struct = "STRUCT(" + ", ".join(f'"{k}" {v}' for k, v in DUCK_COLUMNS.items()) + ")[]"
    return f"read_json($1, columns = {{'Records': '{struct}'}}, records = 'true', maximum_object_size = 1073741824)"


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.json.gz"))


# -- trees ----------------------------------------------------------------------------------
def ensure_tree(out: Path, events: int, seed: int = 42, digests: bool = True) -> Path:
    tree = out / f"tree-{events}"
    marker = tree / ".complete"
    if marker.exists():
        return tree
    from trailforensics.generate import generate_tree

    shutil.rmtree(tree, ignore_errors=True)
    print(f"generating a {events:,}-event tree in {tree} (cached for later runs)...", flush=True)
    stats = generate_tree(tree, events=events, seed=seed, digests=digests)
    marker.write_text(json.dumps({"events": stats.events, "files": stats.files}))
    return tree


def count_records(tree: Path) -> int:
    return int(json.loads((tree / ".complete").read_text())["events"])


# -- sections -------------------------------------------------------------------------------
def bench_ingest(tree: Path, out: Path, label: str) -> dict[str, Any]:
    from trailforensics.ingest import IngestOptions, ingest

    ds = out / f"ds-{label}"
    shutil.rmtree(ds, ignore_errors=True)
    seconds, peak, summary = timed(lambda: ingest([tree], ds, IngestOptions()))
    mb = summary.bytes_read / 1e6
    again_s, _, again = timed(lambda: ingest([tree], ds, IngestOptions()))
    return {
        "records": summary.records_read,
        "rows": summary.rows_written,
        "files": summary.files_seen,
        "seconds": round(seconds, 2),
        "records_per_s": round(summary.records_read / seconds),
        "mb_per_s": round(mb / seconds, 1),
        "peak_rss_mb": round(peak / 2**20),
        "noop_rerun_s": round(again_s, 2),
        "noop_files_unchanged": again.files_unchanged,
        "exit_code": summary.exit_code,
    }


def duckdb_native_ingest(tree: Path, out: Path, label: str) -> dict[str, Any]:
    import duckdb

    target = out / f"duck-{label}.parquet"
    target.unlink(missing_ok=True)
    sql = (
        f"COPY (SELECT unnest(Records, recursive := true) FROM {raw_json_source()}) "
        f"TO '{target}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
    )
    con = duckdb.connect()
    files = log_files(tree)
    seconds, peak, _ = timed(lambda: con.execute(sql, [files]))
    row = con.execute(f"SELECT count(*) FROM '{target}'").fetchone()
    n = row[0] if row else 0
    con.close()
    return {
        "records": n,
        "seconds": round(seconds, 2),
        "records_per_s": round(n / seconds),
        "peak_rss_mb": round(peak / 2**20),
    }


def bench_queries(tree: Path, ds_path: Path) -> dict[str, Any]:
    import duckdb

    from trailforensics.engine import Dataset
    from trailforensics.query.timeline import EventFilter, timeline

    ds = Dataset(ds_path)
    actor, start = (
        ds.sql("""
        SELECT actor, min(event_time) FROM events WHERE user_identity_type = 'IAMUser'
        GROUP BY actor ORDER BY count(*) DESC LIMIT 1""")
        .to_pylist()[0]
        .values()
    )
    from datetime import timedelta

    start = start + timedelta(hours=6)
    end = start + timedelta(hours=2)
    flt = EventFilter(since=start, until=end, actor=actor)
    # A bucket the data really holds (a filter that matches nothing flatters a prefilter).
    bucket = (
        ds.sql("""
        SELECT request_parameters->>'$.bucketName' AS b FROM events WHERE b IS NOT NULL
        GROUP BY b ORDER BY count(*) DESC LIMIT 1""")
        .column(0)[0]
        .as_py()
    )
    ours = {
        "timeline_1_principal_2h": lambda: timeline(ds, flt),
        "top_event_names": lambda: ds.sql(
            "SELECT event_name, count(*) n FROM events GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
        ),
        "json_field_filter": lambda: ds.sql(
            "SELECT count(*) FROM events WHERE json_extract_string(request_parameters, '$.bucketName') = ?",
            [bucket],
        ),
        # The same answer with a substring prefilter (what tf_json_eq does): no JSON parse for most rows.
        "json_field_filter_prefiltered": lambda: ds.sql(
            "SELECT count(*) FROM events WHERE tf_json_eq(request_parameters, 'bucketName', ?)",
            [bucket],
        ),
    }
    raw = duckdb.connect()
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in log_files(tree)) + "]"
    raw.execute(
        "CREATE VIEW rawct AS SELECT unnest(Records, recursive := true) FROM " + raw_json_source().replace("$1", listed)
    )
    arn_filter = "userIdentity->>'arn' = ?"
    baseline = {
        "timeline_1_principal_2h": lambda: raw.execute(
            f"SELECT * FROM rawct WHERE {arn_filter} AND eventTime::TIMESTAMPTZ >= ? AND eventTime::TIMESTAMPTZ < ? "
            "ORDER BY eventTime",
            [actor, start, end],
        ).fetchall(),
        "top_event_names": lambda: raw.execute(
            "SELECT eventName, count(*) FROM rawct GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
        ).fetchall(),
        "json_field_filter": lambda: raw.execute(
            "SELECT count(*) FROM rawct WHERE requestParameters->>'bucketName' = ?",
            [bucket],
        ).fetchall(),
    }
    baseline["json_field_filter_prefiltered"] = baseline["json_field_filter"]
    results = {}
    for name, fn in ours.items():
        ms = median_ms(fn)
        raw_ms = median_ms(baseline[name], runs=1)
        results[name] = {"ms": round(ms, 1), "raw_tree_ms": round(raw_ms), "speedup": round(raw_ms / ms)}
    return results


def bench_verify(tree: Path) -> dict[str, Any] | None:
    try:
        from trailforensics.verify import verify_tree
    except ImportError:
        return None
    files = sorted(tree.rglob("*.json.gz"))
    size = sum(f.stat().st_size for f in files)

    def floor() -> None:
        # The same parallelism verify gets: one process per core.
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(os.cpu_count() or 1) as pool:
            pool.map(_gunzip_sha256, [str(f) for f in files], chunksize=64)

    floor_s, _, _ = timed(floor)
    keys = tree / "_verification" / "public-keys.json"
    verify_s, peak, _ = timed(lambda: verify_tree(tree, public_keys=[keys] if keys.exists() else []))
    return {
        "files": len(files),
        "mb": round(size / 1e6),
        "floor_s": round(floor_s, 2),
        "floor_mb_per_s": round(size / 1e6 / floor_s, 1),
        "verify_s": round(verify_s, 2),
        "verify_mb_per_s": round(size / 1e6 / verify_s, 1),
        "ratio_of_floor": round(floor_s / verify_s, 2),
        "peak_rss_mb": round(peak / 2**20),
    }


def _gunzip_sha256(path: str) -> str:
    from trailforensics.readers.decompress import gunzip_strict

    with open(path, "rb") as fh:
        return hashlib.sha256(gunzip_strict(fh.read())).hexdigest()


def bench_hunt(ds_path: Path) -> dict[str, Any] | None:
    try:
        from trailforensics.hunt import run_hunt
    except ImportError:
        return None
    from trailforensics.engine import Dataset

    with Dataset(ds_path) as ds:
        seconds, peak, result = timed(lambda: run_hunt(ds))
    slowest = sorted(result.timings.items(), key=lambda kv: -kv[1])[:5]
    return {
        "seconds": round(seconds, 2),
        "hits": result.hits.num_rows,
        "peak_rss_mb": round(peak / 2**20),
        "prepare_seconds": round(result.prepare_seconds, 2),
        "slowest": {k: round(v, 2) for k, v in slowest},
    }


def bench_compact(ds_path: Path, ingest_seconds: float) -> dict[str, Any]:
    from trailforensics.store.compact import compact

    seconds, peak, report = timed(lambda: compact(ds_path))
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak / 2**20),
        "of_ingest_time": round(seconds / ingest_seconds, 2),
        "partitions": sum(1 for line in report if line.startswith("event_date=")),
    }


def bench_spark(tree: Path, out: Path, local: dict[str, Any]) -> dict[str, Any]:
    """Spark on this machine against the local engine's figures of the same run (same tree, same dataset)."""
    try:
        from trailforensics.spark.session import java_available
    except ImportError:
        return {"skipped": "pyspark is not installed (pip install 'trailforensics[spark]')"}
    if not java_available():
        return {"skipped": "no Java runtime (17 or later)"}
    ds = out / "ds-spark"
    shutil.rmtree(ds, ignore_errors=True)
    results: dict[str, Any] = {"master": f"local[{os.cpu_count() or 1}]"}
    ingest = bench_command(["ingest", str(tree), "-d", str(ds), "--engine", "spark", "-q"])
    local_ingest = local.get("ingest_large", {}).get("trailforensics", {})
    if local_ingest.get("seconds"):
        ingest["local_seconds"] = local_ingest["seconds"]
        ingest["spark_over_local"] = round(ingest["seconds"] / local_ingest["seconds"], 2)
    results["ingest"] = ingest
    print("spark ingest: " + json.dumps(ingest), flush=True)
    shutil.rmtree(ds, ignore_errors=True)
    hits = out / "spark-hunt.jsonl"
    hunt = bench_command(["hunt", "-d", str(out / "ds-large"), "--engine", "spark", "-f", "jsonl"], stdout=hits)
    hunt["hits"] = sum(1 for line in hits.read_bytes().splitlines() if line.strip())
    local_hunt = local.get("hunt") or {}
    if local_hunt.get("seconds"):
        hunt["local_seconds"] = local_hunt["seconds"]
        hunt["spark_over_local"] = round(hunt["seconds"] / local_hunt["seconds"], 2)
    results["hunt"] = hunt
    print("spark hunt: " + json.dumps(hunt), flush=True)
    return results


def bench_command(args: list[str], memory_limit: str | None = None, stdout: Path | None = None) -> dict[str, Any]:
    """One CLI command as a user runs it (a fresh process, output discarded or kept in ``stdout``):
    time and peak RSS."""
    import subprocess
    import sys

    cmd = [sys.executable, "-c", "from trailforensics.cli import main; main()"]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    with open(stdout or os.devnull, "wb") as sink:
        seconds, peak, proc = timed(
            lambda: subprocess.run(cmd + args, stdout=sink, stderr=subprocess.PIPE, text=True),
            children_only=True,
        )
    row: dict[str, Any] = {"seconds": round(seconds, 2), "peak_rss_mb": round(peak / 2**20), "exit": proc.returncode}
    if proc.returncode not in (0,):
        row["stderr"] = proc.stderr.strip().splitlines()[-1:] if proc.stderr.strip() else []
    return row


SCALE_COMMANDS: dict[str, list[str]] = {
    "help": ["--help"],
    "summary": ["summary", "-f", "json"],
    "coverage": ["coverage", "-f", "json"],
    "identities": ["identities", "-f", "jsonl"],
    "timeline_one_principal": ["timeline", "--actor", "*admin*", "--limit", "1000", "-f", "jsonl"],
    "hunt": ["hunt", "-f", "jsonl"],
    "trails": ["trails", "-f", "json"],
    "report": ["report", "-o", "{out}/report-scale.html"],
}


def bench_commands(ds_path: Path, label: str, memory_limit: str | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, args in SCALE_COMMANDS.items():
        full = args if name == "help" else [*args[:1], "-d", str(ds_path), *args[1:]]
        full = [a.replace("{out}", str(ds_path.parent)) for a in full]
        results[name] = bench_command(full, memory_limit)
        if name == "report" and results[name]["exit"] == 0:
            results[name]["mb"] = round((ds_path.parent / "report-scale.html").stat().st_size / 2**20, 2)
        print(f"{label} {name}: " + json.dumps(results[name]), flush=True)
    return results


def scale(out: Path, events: int, tree: Path | None) -> dict[str, Any]:
    """The 10 M tier: per command, time and peak RSS of the whole process tree."""
    tree = tree.absolute() if tree else ensure_tree(out, events, digests=False)
    results: dict[str, Any] = {"cpu_count": os.cpu_count(), "tree": str(tree)}
    print(json.dumps(results), flush=True)
    ours = bench_ingest(tree, out, "scale")
    duck = duckdb_native_ingest(tree, out, "scale")
    results["ingest"] = {
        "trailforensics": ours,
        "duckdb_native": duck,
        "ratio": round(ours["records_per_s"] / duck["records_per_s"], 2),
    }
    print("ingest: " + json.dumps(results["ingest"]), flush=True)
    results["commands"] = bench_commands(out / "ds-scale", "default memory limit:")
    results["commands_1gb"] = bench_commands(out / "ds-scale", "--memory-limit 1GB:", memory_limit="1GB")
    results["compact"] = bench_compact(out / "ds-scale", ours["seconds"])
    print("compact: " + json.dumps(results["compact"]), flush=True)
    results["hunt_after_compact"] = bench_command(["hunt", "-d", str(out / "ds-scale"), "-f", "jsonl"])
    print("hunt after compact: " + json.dumps(results["hunt_after_compact"]), flush=True)
    (out / "duck-scale.parquet").unlink(missing_ok=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="the scale tier (10 M events; ingest, compact)")
    parser.add_argument("--commands", type=Path, help="only time the CLI commands on this dataset (scale tier)")
    parser.add_argument("--tree", type=Path, help="with --scale: an existing tree instead of a generated one")
    parser.add_argument("--events", type=int, help="events of the large tree (default 2 M; 10 M with --scale)")
    parser.add_argument("--small", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=Path(".bench"))
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: ingest,queries,verify,hunt,spark")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    out = args.out.absolute()
    out.mkdir(parents=True, exist_ok=True)
    if args.commands:
        timings = {
            "default": bench_commands(args.commands, "default memory limit:"),
            "1GB": bench_commands(args.commands, "--memory-limit 1GB:", memory_limit="1GB"),
        }
        print(json.dumps(timings, indent=1))
        return 0
    if args.scale:
        scaled = scale(out, args.events or 10_000_000, args.tree)
        (out / "results-scale.json").write_text(json.dumps(scaled, indent=1))
        print(json.dumps(scaled, indent=1))
        return 0
    args.events = args.events or 2_000_000
    results: dict[str, Any] = {"cpu_count": os.cpu_count()}
    big = ensure_tree(out, args.events)
    small = ensure_tree(out, args.small)
    results["tree"] = {
        "events": count_records(big),
        "files": sum(1 for _ in big.rglob("*.json.gz")),
        "mb": round(tree_bytes(big) / 1e6),
    }
    print(json.dumps(results["tree"]), flush=True)
    if "ingest" not in skip:
        for label, tree in (("small", small), ("large", big)):
            ours = bench_ingest(tree, out, label)
            duck = duckdb_native_ingest(tree, out, label)
            results[f"ingest_{label}"] = {
                "trailforensics": ours,
                "duckdb_native": duck,
                "ratio": round(ours["records_per_s"] / duck["records_per_s"], 2),
            }
            print(f"ingest {label}: " + json.dumps(results[f"ingest_{label}"]), flush=True)
    if "queries" not in skip and (out / "ds-large").exists():
        results["queries"] = bench_queries(big, out / "ds-large")
        print("queries: " + json.dumps(results["queries"]), flush=True)
    if "verify" not in skip:
        results["verify"] = bench_verify(big)
        print("verify: " + json.dumps(results["verify"]), flush=True)
    if "hunt" not in skip and (out / "ds-large").exists():
        results["hunt"] = bench_hunt(out / "ds-large")
        print("hunt: " + json.dumps(results["hunt"]), flush=True)
    if "spark" not in skip and (out / "ds-large").exists():
        results["spark"] = bench_spark(big, out, results)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
