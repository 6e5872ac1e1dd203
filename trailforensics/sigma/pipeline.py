"""The CloudTrail processing pipeline: how Sigma field names map onto our schema, as data.

Sigma rules name CloudTrail keys (``eventName``, ``userIdentity.arn``,
``requestParameters.bucketName``).  The dataset stores the top-level keys in typed
snake_case columns and the variable parts as JSON text (``trailforensics.schema``).  The
pipeline below is a plain dict (``pipeline_definition()``; dump it with ``yaml.safe_dump``)
turned into a pySigma ``ProcessingPipeline``.  Its transformations, in order:

1. ``cloudtrail_logsource``: every rule that is not ``product: aws`` + ``service: cloudtrail``
   fails with a clear message;
2. ``cloudtrail_columns``: exact paths -> typed columns (``eventSource`` -> ``event_source``,
   ``userIdentity.sessionContext.sessionIssuer.type`` -> ``session_issuer_type``...) and whole
   JSON objects (``requestParameters`` -> ``request_parameters``), plus ``PATH_OVERRIDES``.
   Specific paths come before the prefixes of step 3;
3. ``cloudtrail_json_paths``: prefixes -> a JSON column and a path inside it
   (``requestParameters.a.b`` -> ``request_parameters.a.b``);
4. ``cloudtrail_unknown_fields``: any field (or field reference) that is neither a column
   nor inside a JSON column fails the rule (``status``, ``src_country``).  Our own column
   names (``event_name``, the view's ``actor``/``service``) are accepted as field names too.

The backend (``backend.py``) reads the mapped names: a column name, or ``<json column>.<path>``
whose segments are JSON keys.  A segment ending in ``[]`` is a list: the backend matches
*any* element.  Paths without an explicit ``[]`` use ``LIST_KEYS``: a segment named like one
of them is treated as "a list when it is a JSON array" (a scalar or object still matches).
"""

from __future__ import annotations

import re
from typing import Any

from trailforensics.schema import COLUMN_NAMES, CORE_COLUMNS, IDENTITY_COLUMNS, JSON_COLUMNS

# CloudTrail keys whose value is (usually) a JSON array; matched with "any element" semantics.
# EC2 wraps most lists as {"items": [...]} (``ipPermissions``, ``tagSet``), other services use
# plain arrays (``containerDefinitions``, ``layers``, ``command``, policy ``Statement``).
LIST_KEYS: frozenset[str] = frozenset(
    {
        "items",
        "containerDefinitions",
        "command",
        "entryPoint",
        "layers",
        "Statement",
        "tagSet",
        "ipPermissions",
        "resources",
        "instancesSet",
        "Tags",
        "tags",
        "Tag",
        "Action",
        "Resource",
    }
)

# Per-path overrides: a Sigma field -> the mapped name with explicit list markers (``[]``).
# An entry here replaces the ``LIST_KEYS`` guess for that field.
_PERMS = "ipPermissions.items"
PATH_OVERRIDES: dict[str, str] = {
    f"requestParameters.{_PERMS}.ipRanges.items.cidrIp": f"request_parameters.{_PERMS}[].ipRanges.items[].cidrIp",
    f"requestParameters.{_PERMS}.ipv6Ranges.items.cidrIpv6": (
        f"request_parameters.{_PERMS}[].ipv6Ranges.items[].cidrIpv6"
    ),
}

# Top-level keys without a typed column: the normaliser keeps them verbatim in ``extra``.
EXTRA_KEYS: tuple[str, ...] = ("addendum", "edgeDeviceDetails", "vpcEndpointAccountId", "annotation", "insightContext")

# Columns of the ``events`` view that are computed, not stored.
VIEW_COLUMNS: tuple[str, ...] = ("actor", "service")

LOGSOURCE_MESSAGE = (
    "not a CloudTrail rule: the logsource must be product: aws, service: cloudtrail "
    "(this toolkit only holds CloudTrail events)"
)
UNKNOWN_FIELD_MESSAGE = (
    "field is not a CloudTrail field: it is neither a typed column nor a path inside "
    "requestParameters/responseElements/additionalEventData/userIdentity/resources/"
    "serviceEventDetails"
)


def column_mapping() -> dict[str, str]:
    """CloudTrail dotted path -> typed column, and whole JSON objects -> their JSON column."""
    mapping: dict[str, str] = dict(PATH_OVERRIDES)
    for col in (*CORE_COLUMNS, *IDENTITY_COLUMNS):
        if col.source:
            mapping[col.source] = col.name
    for col in JSON_COLUMNS:
        if col.source:
            mapping[col.source] = col.name
    for key in EXTRA_KEYS:
        mapping[key] = f"extra.{key}"
    return mapping


def prefix_mapping() -> dict[str, str]:
    """CloudTrail key prefix -> JSON column (and the path inside it)."""
    mapping = {f"{col.source}.": f"{col.name}." for col in JSON_COLUMNS if col.source}
    for key in EXTRA_KEYS:
        mapping[f"{key}."] = f"extra.{key}."
    # tlsDetails keys other than the three typed ones exist only when the object was odd
    # (the normaliser then keeps the original object in ``original_values``).
    mapping["tlsDetails."] = "original_values.tlsDetails."
    return mapping


def json_columns() -> tuple[str, ...]:
    """Columns holding JSON text (``null_fields`` is a plain comma-separated list)."""
    return tuple(c.name for c in JSON_COLUMNS if c.name != "null_fields")


def typed_columns() -> tuple[str, ...]:
    return (*(c for c in COLUMN_NAMES if c not in json_columns()), *VIEW_COLUMNS)


def allowed_field_patterns() -> list[str]:
    """Regular expressions of the mapped field names the backend can render."""
    names = "|".join(re.escape(c) for c in typed_columns())
    objects = "|".join(re.escape(c) for c in json_columns())
    return [f"^({names})$", f"^({objects})(\\..+)?$"]


def pipeline_definition() -> dict[str, Any]:
    """The pipeline as plain data (``ProcessingPipeline.from_dict`` input; YAML-serialisable)."""
    return {
        "name": "trailforensics CloudTrail",
        "priority": 20,
        "transformations": [
            {
                "id": "cloudtrail_logsource",
                "type": "rule_failure",
                "message": LOGSOURCE_MESSAGE,
                "rule_conditions": [{"type": "logsource", "product": "aws", "service": "cloudtrail"}],
                "rule_cond_not": True,
            },
            {"id": "cloudtrail_columns", "type": "field_name_mapping", "mapping": column_mapping()},
            {"id": "cloudtrail_json_paths", "type": "field_name_prefix_mapping", "mapping": prefix_mapping()},
            {
                "id": "cloudtrail_unknown_fields",
                "type": "detection_item_failure",
                "message": UNKNOWN_FIELD_MESSAGE,
                "field_name_conditions": [
                    {"type": "exclude_fields", "mode": "re", "fields": allowed_field_patterns()},
                ],
            },
        ],
    }


def cloudtrail_pipeline() -> Any:
    """A fresh pySigma ``ProcessingPipeline`` built from ``pipeline_definition()``."""
    from sigma.processing.pipeline import ProcessingPipeline

    return ProcessingPipeline.from_dict(pipeline_definition())


def is_known_field(mapped: str) -> bool:
    return any(re.match(p, mapped) for p in allowed_field_patterns())
