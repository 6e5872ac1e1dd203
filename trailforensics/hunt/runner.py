"""Hunting a dataset: ``run_hunt`` -> ``HuntResult``, the one API behind ``trailforensics hunt``.

``run_hunt`` runs the built-in detections (or those given) and, with ``sigma=paths``, Sigma rules
(through :mod:`.sigma_bridge`), and merges their hits into one table of ``HITS_SCHEMA`` rows (the
``Hit`` shape of :mod:`.model`) with a per-detection summary.  The CLI only parses options and
renders this result, so a notebook gets exactly the CLI's answer.

Each detection runs on its own (one broken detection is reported in ``errors`` and the
others still run).  The detections see the whole dataset: ``since``/``until`` filter the
hits afterwards, never the baselines (first-seen, windows) the detections compute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from trailforensics.hunt import baseline, scope, sigma_bridge, sqlenv
from trailforensics.hunt.loader import load_detections
from trailforensics.hunt.model import (
    BUILTIN_AUTHOR,
    EVIDENCE_COLUMNS,
    EVIDENCE_SCHEMA,
    HITS_SCHEMA,
    METADATA_COLUMNS,
    SEVERITY_RANK,
    SUMMARY_SCHEMA,
    Detection,
    DetectionError,
    Hit,
    normalize_severity,
    one_lower,
)
from trailforensics.hunt.sigma_bridge import SigmaReport

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset


@dataclass
class HuntResult:
    """What a hunt found: what ``trailforensics hunt`` shows, in every format.

    ``hits`` and ``summary`` are in ``HITS_SCHEMA`` and ``SUMMARY_SCHEMA``; without Sigma rules
    (``sigma`` is None) they leave out ``author`` (see ``model.without_author``).
    """

    summary: pa.Table  # one row per detection that ran (hits may be 0) and per Sigma rule with hits
    hits: pa.Table  # most severe first, then by time
    errors: list[tuple[str, str]] = field(default_factory=list)  # (detection id or "sigma", message)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per detection (and "sigma": all rules)
    prepare_seconds: float = 0.0  # reading the events the scoped detections share (see .scope), before they run
    detections: list[Detection] = field(default_factory=list)  # the detections that ran
    sigma: SigmaReport | None = None  # the Sigma rules loaded, skipped and failed (None: no Sigma asked)

    @property
    def ok(self) -> bool:
        return not self.errors

    def iter_hits(self) -> Iterator[Hit]:
        """The hits as ``Hit`` objects (the table is the efficient form; this one is for reading)."""
        for row in self.hits.to_pylist():
            yield Hit.from_row(row)


def select_detections(
    detections: list[Detection], *, min_severity: str = "info", only: Iterable[str] | None = None
) -> list[Detection]:
    """The detections to run: those named in ``only`` (all when None) at or above ``min_severity``."""
    minimum = SEVERITY_RANK[normalize_severity(min_severity)]
    chosen = detections
    if only is not None:
        wanted = [o.strip() for o in only if o.strip()]
        known = {d.id for d in detections}
        unknown = [o for o in wanted if o not in known]
        if unknown:
            raise DetectionError(f"unknown detection id(s): {', '.join(unknown)} (see `trailforensics detections`)")
        chosen = [d for d in detections if d.id in set(wanted)]
    return [d for d in chosen if SEVERITY_RANK[d.severity] >= minimum]


def run_detection(
    ds: Dataset, det: Detection, params: dict[str, str] | None = None, narrowed: scope.Scope | None = None
) -> pa.Table:
    """Run one detection (the hunt environment must be prepared); returns ``HITS_SCHEMA`` rows.

    With ``narrowed`` (see :func:`scope.prepare_scope`), ``events`` is narrowed to the
    detection's declared pairs.  Raises ``DetectionError`` when the SQL does not return the
    evidence columns in order, or returns a row severity that is not a severity.
    """
    sql = det.sql if narrowed is None else scope.scoped_sql(det, narrowed)
    table = ds.sql(sql, det.bind(params))
    names = table.column_names
    if tuple(names[: len(EVIDENCE_COLUMNS)]) != EVIDENCE_COLUMNS:
        raise DetectionError(
            f"{det.id}: the SQL must return {', '.join(EVIDENCE_COLUMNS)} first "
            f"(got {', '.join(names[: len(EVIDENCE_COLUMNS)])})"
        )
    evidence = [table.column(c).cast(f.type) for c, f in zip(EVIDENCE_COLUMNS, EVIDENCE_SCHEMA, strict=True)]
    n = table.num_rows
    extra = names[len(EVIDENCE_COLUMNS) :]
    severities = table.column("severity").to_pylist() if "severity" in extra else [None] * n
    severity = _row_severity(det, severities)
    attempt = pa.array(
        [bool(a) for a in table.column("attempt").to_pylist()] if "attempt" in extra else [False] * n, pa.bool_()
    )
    if "attempt" in extra:  # a denied try: one severity lower than the success, and said so in the details
        flags = attempt.to_pylist()
        severity = pa.array([one_lower(s) if a else s for s, a in zip(severity.to_pylist(), flags)], pa.string())
        details = evidence[-1].to_pylist()
        evidence[-1] = pa.array([f"attempt: {d}" if a and d else d for d, a in zip(details, flags)], pa.string())
    meta = [
        pa.array([det.id] * n, pa.string()),
        pa.array([det.title] * n, pa.string()),
        severity,
        pa.array([", ".join(det.attack)] * n, pa.string()),
        pa.array([BUILTIN_AUTHOR] * n, pa.string()),
    ]
    return pa.Table.from_arrays([*meta, *evidence, attempt], schema=HITS_SCHEMA)


def _row_severity(det: Detection, values: list[Any]) -> pa.Array:
    """A per-row ``severity`` column may lower the detection's severity, never raise it."""
    cap = SEVERITY_RANK[det.severity]
    out = []
    for v in values:
        if v is None:
            out.append(det.severity)
            continue
        try:
            s = normalize_severity(str(v))
        except DetectionError as exc:
            raise DetectionError(f"{det.id}: row severity: {exc}") from exc
        out.append(s if SEVERITY_RANK[s] <= cap else det.severity)
    return pa.array(out, pa.string())


def filter_hits(
    hits: pa.Table,
    *,
    min_severity: str = "info",
    since: datetime | None = None,
    until: datetime | None = None,
) -> pa.Table:
    """Hits at or above ``min_severity`` with ``since <= event_time < until``."""
    if hits.num_rows == 0:
        return hits
    minimum = SEVERITY_RANK[normalize_severity(min_severity)]
    ranks = [SEVERITY_RANK.get(normalize_severity(s), 0) if s else 0 for s in hits.column("severity").to_pylist()]
    mask = pa.array([r >= minimum for r in ranks])
    times = hits.column("event_time")
    if since is not None:
        mask = pc.and_(mask, pc.fill_null(pc.greater_equal(times, pa.scalar(since, times.type)), False))
    if until is not None:
        mask = pc.and_(mask, pc.fill_null(pc.less(times, pa.scalar(until, times.type)), False))
    return hits.filter(mask)


def sort_hits(hits: pa.Table) -> pa.Table:
    """Most severe first, then by time, then detection and event id (a stable, total order)."""
    if hits.num_rows == 0:
        return hits
    rank = pa.array([-SEVERITY_RANK.get(str(s), 0) for s in hits.column("severity").to_pylist()], pa.int32())
    keyed = hits.append_column("__rank", rank)
    keyed = keyed.sort_by(
        [
            ("__rank", "ascending"),
            ("event_time", "ascending"),
            ("detection_id", "ascending"),
            ("event_id", "ascending"),
        ]
    )
    return keyed.drop_columns(["__rank"])


def summarize(hits: pa.Table, detections: Iterable[Detection] = (), notes: dict[str, str] | None = None) -> pa.Table:
    """One row per detection: the detections given (0 hits included) and any other id in ``hits``.

    ``hits`` is in ``HITS_SCHEMA``; the result in ``SUMMARY_SCHEMA`` (a detection's author is
    the one of its first hit, in the order of ``hits``; ``notes``: detection id -> its note).
    """
    rows: dict[str, dict[str, Any]] = {}
    authors: dict[str, str] = {}
    for det_id, author in zip(hits.column("detection_id").to_pylist(), hits.column("author").to_pylist()):
        authors.setdefault(det_id, author or "")
    for det in detections:
        rows[det.id] = {
            "detection_id": det.id,
            "title": det.title,
            "severity": det.severity,
            "attack": ", ".join(det.attack),
            "hits": 0,
            "first_time": None,
            "last_time": None,
            "_actors": set(),
            "attempts": 0,
        }
    columns = ["detection_id", "title", "severity", "attack", "event_time", "actor"]
    with_attempts = "attempt" in hits.column_names
    for h in hits.select(columns + (["attempt"] if with_attempts else [])).to_pylist():
        row = rows.setdefault(
            h["detection_id"],
            {
                "detection_id": h["detection_id"],
                "title": h["title"],
                "severity": h["severity"],
                "attack": h["attack"],
                "hits": 0,
                "first_time": None,
                "last_time": None,
                "_actors": set(),
                "attempts": 0,
            },
        )
        row["attempts"] += bool(h.get("attempt"))
        if SEVERITY_RANK.get(h["severity"], 0) > SEVERITY_RANK.get(row["severity"], 0):
            row["severity"] = h["severity"]
        row["hits"] += 1
        t = h["event_time"]
        if t is not None:
            row["first_time"] = t if row["first_time"] is None else min(row["first_time"], t)
            row["last_time"] = t if row["last_time"] is None else max(row["last_time"], t)
        if h["actor"] is not None:
            row["_actors"].add(h["actor"])
    out = []
    for row in rows.values():
        row["author"] = authors.get(row["detection_id"], BUILTIN_AUTHOR)
        actors = row.pop("_actors")
        row["distinct_actors"] = len(actors)
        row["note"] = (notes or {}).get(row["detection_id"])
        out.append(row)
    out.sort(key=lambda r: (-SEVERITY_RANK.get(r["severity"], 0), -r["hits"], r["detection_id"]))
    return pa.Table.from_pylist(out, schema=SUMMARY_SCHEMA)


def run_hunt(
    ds: Dataset,
    *,
    min_severity: str = "info",
    only: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    known_accounts: Iterable[str] | None = None,
    detections: list[Detection] | None = None,
    params: dict[str, dict[str, str]] | None = None,
    sigma: Sequence[Path | str] | None = None,
    scoped: bool = True,
    before_each: Callable[[str], None] | None = None,  # called with each detection's id (a progress bar; raise to stop)
) -> HuntResult:
    """Hunt ``ds`` with the built-in detections (or ``detections``) and the Sigma rules of ``sigma``.

    ``only``: detection ids to run (Sigma rules always run); ``min_severity``: skip detections
    (and hits) below it; ``since``/``until``: keep hits in ``[since, until)`` (the detections
    still see every event); ``known_accounts``: account ids trusted besides the dataset's
    recipient accounts; ``params``: ``{detection_id: {param: value}}`` overrides of the
    detections' parameters; ``sigma``: Sigma rule files or folders (needs the ``sigma`` extra);
    ``scoped``: narrow ``events`` to each detection's declared pairs (see :mod:`.scope`).

    Raises ``DetectionError`` (unknown id, severity or parameter target), ``SigmaUnavailable``
    and ``SigmaPathError``; a detection or the Sigma run failing is reported in ``errors``.
    """
    all_detections = detections if detections is not None else load_detections()
    chosen = select_detections(all_detections, min_severity=min_severity, only=only)
    unknown_params = sorted(set(params or {}) - {d.id for d in all_detections})
    if unknown_params:
        raise DetectionError(f"parameters given for unknown detection(s): {', '.join(unknown_params)}")
    report = sigma_bridge.load(sigma) if sigma is not None else None
    started = time.perf_counter()
    sqlenv.prepare(ds, known_accounts)
    notes = baseline.short_baseline_notes(ds, chosen, params or {})
    narrowed = scope.prepare_scope(ds, chosen) if scoped else None
    prepare_seconds = time.perf_counter() - started
    parts: list[pa.Table] = []
    errors: list[tuple[str, str]] = []
    timings: dict[str, float] = {}
    try:
        for det in chosen:
            if before_each is not None:  # between detections: where Ctrl-C, which DuckDB swallows, stops the hunt
                before_each(det.id)
            started = time.perf_counter()
            try:
                parts.append(run_detection(ds, det, (params or {}).get(det.id), narrowed))
            except Exception as exc:  # one broken detection must not stop the hunt
                errors.append((det.id, one_line(exc)))
            timings[det.id] = time.perf_counter() - started
    finally:
        if narrowed is not None:
            scope.drop_scope(narrowed)
    if report is not None:
        started = time.perf_counter()
        try:
            parts.append(sigma_bridge.run(ds, report))
        except Exception as exc:  # the built-ins' results still count
            errors.append(("sigma", one_line(exc)))
        timings["sigma"] = time.perf_counter() - started
    hits = pa.concat_tables(parts) if parts else HITS_SCHEMA.empty_table()
    hits = sort_hits(filter_hits(hits, min_severity=min_severity, since=since, until=until))
    ran = [d for d in chosen if d.id not in {e[0] for e in errors}]
    summary = summarize(hits, ran, notes)
    if report is None:  # the built-ins alone: every author would be trailforensics
        hits, summary = hits.drop_columns(["author"]), summary.drop_columns(["author"])
    return HuntResult(
        summary=summary,
        hits=hits,
        errors=errors,
        timings=timings,
        prepare_seconds=prepare_seconds,
        detections=ran,
        sigma=report,
    )


def one_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


__all__ = [
    "METADATA_COLUMNS",
    "HuntResult",
    "filter_hits",
    "one_line",
    "run_detection",
    "run_hunt",
    "select_detections",
    "sort_hits",
    "summarize",
]
