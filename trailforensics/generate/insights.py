"""CloudTrail Insights records (Start/End pairs) and their files."""

from __future__ import annotations

from dataclasses import dataclass

from trailforensics.generate.delivery import Batch
from trailforensics.generate.model import JSON
from trailforensics.generate.rng import Rng
from trailforensics.generate.timeutil import iso


@dataclass
class InsightSpec:
    account: str
    region: str
    event_source: str
    event_name: str
    insight_type: str  # ApiCallRateInsight | ApiErrorRateInsight
    start: int  # minute-aligned epoch
    duration_min: int
    baseline: float
    insight: float
    baseline_duration: int = 10080
    attributions: list[JSON] | None = None


def attribution(attribute: str, insight: list[tuple[str, float]], baseline: list[tuple[str, float]]) -> JSON:
    return {
        "attribute": attribute,
        "insight": [{"value": v, "average": a} for v, a in insight],
        "baseline": [{"value": v, "average": a} for v, a in baseline],
    }


def insight_pair(spec: InsightSpec, rng: Rng) -> tuple[JSON, JSON]:
    shared = rng.uuid()
    stats_start: JSON = {"baseline": {"average": spec.baseline}, "insight": {"average": spec.insight}}
    stats_end: JSON = dict(stats_start, insightDuration=spec.duration_min, baselineDuration=spec.baseline_duration)
    out = []
    for state, t, stats in (
        ("Start", spec.start, stats_start),
        ("End", spec.start + 60 * spec.duration_min, stats_end),
    ):
        ctx: JSON = {"statistics": stats}
        if spec.attributions:
            ctx["attributions"] = spec.attributions
        out.append(
            {
                "eventVersion": "1.08",
                "eventTime": iso(t),
                "awsRegion": spec.region,
                "eventID": rng.uuid(),
                "eventType": "AwsCloudTrailInsight",
                "recipientAccountId": spec.account,
                "sharedEventID": shared,
                "insightDetails": {
                    "state": state,
                    "eventSource": spec.event_source,
                    "eventName": spec.event_name,
                    "insightType": spec.insight_type,
                    "insightContext": ctx,
                },
                "eventCategory": "Insight",
            }
        )
    return out[0], out[1]


def insight_batches(spec: InsightSpec, rng: Rng) -> list[Batch]:
    """The Start and End records, each in its own delivery (Insights arrive minutes after the fact)."""
    start, end = insight_pair(spec, rng)
    t_start = spec.start
    t_end = spec.start + 60 * spec.duration_min
    return [
        Batch(
            spec.account,
            spec.region,
            t_start + rng.randint(240, 600),
            [start],
            t_start,
            t_start,
            rng.alnum(16),
        ),
        Batch(spec.account, spec.region, t_end + rng.randint(240, 600), [end], t_end, t_end, rng.alnum(16)),
    ]
