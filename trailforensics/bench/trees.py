"""The generated trees the bench reads (made once, cached under ``--out``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def log_files(tree: Path) -> list[str]:
    """The CloudTrail log files of a tree (what a DuckDB-native ingest reads)."""
    return sorted(str(p) for p in tree.rglob("*.json.gz") if "/CloudTrail/" in str(p))


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.json.gz"))


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
