"""Which first-use detections the dataset is too short to judge, so the hunt says so instead of staying silent.

A detection that calls a behaviour new only after a principal (or account, key...) has some
history declares that history as a parameter: ``baseline_hours`` or ``min_history_hours``.  On
a dataset spanning less than that, those detections cannot report a first use (every principal
is too young), which is not the same as "nothing new happened": the hunt summary's ``note``
says which detections were blind and why.  Detections needing no baseline fire on a single
burst and get no note.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from trailforensics.hunt.model import Detection
from trailforensics.query.named import QueryError

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

BASELINE_PARAMS: tuple[str, ...] = ("baseline_hours", "min_history_hours")


def baseline_hours(det: Detection, given: dict[str, str] | None = None) -> float | None:
    """The history (hours) the detection needs before a first use counts, with ``given`` overrides."""
    try:
        bound = det.bind(given)
    except QueryError:  # a bad parameter: the detection reports it when it runs
        return None
    for name in BASELINE_PARAMS:
        if any(p.name == name for p in det.params):
            return float(bound[name])
    return None


def dataset_span(ds: Dataset) -> timedelta | None:
    """From the first to the last event (None for an empty dataset)."""
    first, last = ds.sql("SELECT min(event_time) AS a, max(event_time) AS b FROM main.events").to_pylist()[0].values()
    return None if first is None or last is None else last - first


def short_baseline_notes(
    ds: Dataset, detections: Iterable[Detection], params: dict[str, dict[str, str]]
) -> dict[str, str]:
    """Detection id -> a note, for the detections whose baseline is longer than the dataset."""
    needs = {d.id: h for d in detections if (h := baseline_hours(d, params.get(d.id))) is not None}
    if not needs:
        return {}
    span = dataset_span(ds)
    hours = 0.0 if span is None else span.total_seconds() / 3600
    return {
        det_id: (
            f"baseline too short: the dataset spans {hours:.1f} h, this detection needs {need:g} h of a "
            "principal's history before a first use counts (first uses may be missing)"
        )
        for det_id, need in needs.items()
        if hours < need
    }
