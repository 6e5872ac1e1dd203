"""The committed sample: ingest, query commands and named queries find the storyline."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_LOGS, sample_facts

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.query.identities import identities
from trailforensics.query.named import load_queries, run_query
from trailforensics.query.summary import summary
from trailforensics.query.timeline import EventFilter, timeline


def facts() -> dict[str, Any]:
    return sample_facts()


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    ds = tmp_path_factory.mktemp("sample") / "ds"
    return ds, ingest([SAMPLE_LOGS], ds, IngestOptions(workers=2))


def test_ingest_counts(sample: tuple[Path, Any]) -> None:
    ds_path, summary_ = sample
    f = facts()
    assert summary_.exit_code == 0 and summary_.reconciles
    assert summary_.files_failed == 0
    records = sum(t["records"] for t in f["trails"].values())
    insight_records = 2 * len(f["insight"]["files"]) // 2
    assert summary_.records_read == records + insight_records
    digests = sum(t["digest_files"] for t in f["trails"].values())
    assert summary_.skipped_by_reason["CloudTrail digest file (not events; checked by `verify`)"] == digests
    with Dataset(ds_path) as ds:
        n = ds.sql("SELECT count(*) FROM events WHERE event_category IS DISTINCT FROM 'Insight'").column(0)[0]
        assert n.as_py() == f["unique_events"]
        # the audit trail's copies of prod management events were dropped as duplicates of the org trail's
        dups = ds.sql("SELECT count(*) FROM duplicates").column(0)[0].as_py()
        assert dups == summary_.duplicates_dropped > 1000


def test_compromised_key_timeline_shows_the_attack_in_order(sample: tuple[Path, Any]) -> None:
    ds_path, _ = sample
    f = facts()
    key = f["compromised_key"]["access_key_id"]
    steps = [s for s in f["steps"] if s.get("access_key_id") == key]
    until = t(steps[-1]["time"]) + timedelta(seconds=1)  # the developer keeps using the key later that day
    with Dataset(ds_path) as ds:
        rows = timeline(
            ds,
            EventFilter(access_key=key, since=t(f["compromised_key"]["first_malicious_use"]), until=until),
            columns=["event_time", "event_id", "event_name", "source_ip"],
        ).to_pylist()
    assert [r["event_id"] for r in rows] == [s["eventID"] for s in steps]
    assert len(rows) == f["compromised_key"]["malicious_events"]
    assert {r["source_ip"] for r in rows} == {"185.220.101.47"}
    assert [r["event_time"] for r in rows] == sorted(r["event_time"] for r in rows)


def test_identities_show_the_new_ip(sample: tuple[Path, Any]) -> None:
    ds_path, _ = sample
    f = facts()["compromised_key"]
    with Dataset(ds_path) as ds:
        row = next(r for r in identities(ds).to_pylist() if r["access_key"] == f["access_key_id"])
    assert {f["normal_source_ip"], "185.220.101.47"} <= set(row["ip_list"])
    assert any(ua.startswith(f["normal_user_agent_prefix"]) for ua in row["user_agent_list"])
    assert any("kali" in ua for ua in row["user_agent_list"])


def test_summary(sample: tuple[Path, Any]) -> None:
    ds_path, _ = sample
    with Dataset(ds_path) as ds:
        s = summary(ds)
    overview = s["overview"].to_pylist()[0]
    assert overview["accounts"] == 4
    regions = set(s["regions"].column("region").to_pylist())
    assert {"eu-west-1", "eu-central-1", "us-east-1", "sa-east-1"} <= regions


def test_named_queries_find_the_storyline(sample: tuple[Path, Any]) -> None:
    ds_path, _ = sample
    f = facts()
    q = load_queries()
    with Dataset(ds_path) as ds:
        changes = run_query(ds, q["cloudtrail_changes"], {}).to_pylist()
        stop = [c for c in changes if c["event_name"] == "StopLogging"]
        assert [c["event_time"] for c in stop] == [t(f["stop_logging"]["time"])]
        keys = run_query(ds, q["access_keys_created"], {}).to_pylist()
        backdoor = [k for k in keys if k["new_access_key"] == f["backdoor"]["access_key_id"]]
        assert backdoor and backdoor[0]["for_another_user"] is True
        exfil = run_query(
            ds, q["bucket_data_events"], {"bucket": f["exfiltration"]["bucket"], "event": "GetObject"}
        ).to_pylist()
        by_key = [e for e in exfil if e["access_key"] == f["exfiltration"]["access_key_id"]]
        assert len(by_key) == f["exfiltration"]["get_object_count"]
        assert sum(e["bytes_out"] for e in by_key) == f["exfiltration"]["bytes_out"]
        rare = {r["region"] for r in run_query(ds, q["rare_regions"], {}).to_pylist()}
        assert f["mining"]["region"] in rare
        ua = run_query(ds, q["events_by_user_agent"], {"agent": "*kali*"}).to_pylist()
        assert ua and ua[0]["actors"] == 1
