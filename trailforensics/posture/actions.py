"""CloudTrail event names to IAM actions.

An event's IAM action is usually ``<service prefix>:<eventName>``, but not always: S3's
``ListBuckets`` needs ``s3:ListAllMyBuckets``, old Lambda event names carry an API-version
suffix (``UpdateFunctionConfiguration20150331v2``), ``monitoring.amazonaws.com`` is the
``cloudwatch`` prefix, and some events need no permission at all (``ConsoleLogin``,
``GetCallerIdentity``).  The exceptions are data, in ``data/iam_actions.json``.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

_VERSION_SUFFIX = re.compile(r"^([A-Za-z]+?)(\d{8}(?:v\d+)?|\d{4}_\d{2}_\d{2})$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


@lru_cache(maxsize=1)
def mapping_data() -> dict[str, Any]:
    text = resources.files("trailforensics.posture").joinpath("data/iam_actions.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True)
class Mapped:
    actions: tuple[str, ...]  # empty when the event needs no IAM action (or cannot be mapped)
    how: str  # exception | default | no-action | unmapped | not-an-api-call
    reason: str = ""
    api_name: str = ""  # the event name without an API-version suffix


def service_prefix(event_source: str) -> str | None:
    data = mapping_data()
    if event_source in data["service_prefixes"]:
        return str(data["service_prefixes"][event_source])
    if event_source.endswith(".amazonaws.com"):
        return event_source[: -len(".amazonaws.com")]
    return None


def api_name(event_source: str, event_name: str) -> str:
    """The documented API name: ``ListFunctions20150331`` -> ``ListFunctions``."""
    m = _VERSION_SUFFIX.match(event_name)
    if m and (event_source in mapping_data()["version_suffix_sources"] or m.group(2)[:2] in ("19", "20")):
        return m.group(1)
    return event_name


def map_event(event_source: str | None, event_name: str | None, event_type: str | None = None) -> Mapped:
    data = mapping_data()
    source, name = event_source or "", event_name or ""
    if event_type in ("AwsServiceEvent", "AwsCloudTrailInsight", "AwsVpceEvent"):
        return Mapped((), "not-an-api-call", f"{event_type}: not an action of the principal", name)
    if event_type == "AwsConsoleAction":
        return Mapped((), "unmapped", "console action: no API behind it", name)
    for pattern, reason in data["no_action"].items():
        src, _, evpat = pattern.partition(":")
        if src == source and fnmatch.fnmatchcase(name, evpat):
            return Mapped((), "no-action", str(reason), name)
    prefix = service_prefix(source)
    if prefix is None:
        return Mapped((), "unmapped", f"event source {source!r} is not an AWS service endpoint", name)
    base = api_name(source, name)
    if not _NAME.match(base):
        return Mapped((), "unmapped", f"event name {name!r} is not an API name", base)
    key = f"{source}:{base}"
    if key in data["actions"]:
        actions = tuple(data["actions"][key])
        return Mapped(actions, "exception" if actions else "no-action", "" if actions else "needs no IAM action", base)
    return Mapped((f"{prefix}:{base}",), "default", "", base)
