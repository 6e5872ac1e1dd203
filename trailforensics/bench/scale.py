"""The one-machine scale tier (`make bench-scale`): time and peak RSS of every command at 10 M events."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from trailforensics.bench.measure import bench_command
from trailforensics.bench.native import duckdb_native_ingest
from trailforensics.bench.sections import bench_compact, bench_ingest
from trailforensics.bench.trees import ensure_tree

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
