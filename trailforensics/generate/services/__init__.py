"""API templates for about forty AWS services (see `base` for the registry)."""

from __future__ import annotations

from trailforensics.generate.services import compute, data, ec2, identity, platform, security, storage  # noqa: F401
from trailforensics.generate.services.base import REGISTRY, WEIGHTS, Api, Service, register, res

__all__ = ["REGISTRY", "WEIGHTS", "Api", "Service", "register", "res"]
