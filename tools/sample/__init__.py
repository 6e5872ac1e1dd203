"""The Metrolio storyline that rebuilds the committed ``sample_logs/`` (not installed with the package).

``make sample`` (``python -m tools.sample sample_logs``) or::

    from tools.sample import build_sample
    facts = build_sample(Path("sample_logs"))

It scripts one organisation and one incident on top of the product's generator
(:mod:`trailforensics.generate`: record factory, services, sessions, delivery, digests).
Modules, one job each:

* `org` - Metrolio: accounts, people, roles, trails, buckets, seed;
* `routines` - the scripted normal work the story relies on;
* `trail_setup` - the S3 data-event trail created on 2026-03-09;
* `story` - the incident of 2026-03-10 (recon, persistence, StopLogging);
* `impact` - role chain, exfiltration, mining, the deleted log file and StartLogging;
* `facts`, `readme` - the facts block and the storyline of ``sample_logs/README.md``;
* `build` - background, delivery, digests, the three buckets: :func:`build_sample`.
"""

from __future__ import annotations

from tools.sample.build import build_sample

__all__ = ["build_sample"]
