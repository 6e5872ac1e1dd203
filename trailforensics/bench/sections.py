"""The sections of `make bench`: ingest, queries, verify, hunt, compact (each next to its baseline)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from trailforensics.bench.measure import median_ms, timed
from trailforensics.bench.native import raw_json_source
from trailforensics.bench.trees import log_files


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
