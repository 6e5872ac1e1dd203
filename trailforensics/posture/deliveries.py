"""What the delivered files themselves show about the trails (organisation trail, digests, regions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics import awslogs
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
# The key grammar is trailforensics.awslogs; these names stay importable from here.
CLOUDTRAIL_KEY = awslogs.CLOUDTRAIL_KEY
digest_trail_of = awslogs.digest_trail  # (trail name, home region) named by a digest file's key or name


def location_buckets(location: str) -> list[str]:
    """The bucket names a delivery location may stand for: its folders named like buckets.

    Buckets synced side by side give ``<bucket>`` (or ``<bucket>/<prefix>``); a tree ingested from
    its ``AWSLogs`` folder itself gives no name at all.
    """
    return [part for part in location.split("/") if part != "AWSLogs" and awslogs.is_bucket_name(part)]


@dataclass(frozen=True)
class DeliveredTrail:
    """A trail as its digest files prove it: name, home region, where and for which regions."""

    name: str
    home_region: str
    accounts: tuple[str, ...]  # the accounts in the digest paths (members, for an organisation trail)
    org_ids: tuple[str, ...]
    location: str
    regions: tuple[str, ...]  # the regions it delivered digests for
    digest_files: int
    first_digest: datetime
    last_digest: datetime

    @property
    def buckets(self) -> list[str]:
        return location_buckets(self.location)

    @property
    def evidence(self) -> str:
        return (
            f"{self.digest_files} digest files in {self.location} for {len(self.regions)} region(s) "
            f"({', '.join(self.regions)})"
        )


def delivered_trails(ds: Dataset, until: datetime | None = None) -> list[DeliveredTrail]:
    """Every trail its digest files name (digests delivered before ``until``), per location."""
    cond, params = ("", []) if until is None else (" AND file_time < ?", [until])
    rows = ds.sql(
        f"""
        SELECT {LOCATION_SQL} AS location, org_id, account_id, region, file_time, source_file
        FROM files
        WHERE kind = 'cloudtrail-digest' AND status <> 'failed'{cond}""",
        params,
    ).to_pylist()
    # Names are unique only within an account: the digests of an account's own trail are filed under
    # that account, an organisation trail's under its organisation (and every member account).
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        named = digest_trail_of(r["source_file"] or "")
        if named is not None and r["file_time"] is not None:
            owner = r["org_id"] or r["account_id"] or ""
            groups.setdefault((r["location"], owner, *named), []).append(r)
    out = []
    for (location, _owner, name, home), files in sorted(groups.items()):
        out.append(
            DeliveredTrail(
                name=name,
                home_region=home,
                accounts=tuple(sorted({f["account_id"] for f in files if f["account_id"]})),
                org_ids=tuple(sorted({f["org_id"] for f in files if f["org_id"]})),
                location=location,
                regions=tuple(sorted({f["region"] for f in files if f["region"]})),
                digest_files=len(files),
                first_digest=min(f["file_time"] for f in files),
                last_digest=max(f["file_time"] for f in files),
            )
        )
    return out


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
            named = digest_trail_of(r["source_file"] or "")
            if named:
                p["trails"].add(f"{named[0]} (home {named[1]})")
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
