"""Deterministic generator of realistic CloudTrail S3 dumps (``aws s3 sync`` of a trail bucket).

Public API::

    from trailforensics.generate import generate_tree, GenerateStats
    stats = generate_tree(Path("out"), events=200_000, seed=7, digests=True)

The storyline of the committed ``sample_logs/`` (Metrolio) is not part of the package: it
lives in ``tools/sample/`` (``make sample``) and builds on the modules below.

Modules, one job each:

* `rng` (seeded ids, sub-seeds), `timeutil` (UTC formats), `useragents` (UAs, IPs);
* `model` (organisation, principals, userIdentity shapes), `resources` (resource names), `orgbuild`
  (a random organisation sized by event rate);
* `services` (API templates of ~40 services: `ec2`, `compute`, `storage`, `data`, `identity`,
  `security`, `platform`), `errors` (errorCode/errorMessage wording);
* `engine` (the record factory, AWS key order), `minting` (STS calls that mint sessions), `signin`
  (console and Identity Center sign-ins), `activities` and `schedule` (normal work of a shard);
* `delivery` (5-minute files, late events), `writer` (object keys, deterministic gzip), `insights`,
  `digests` (validation chains, signing, tamper helpers), `tree` (sharding, worker processes).
"""

from __future__ import annotations

from trailforensics.generate.tree import GenerateStats, generate_tree

__all__ = ["GenerateStats", "generate_tree"]
