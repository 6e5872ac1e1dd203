"""trailforensics: offline AWS CloudTrail forensics.

The package is usable from a notebook as well as from the CLI::

    from trailforensics import Dataset, ingest
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
