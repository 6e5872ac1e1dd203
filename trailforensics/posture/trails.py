"""`trails`: each trail's logging configuration over time, reconstructed from the logs alone.

    >>> report = trails(Dataset("case-42"))
    >>> report.state        # one row per trail and setting ("unknown" when the logs never showed it)
    >>> report.changes      # one row per change: who changed what, when, from where
    >>> report.findings     # departures from good practice, each with the event that caused it
    >>> report.stops        # StopLogging periods and how long they lasted
    >>> report.deliveries   # what the delivered files show (organisation trail, digests, regions)

Sources: CreateTrail, UpdateTrail, PutEventSelectors (basic or advanced selectors),
PutInsightSelectors, Start/StopLogging, DeleteTrail and Add/RemoveTags (request *and*
response), plus the trail's dependencies: its S3 bucket (policy, lifecycle, versioning,
ACL, deletion, CloudTrail files deleted from it) and its KMS key (disable, deletion, key
policy, grants; aliases resolved through CreateAlias/UpdateAlias).  Failed calls change
nothing but are listed, and what they tried is a finding one severity lower (``attempted-*``).

A trail created before the logs begin has settings no event shows; its digest files prove
some of them (log file validation on, multi-region when it delivered digests for other
regions, organisation trail or not, the bucket folder it delivered to), so those start from
the delivered files (``event_name`` "delivered files" in the state) and the bucket they name
is tied to the trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.posture import selectors as sel
from trailforensics.posture.common import (
    UNKNOWN,
    as_bool,
    as_list,
    duration_text,
    is_unknown,
    iso,
    loads,
    pick,
)
from trailforensics.posture.deliveries import delivered_trails, deliveries
from trailforensics.posture.dependencies import DepChange, Dependencies
from trailforensics.posture.resource_policies import Problem, attempted
from trailforensics.posture.trailindex import TrailIndex
from trailforensics.posture.trailmodel import (
    ALIAS_EVENTS,
    BOOL_FIELDS,
    CHANGES_SCHEMA,
    CREATE_DEFAULTS,
    FIELDS,
    FINDINGS_SCHEMA,
    SETTINGS,
    STATE_SCHEMA,
    STOPS_SCHEMA,
    EventRef,
    Trail,
    display,
    fetch_events,
    show,
    trail_problems,
)

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset


@dataclass
class TrailReport:
    trails: dict[str, Trail]
    state: pa.Table
    changes: pa.Table
    findings: pa.Table
    stops: pa.Table
    data_start: datetime | None
    data_end: datetime | None
    deliveries: pa.Table

    def sections(self) -> dict[str, pa.Table]:
        return {
            "state": self.state,
            "findings": self.findings,
            "changes": self.changes,
            "stops": self.stops,
            "deliveries": self.deliveries,
        }

    def stopped_periods(self) -> list[dict[str, Any]]:
        return self.stops.to_pylist()


_REF_COLUMNS = (
    "event_name",
    "event_id",
    "actor",
    "access_key",
    "source_ip",
    "user_agent",
    "region",
    "account",
    "error_code",
)


class _Builder:
    def __init__(self) -> None:
        self.index = TrailIndex()
        self.trails = self.index.trails
        self.changes: list[dict[str, Any]] = []
        self.findings: list[dict[str, Any]] = []
        self.stops: list[dict[str, Any]] = []
        self.open_stops: dict[str, dict[str, Any]] = {}
        self.deps = Dependencies()
        self.seq = 0  # the position of the event being applied (keeps same-second events in order)

    # -- the main pass ------------------------------------------------------------------
    def apply(self, row: dict[str, Any]) -> None:
        self.seq += 1
        name = row["event_name"]
        ref = EventRef.from_row(row)
        if row["event_source"] == "kms.amazonaws.com" and name in ALIAS_EVENTS:
            if not row["error_code"]:
                self.deps.alias(row)
            return
        if row["event_source"] == "s3.amazonaws.com":
            self.deps.bucket(row, ref, self.seq)
            return
        if row["event_source"] == "kms.amazonaws.com":
            self.deps.key(row, ref, self.seq)
            return
        req, resp = loads(row["request_parameters"]) or {}, loads(row["response_elements"]) or {}
        target = pick(resp, "trailARN") or pick(req, "name", "trailName", "resourceId")
        arn = self.index.resolve(target, row)
        if arn is None:
            return
        error = row["error_code"]
        if arn not in self.trails:  # first seen: its settings so far are what the delivered files prove
            self.index.adopt(self.index.trail(arn), seed=name != "CreateTrail" or bool(error))
        trail = self.index.trail(arn)
        before = dict(trail.values)
        if error:
            self._change_row(trail, ref, "trail", trail.name, f"failed ({error}): no change")
            for problem in attempted(self._would(trail, name, req, row), error):
                self._finding(trail, ref, problem)
            return
        handler = getattr(self, f"_on_{name}", None)
        if handler is None:
            return
        handler(trail, req, resp, row)
        stop = self.open_stops.pop(trail.arn, None) if name in ("StartLogging", "DeleteTrail") else None
        if stop is not None and name == "StartLogging":
            self._close_stop(stop, row["event_time"], row["event_id"], "restarted")
        elif stop is not None:
            self._close_stop(stop, row["event_time"], None, "trail deleted while stopped")
        self._record(trail, before, ref)

    def _would(self, trail: Trail, name: str, req: dict[str, Any], row: dict[str, Any]) -> tuple[Problem, ...]:
        """The problems a failed call would have caused (replayed on a copy of the trail)."""
        handler = getattr(self, f"_on_{name}", None)
        if handler is None or name in ("CreateTrail", "StartLogging"):
            return ()
        scratch = Trail(trail.arn, dict(trail.values))
        handler(scratch, req, {}, row)  # a failed call's response is empty: the request says what it tried
        return tuple(trail_problems(scratch, trail.values, name, trail.arn in self.open_stops))

    def _record(self, trail: Trail, before: dict[str, Any], ref: EventRef) -> None:
        old, new = display(before), display(trail.values)
        changed = [f for f in FIELDS if f in new and old.get(f) != new[f]]
        for f in changed:
            trail.set_by[f] = ref
        trail.history.append((ref.time, dict(trail.values)))
        for f, seq in (("s3_bucket", trail.buckets), ("kms_key", trail.keys)):
            value = trail.values.get(f)
            if isinstance(value, str) and value and (not seq or seq[-1][1] != value):
                seq.append((ref.time, value))
        if ref.event_name == "CreateTrail":
            text = "created: " + ", ".join(
                f"{f}={new[f]}" for f in FIELDS if f in new and f not in ("name", "arn", "account", "deleted")
            )
        else:
            text = "; ".join(f"{f}: {old[f]} -> {new[f]}" for f in changed) or "no change"
            if ref.event_name == "StopLogging" and before.get("logging") is False:
                text = "no change: logging was already off (no StartLogging in the data)"
        self._change_row(trail, ref, "trail", trail.name, text)
        for problem in trail_problems(trail, before, ref.event_name, trail.arn in self.open_stops):
            finding = self._finding(trail, ref, problem)
            if problem.code == "logging-stopped":
                self._open_stop(trail, ref, finding)

    def _row(self, trail: Trail | None, ref: EventRef, seq: int | None, **fields: Any) -> dict[str, Any]:
        """A changes or findings row: the trail (None: no known trail), the event (who, when, from
        where) and ``fields``."""
        event = {k: getattr(ref, k) for k in _REF_COLUMNS}
        head = {"_seq": self.seq if seq is None else seq, "event_time": ref.time, "trail": trail and trail.arn}
        return {**head, "trail_name": trail and trail.name, **event, **fields}

    def _change_row(
        self, trail: Trail | None, ref: EventRef, kind: str, target: str, change: str, seq: int | None = None
    ) -> None:
        self.changes.append(self._row(trail, ref, seq, kind=kind, target=target, change=change))

    def _finding(self, trail: Trail | None, ref: EventRef, problem: Problem, seq: int | None = None) -> dict[str, Any]:
        row = self._row(trail, ref, seq, severity=problem.severity, finding=problem.code, detail=problem.detail)
        self.findings.append(row)
        return row

    # -- trail API calls ------------------------------------------------------------------
    def _settings(self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], *, create: bool) -> None:
        full = bool(resp)
        for req_key, resp_key, name in SETTINGS:
            value = pick(resp, resp_key) if full else None
            if value is None and name == "sns_topic" and full:
                value = pick(resp, "snsTopicName")
            if value is None:
                value = pick(req, req_key)
            if value is None and full and name not in BOOL_FIELDS:
                trail.values[name] = None  # a full response without the setting: not set
                continue
            if value is None:
                if create:
                    trail.values[name] = CREATE_DEFAULTS.get(name, UNKNOWN)
                continue
            if name in BOOL_FIELDS:
                flag = as_bool(value)
                trail.values[name] = flag if flag is not None else UNKNOWN
            else:
                trail.values[name] = str(value) or None  # "" removes (e.g. kmsKeyId "" = no encryption)

    def _on_CreateTrail(self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]) -> None:
        trail.values.update(CREATE_DEFAULTS)
        trail.values["event_selectors"] = list(sel.DEFAULT_BASIC)
        trail.values["home_region"] = row["aws_region"]
        tags = {str(pick(t, "key")): pick(t, "value") for t in as_list(pick(req, "tagsList")) if isinstance(t, dict)}
        trail.values["tags"] = tags
        self._settings(trail, req, resp, create=True)

    def _on_UpdateTrail(self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]) -> None:
        self._settings(trail, req, resp, create=False)

    def _on_PutEventSelectors(
        self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]
    ) -> None:
        src = (
            resp
            if (pick(resp, "eventSelectors") is not None or pick(resp, "advancedEventSelectors") is not None)
            else req
        )
        advanced = pick(src, "advancedEventSelectors")
        if advanced is not None and as_list(advanced):
            trail.values["advanced_event_selectors"] = sel.normalise_advanced(advanced)
            trail.values["event_selectors"] = None
        else:
            trail.values["event_selectors"] = sel.normalise_basic(pick(src, "eventSelectors"))
            trail.values["advanced_event_selectors"] = None

    _on_PutAdvancedEventSelectors = _on_PutEventSelectors

    def _on_PutInsightSelectors(
        self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]
    ) -> None:
        src = resp if pick(resp, "insightSelectors") is not None else req
        trail.values["insight_selectors"] = sorted(
            str(pick(s, "insightType")) for s in as_list(pick(src, "insightSelectors")) if isinstance(s, dict)
        )

    def _on_StartLogging(self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]) -> None:
        trail.values["logging"] = True

    def _on_StopLogging(self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]) -> None:
        trail.values["logging"] = False

    def _on_DeleteTrail(self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]) -> None:
        trail.values["deleted"] = True
        trail.values["logging"] = False

    def _tags(self, trail: Trail, req: dict[str, Any], add: bool) -> None:
        tags = dict(trail.values["tags"]) if isinstance(trail.values["tags"], dict) else {}
        for t in as_list(pick(req, "tagsList")):
            if isinstance(t, dict):
                if add:
                    tags[str(pick(t, "key"))] = pick(t, "value")
                else:
                    tags.pop(str(pick(t, "key")), None)
        trail.values["tags"] = tags if (tags or not is_unknown(trail.values["tags"])) else UNKNOWN

    def _on_AddTags(self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]) -> None:
        self._tags(trail, req, True)

    def _on_RemoveTags(self, trail: Trail, req: dict[str, Any], resp: dict[str, Any], row: dict[str, Any]) -> None:
        self._tags(trail, req, False)

    def _close_stop(self, stop: dict[str, Any], end: datetime | None, start_id: str | None, status: str) -> None:
        stop["started_at"] = end if status == "restarted" else None
        stop["start_event_id"] = start_id
        stop["status"] = status
        if end is not None:
            seconds = (end - stop["stopped_at"]).total_seconds()
            stop["duration_seconds"] = seconds
            stop["duration"] = duration_text(seconds)
        self.stops.append(stop)
        finding = stop.pop("_finding")
        at = iso(end) if end else "an unknown time"
        if status == "restarted":
            finding["detail"] = f"logging stopped for {stop['duration']} (until StartLogging at {at})"
        elif status == "trail deleted while stopped":
            finding["detail"] = f"logging stopped for {stop['duration']}, until the trail was deleted at {at}"
        else:
            finding["detail"] = (
                f"logging stopped; still stopped at the end of the data ({at}, "
                f"{stop.get('duration') or 'unknown time'} later)"
            )

    def _open_stop(self, trail: Trail, ref: EventRef, finding: dict[str, Any]) -> None:
        """A StopLogging opens a stopped period (its finding gets the duration when it closes)."""
        values = {f: show(f, trail.values[f]) for f in ("account", "home_region", "multi_region")}
        self.open_stops[trail.arn] = {
            "trail": trail.arn,
            "trail_name": trail.name,
            **values,
            "stopped_at": ref.time,
            "started_at": None,
            "duration_seconds": None,
            "duration": None,
            "status": None,
            "stopped_by": ref.actor,
            "source_ip": ref.source_ip,
            "stop_event_id": ref.event_id,
            "start_event_id": None,
            "_finding": finding,
        }

    # -- after the pass -------------------------------------------------------------------
    def finish(self, data_end: datetime | None) -> None:
        for stop in list(self.open_stops.values()):
            self._close_stop(stop, data_end, None, "still stopped at the end of the data")
        self.open_stops.clear()
        self.index.adopt_unseen()
        owned: set[int] = set()
        for trail in self.trails.values():
            buckets = {b for _, b in trail.buckets}
            keys = self.deps.keys_of(trail)
            for i, dep in enumerate(self.deps.changes):
                if dep.kind == "bucket" and (dep.target in buckets or trail.name in dep.trail_names):
                    self._dependency_rows(trail, dep)
                    owned.add(i)
                elif dep.kind == "key" and dep.target in keys:
                    self._dependency_rows(trail, dep)
        for i, dep in enumerate(self.deps.changes):
            if dep.log_files and i not in owned:  # CloudTrail files deleted from a bucket no known trail uses
                self._dependency_rows(None, dep)

    def _dependency_rows(self, trail: Trail | None, dep: DepChange) -> None:
        self._change_row(trail, dep.ref, dep.kind, dep.target, dep.change, dep.seq)
        for problem in dep.problems:
            if trail is None:
                problem = Problem(
                    problem.code, problem.severity, f"{problem.detail} (no trail in the data delivers to {dep.target})"
                )
            self._finding(trail, dep.ref, problem, dep.seq)


def trails(ds: Dataset, *, since: datetime | None = None, until: datetime | None = None) -> TrailReport:
    """Reconstruct every trail's configuration from the logs.

    ``until`` gives the state as of that time; ``since`` only trims the changes and findings
    shown (the state always needs the whole history before it).
    """
    bounds = ds.sql(
        "SELECT min(event_time) AS lo, max(event_time) AS hi FROM events" + (" WHERE event_time < ?" if until else ""),
        [until] if until else [],
    ).to_pylist()[0]
    data_start, data_end = bounds["lo"], bounds["hi"]
    delivered = delivered_trails(ds, until)
    rows = fetch_events(ds, until, [bucket for d in delivered for bucket in d.buckets])
    b = _Builder()
    b.index.learn_arns(rows)
    b.index.learn_deliveries(delivered)
    for row in rows:
        b.apply(row)
    b.finish(data_end)

    state_rows = []
    for arn in sorted(b.trails):
        trail = b.trails[arn]
        shown = display(trail.values)
        deps = b.deps.state_for(trail)
        for f in FIELDS:
            if f in deps:
                value, ref = deps[f]
            else:
                value, ref = shown[f], trail.set_by.get(f)
            state_rows.append(
                {
                    "trail": arn,
                    "trail_name": trail.name,
                    "field": f,
                    "value": value,
                    "since": ref.time if ref else None,
                    "event_name": ref.event_name if ref else None,
                    "actor": ref.actor if ref else None,
                    "event_id": ref.event_id if ref else None,
                }
            )

    def keep(r: dict[str, Any], key: str) -> bool:
        return since is None or r[key] is None or r[key] >= since

    changes = sorted((r for r in b.changes if keep(r, "event_time")), key=lambda r: (r.pop("_seq"), r["trail"] or ""))
    findings = sorted(
        (r for r in b.findings if keep(r, "event_time")),
        key=lambda r: (r.pop("_seq"), r["trail"] or "", r["finding"]),
    )
    stops = sorted(
        (s for s in b.stops if since is None or s["started_at"] is None or s["started_at"] >= since),
        key=lambda r: (r["stopped_at"], r["trail"]),
    )
    return TrailReport(
        trails=b.trails,
        state=pa.Table.from_pylist(state_rows, schema=STATE_SCHEMA),
        changes=pa.Table.from_pylist(changes, schema=CHANGES_SCHEMA),
        findings=pa.Table.from_pylist(findings, schema=FINDINGS_SCHEMA),
        stops=pa.Table.from_pylist(stops, schema=STOPS_SCHEMA),
        data_start=data_start,
        data_end=data_end,
        deliveries=deliveries(ds),
    )


def state_wide(report: TrailReport) -> pa.Table:
    """The current state as one row per trail and one column per setting."""
    rows: dict[str, dict[str, Any]] = {}
    for r in report.state.to_pylist():
        rows.setdefault(r["trail"], {"trail": r["trail"]})[r["field"]] = r["value"]
    return pa.Table.from_pylist(
        list(rows.values()), schema=pa.schema([("trail", pa.string())] + [(f, pa.string()) for f in FIELDS])
    )
