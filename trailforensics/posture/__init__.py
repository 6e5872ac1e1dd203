"""Logging posture and identity pivots reconstructed from the logs themselves.

* :func:`trails` - each trail's configuration over time, its dependencies (S3 bucket, KMS
  key) and the findings against good practice (:class:`TrailReport`);
* :func:`trace` - where credentials came from and what was derived from them
  (:class:`TraceResult`, built on :class:`SessionGraph`);
* :func:`policy` (:mod:`.least_privilege`) - a least-privilege IAM policy from observed successful
  actions (:class:`PolicyResult`), with the event-name -> IAM-action exceptions in ``data/``;
* :func:`coverage` (:mod:`.activity_coverage`) - events per account x region x day/hour, unusual
  regions and possible logging gaps (:class:`CoverageReport`).

The resource policies and bucket settings that protect a trail's logs (bucket and key policies,
lifecycle rules, ACLs) are read by :mod:`.resource_policies`, for :func:`trails`.  Digest hour
coverage (is an hour provably complete?) is another matter: :mod:`trailforensics.verify.hour_coverage`.

Every function takes a :class:`~trailforensics.engine.Dataset` and returns Arrow tables
inside small dataclasses; the CLI (``trails``, ``trace``, ``policy``, ``coverage``) only renders them.
"""

from trailforensics.posture.actions import map_event
from trailforensics.posture.activity_coverage import CoverageReport, coverage, heatmap_lines
from trailforensics.posture.deliveries import deliveries
from trailforensics.posture.graph import SessionGraph
from trailforensics.posture.least_privilege import PolicyError, PolicyResult, policy
from trailforensics.posture.recording import recording
from trailforensics.posture.trace import TraceError, TraceResult, trace
from trailforensics.posture.trails import TrailReport, state_wide, trails

__all__ = [
    "CoverageReport",
    "PolicyError",
    "PolicyResult",
    "SessionGraph",
    "TraceError",
    "TraceResult",
    "TrailReport",
    "coverage",
    "deliveries",
    "heatmap_lines",
    "map_event",
    "policy",
    "recording",
    "state_wide",
    "trace",
    "trails",
]
