"""`make bench`'s spark section: Spark `local[cores]` against the local engine's figures of the same run."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from trailforensics.bench.measure import bench_command


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
