"""What the delivered files themselves show about the trails (organisation trail, digests, regions)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.posture.common import LOCATION_SQL
from trailforensics.schema import TIMESTAMP

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

DELIVERIES_SCHEMA = pa.schema(
    [
        ("location", pa.string()),
        ("org_id", pa.string()),
        ("accounts", pa.list_(pa.string())),
        ("regions", pa.list_(pa.string())),
        ("log_files", pa.int64()),
        ("digest_files", pa.int64()),
        ("insight_files", pa.int64()),
        ("first_delivery", TIMESTAMP),
        ("last_delivery", TIMESTAMP),
        ("digest_trails", pa.list_(pa.string())),
        ("evidence", pa.string()),
    ]
)
# 111122223333_CloudTrail-Digest_eu-west-1_my-trail_us-east-1_20260310T041408Z.json.gz
_DIGEST_NAME = re.compile(
    r"\d{12}_CloudTrail-Digest_[a-z0-9-]+_(.+)_([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)_"
    r"\d{8}T\d{6}Z\.json\.gz$"
)


def deliveries(ds: Dataset) -> pa.Table:
    """What the delivered files themselves say about the trails, per delivery location.

    A location is the folder holding ``AWSLogs/`` (one per bucket when buckets are synced side by
    side).  An organisation id in the paths means an organisation trail; digest files mean log
    file validation was on and name the trail and its home region; the regions are those files
    were delivered for.
    """
    rows = ds.sql(f"""
        SELECT {LOCATION_SQL} AS location,
               org_id, account_id, region, kind, file_time, source_file
        FROM files
        WHERE kind IN ('cloudtrail', 'cloudtrail-digest', 'cloudtrail-insight')
          AND status <> 'failed'""").to_pylist()
    places: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = places.setdefault(
            r["location"],
            {
                "location": r["location"],
                "orgs": set(),
                "accounts": set(),
                "regions": set(),
                "log_files": 0,
                "digest_files": 0,
                "insight_files": 0,
                "first_delivery": None,
                "last_delivery": None,
                "trails": set(),
            },
        )
        if r["org_id"]:
            p["orgs"].add(r["org_id"])
        if r["account_id"]:
            p["accounts"].add(r["account_id"])
        if r["region"]:
            p["regions"].add(r["region"])
        kind = {"cloudtrail": "log_files", "cloudtrail-digest": "digest_files"}.get(r["kind"], "insight_files")
        p[kind] += 1
        if kind == "digest_files":
            m = _DIGEST_NAME.search(r["source_file"] or "")
            if m:
                p["trails"].add(f"{m.group(1)} (home {m.group(2)})")
        elif r["file_time"] is not None:
            p["first_delivery"] = min(filter(None, (p["first_delivery"], r["file_time"])))
            p["last_delivery"] = max(filter(None, (p["last_delivery"], r["file_time"])))
    out = []
    for p in sorted(places.values(), key=lambda p: p["location"]):
        evidence = []
        if p["orgs"]:
            evidence.append(f"organisation trail ({', '.join(sorted(p['orgs']))})")
        if p["digest_files"]:
            evidence.append(
                f"log file validation on: {p['digest_files']} digest files"
                + (f" of {', '.join(sorted(p['trails']))}" if p["trails"] else "")
            )
        elif p["log_files"]:
            evidence.append("no digest files: log file validation off, or the digests were not collected")
        if len(p["regions"]) > 1:
            evidence.append(f"files for {len(p['regions'])} regions (multi-region trail or several trails)")
        if p["insight_files"]:
            evidence.append(f"{p['insight_files']} Insights files")
        out.append(
            {
                "location": p["location"],
                "org_id": ", ".join(sorted(p["orgs"])) or None,
                "accounts": sorted(p["accounts"]),
                "regions": sorted(p["regions"]),
                "log_files": p["log_files"],
                "digest_files": p["digest_files"],
                "insight_files": p["insight_files"],
                "first_delivery": p["first_delivery"],
                "last_delivery": p["last_delivery"],
                "digest_trails": sorted(p["trails"]),
                "evidence": "; ".join(evidence),
            }
        )
    return pa.Table.from_pylist(out, schema=DELIVERIES_SCHEMA)
