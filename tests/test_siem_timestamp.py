"""SIEM exports (Logstash, Elastic) move ``eventTime`` into ``@timestamp`` and drop it: the time is
taken from there, the row says so, and the original record is rebuilt exactly."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ct import record

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.normalize.columns import FileContext, build
from trailforensics.normalize.rebuild import TIME_FROM_NOTE, rebuild_record
from trailforensics.readers.cloudtrail import decode_records_document

UTC = timezone.utc
WHEN = datetime(2026, 3, 10, 2, 15, 30, 123000, tzinfo=UTC)


def siem(event_id: str, **changes: Any) -> dict[str, Any]:
    rec = record("GetObject", event_id=event_id)
    del rec["eventTime"]
    rec.update({"@timestamp": "2026-03-10T02:15:30.123Z", "@version": "1"}, **changes)
    return rec


def rows_of(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    decoded, _ = decode_records_document(json.dumps({"Records": recs}).encode())
    rows: list[dict[str, Any]] = build(decoded, FileContext("f.json", "cloudtrail", "run")).batch.to_pylist()
    return rows


def test_time_taken_from_timestamp_and_noted() -> None:
    (row,) = rows_of([siem("1")])
    assert row["event_time"] == WHEN
    assert json.loads(row["original_values"]) == {TIME_FROM_NOTE: "@timestamp"}
    assert json.loads(row["extra"])["@timestamp"] == "2026-03-10T02:15:30.123Z"


def test_rebuilt_record_is_the_original() -> None:
    recs = [siem("1"), siem("2", eventTime=None), siem("3", **{"@timestamp": "2026-03-10T03:15:30+01:00"})]
    rows = rows_of(recs)
    assert [rebuild_record(r) for r in rows] == recs  # @timestamp kept, no eventTime added
    assert "eventTime" not in rebuild_record(rows[0])
    assert rows[1]["event_time"] == WHEN and rows[2]["event_time"] == WHEN.replace(microsecond=0)


def test_event_time_wins_and_bad_timestamps_stay_null() -> None:
    both = siem("1", eventTime="2026-03-10T09:00:00Z")
    not_a_time = siem("2", **{"@timestamp": "yesterday"})
    a_number = siem("3", **{"@timestamp": 1773108930})
    rows = rows_of([both, not_a_time, a_number])
    assert rows[0]["event_time"] == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert rows[1]["event_time"] is None and rows[2]["event_time"] is None
    assert all(TIME_FROM_NOTE not in (r["original_values"] or "") for r in rows)
    assert [rebuild_record(r) for r in rows] == [both, not_a_time, a_number]


def test_jsonl_export_ingested_with_its_times(tmp_path: Path) -> None:
    export = tmp_path / "elastic-export.jsonl"
    export.write_text("\n".join(json.dumps(siem(str(i))) for i in range(3)) + "\n")
    ingest([export], tmp_path / "ds", IngestOptions(workers=1))
    times = Dataset(tmp_path / "ds").sql("SELECT event_time FROM events").column("event_time").to_pylist()
    assert times == [WHEN] * 3
