"""`python -m trailforensics.bench`: see the package docstring."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import trailforensics.bench as package
from trailforensics.bench.native import duckdb_native_ingest
from trailforensics.bench.scale import bench_commands, scale
from trailforensics.bench.sections import bench_hunt, bench_ingest, bench_queries, bench_verify
from trailforensics.bench.spark import bench_spark
from trailforensics.bench.trees import count_records, ensure_tree, tree_bytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(package.__doc__ or "").splitlines()[0])
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
