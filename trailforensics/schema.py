"""The dataset schema: the one place that defines every column.

Everything else (the normaliser, the writer, the DuckDB views, docs/SCHEMA.md) imports
these definitions.  Changing a column here is a change to the dataset contract: bump
``SCHEMA_VERSION`` and regenerate the docs (``make docs``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

SCHEMA_VERSION = 1

TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    group: str
    doc: str
    source: str = ""  # the CloudTrail key (dotted path) the column comes from, if any


def _c(name: str, typ: pa.DataType, group: str, source: str, doc: str) -> Column:
    return Column(name, typ, group, doc, source)


S = pa.string()
B = pa.bool_()

# Top-level CloudTrail keys held in typed columns: key -> column.  A value that cannot be
# stored exactly (wrong JSON type, unparseable time) goes to ``original_values``.
CORE_COLUMNS: tuple[Column, ...] = (
    _c(
        "event_time",
        TIMESTAMP,
        "core",
        "eventTime",
        "When the request was made, UTC, microseconds. NULL when `eventTime` is missing or not a "
        "time (the original text is then in `original_values`).",
    ),
    _c("event_version", S, "core", "eventVersion", "Log record format version, e.g. `1.08`."),
    _c(
        "event_source",
        S,
        "core",
        "eventSource",
        "Service that received the request, e.g. `iam.amazonaws.com`.",
    ),
    _c("event_name", S, "core", "eventName", "API action or event, e.g. `AssumeRole`, `ConsoleLogin`."),
    _c("aws_region", S, "core", "awsRegion", "Region the request went to (global services log `us-east-1`)."),
    _c(
        "source_ip_address",
        S,
        "core",
        "sourceIPAddress",
        "Caller IP address, or a service name such as `ec2.amazonaws.com` / `AWS Internal`. Kept verbatim "
        "(it can hold two comma-separated addresses).",
    ),
    _c("user_agent", S, "core", "userAgent", "Caller user agent. Attacker-controlled text."),
    _c("error_code", S, "core", "errorCode", "AWS error code when the request failed, else NULL."),
    _c("error_message", S, "core", "errorMessage", "AWS error message when the request failed, else NULL."),
    _c("request_id", S, "core", "requestID", "Request id assigned by the service."),
    _c("event_id", S, "core", "eventID", "CloudTrail's unique id of the event (GUID). Part of the dedup key."),
    _c(
        "shared_event_id",
        S,
        "core",
        "sharedEventID",
        "GUID shared by the copies of one cross-account event delivered to each account.",
    ),
    _c(
        "event_type",
        S,
        "core",
        "eventType",
        "`AwsApiCall`, `AwsServiceEvent`, `AwsConsoleAction`, `AwsConsoleSignIn`, `AwsCloudTrailInsight`...",
    ),
    _c("event_category", S, "core", "eventCategory", "`Management`, `Data`, `Insight` or `NetworkActivity`."),
    _c(
        "read_only",
        B,
        "core",
        "readOnly",
        'Whether the operation is read-only. Strings such as `"True"` are coerced (original kept).',
    ),
    _c("management_event", B, "core", "managementEvent", "Whether the event is a management event."),
    _c(
        "recipient_account_id",
        S,
        "core",
        "recipientAccountId",
        "Account that received this copy of the event. Part of the dedup key.",
    ),
    _c("api_version", S, "core", "apiVersion", "API version of the service, when the service logs it."),
    _c("vpc_endpoint_id", S, "core", "vpcEndpointId", "VPC endpoint the request came through, if any."),
    _c(
        "session_credential_from_console",
        B,
        "core",
        "sessionCredentialFromConsole",
        'True when the session credentials came from the console. AWS writes the string "true"; a JSON '
        "boolean is coerced and kept in `original_values`.",
    ),
)

IDENTITY_COLUMNS: tuple[Column, ...] = (
    _c(
        "user_identity_type",
        S,
        "identity",
        "userIdentity.type",
        "`IAMUser`, `AssumedRole`, `Root`, `AWSService`, `FederatedUser`, `AWSAccount`, "
        "`IdentityCenterUser`, `SAMLUser`, `WebIdentityUser`, `Unknown`.",
    ),
    _c("user_identity_principal_id", S, "identity", "userIdentity.principalId", "Principal id of the caller."),
    _c("user_identity_arn", S, "identity", "userIdentity.arn", "ARN of the caller."),
    _c("user_identity_account_id", S, "identity", "userIdentity.accountId", "Account that owns the caller."),
    _c(
        "user_identity_access_key_id",
        S,
        "identity",
        "userIdentity.accessKeyId",
        "Access key used to sign the request (`AKIA...` long-term, `ASIA...` temporary).",
    ),
    _c(
        "user_identity_user_name",
        S,
        "identity",
        "userIdentity.userName",
        "User name, when CloudTrail gives one.",
    ),
    _c(
        "user_identity_invoked_by",
        S,
        "identity",
        "userIdentity.invokedBy",
        "Service that made the request on the caller's behalf, e.g. `ec2.amazonaws.com`.",
    ),
    _c(
        "user_identity_identity_provider",
        S,
        "identity",
        "userIdentity.identityProvider",
        "SAML/OIDC provider of a federated user (falls back to "
        "`sessionContext.webIdFederationData.federatedProvider`).",
    ),
    _c(
        "user_identity_credential_id",
        S,
        "identity",
        "userIdentity.credentialId",
        "Identity Center / bearer-token credential id.",
    ),
    _c(
        "session_issuer_type",
        S,
        "identity",
        "userIdentity.sessionContext.sessionIssuer.type",
        "Type of the entity that issued the session, e.g. `Role`.",
    ),
    _c(
        "session_issuer_principal_id",
        S,
        "identity",
        "userIdentity.sessionContext.sessionIssuer.principalId",
        "Principal id of the session issuer.",
    ),
    _c(
        "session_issuer_arn",
        S,
        "identity",
        "userIdentity.sessionContext.sessionIssuer.arn",
        "ARN of the role (or user) that issued the session.",
    ),
    _c(
        "session_issuer_account_id",
        S,
        "identity",
        "userIdentity.sessionContext.sessionIssuer.accountId",
        "Account owning the session issuer.",
    ),
    _c(
        "session_issuer_user_name",
        S,
        "identity",
        "userIdentity.sessionContext.sessionIssuer.userName",
        "Name of the role or user that issued the session.",
    ),
    _c(
        "session_mfa_authenticated",
        B,
        "identity",
        "userIdentity.sessionContext.attributes.mfaAuthenticated",
        'Whether the session was MFA-authenticated (`"true"`/`"false"` strings coerced).',
    ),
    _c(
        "session_creation_date",
        TIMESTAMP,
        "identity",
        "userIdentity.sessionContext.attributes.creationDate",
        "When the session credentials were issued, UTC (ISO 8601 and compact `20131102T010628Z` accepted).",
    ),
    _c(
        "session_source_identity",
        S,
        "identity",
        "userIdentity.sessionContext.sourceIdentity",
        "Source identity set on the role session (`sts:SourceIdentity`).",
    ),
    _c("tls_version", S, "identity", "tlsDetails.tlsVersion", "TLS version of the request, e.g. `TLSv1.3`."),
    _c("tls_cipher_suite", S, "identity", "tlsDetails.cipherSuite", "TLS cipher suite."),
    _c(
        "tls_client_provided_host_header",
        S,
        "identity",
        "tlsDetails.clientProvidedHostHeader",
        "Host header the client sent (the endpoint name).",
    ),
)

JSON_COLUMNS: tuple[Column, ...] = (
    _c(
        "user_identity",
        S,
        "json",
        "userIdentity",
        "The whole `userIdentity` object as JSON text (the flattened columns above are derived from it).",
    ),
    _c(
        "request_parameters",
        S,
        "json",
        "requestParameters",
        "`requestParameters` as JSON text. When the log held it as a JSON *string* of an object, the parsed "
        "object is stored here and the original string in `original_values`.",
    ),
    _c("response_elements", S, "json", "responseElements", "`responseElements` as JSON text."),
    _c("additional_event_data", S, "json", "additionalEventData", "`additionalEventData` as JSON text."),
    _c(
        "resources",
        S,
        "json",
        "resources",
        "`resources` (a JSON array of {ARN, accountId, type}) as JSON text.",
    ),
    _c("service_event_details", S, "json", "serviceEventDetails", "`serviceEventDetails` as JSON text."),
    _c("insight_details", S, "json", "insightDetails", "`insightDetails` of Insight events as JSON text."),
    _c(
        "extra",
        S,
        "json",
        "",
        "JSON object of every top-level key that has no column of its own (e.g. `edgeDeviceDetails`, "
        "`addendum`, unknown or misspelled keys), values verbatim. NULL when there are none.",
    ),
    _c(
        "original_values",
        S,
        "json",
        "",
        "JSON object of known top-level keys whose original value could not be held exactly by its typed "
        "column (wrong JSON type, a non-canonical or invalid `eventTime`, a JSON-string `requestParameters`, "
        "odd `tlsDetails`). NULL for almost every row.",
    ),
    _c(
        "null_fields",
        S,
        "json",
        "",
        "Comma-separated top-level keys that were present with the JSON value `null` (e.g. "
        "`responseElements`). Needed to rebuild the record exactly; NULL when none.",
    ),
)

PROVENANCE_COLUMNS: tuple[Column, ...] = (
    _c(
        "source_file",
        S,
        "provenance",
        "",
        "Input file the row came from, relative to the source root given to `ingest` (extended up to the "
        "folder holding `AWSLogs/` when the root lies inside an AWSLogs tree, so it reads like the S3 key). "
        "When two sources of one run hold the same relative path (two syncs of one bucket), the source folder's "
        "name comes first. Archive members: `archive.zip!/member`. Standard input: `<stdin>`.",
    ),
    _c(
        "record_index",
        pa.int32(),
        "provenance",
        "",
        "Position of the record in its file (0-based; for JSON Lines and other item lists the item's position, "
        "rejected items counted).",
    ),
    _c(
        "source_format",
        S,
        "provenance",
        "",
        'Shape of the input: `cloudtrail` (an S3 log file or console JSON download, `{"Records": [...]}`), '
        "`cloudtrail-insight`, `lookup-events`, `jsonl`, `cloudwatch-logs`, `json-array`, `eventbridge`, "
        "`event-history-csv`.",
    ),
    _c(
        "source_org_id",
        S,
        "provenance",
        "",
        "Organisation id from the file path (`o-...`), organisation trails only.",
    ),
    _c("source_account_id", S, "provenance", "", "Account id from the file path (`AWSLogs/<account>/`)."),
    _c("source_region", S, "provenance", "", "Region from the file path."),
    _c(
        "partial_record",
        B,
        "provenance",
        "",
        "True when the input carried only part of the record (a console Event history CSV without its "
        "CloudTrail event column, a lookup-events Event without `CloudTrailEvent`): only the exported fields "
        "are known.",
    ),
    _c(
        "record_hash",
        S,
        "provenance",
        "",
        "SHA-256 of the canonical record, set only when `eventID` is missing (it is then the dedup key).",
    ),
    _c("ingest_run", S, "provenance", "", "Id of the ingest run that wrote the row (see `runs/`)."),
)

COLUMNS: tuple[Column, ...] = CORE_COLUMNS + IDENTITY_COLUMNS + JSON_COLUMNS + PROVENANCE_COLUMNS
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

# The hive partition column.  It is not stored inside the files (readers derive it from the path).
PARTITION_COLUMN = "event_date"
PARTITION_DOC = (
    "Hive partition `event_date=YYYY-MM-DD` (UTC date of `event_time`); NULL when the time is missing or unusable "
    "(folder `event_date=__HIVE_DEFAULT_PARTITION__`, the Hive spelling of NULL)."
)

EVENT_SCHEMA = pa.schema([pa.field(c.name, c.type) for c in COLUMNS])

# Mappings used by the normaliser.
TOP_LEVEL_STRING_KEYS: dict[str, str] = {c.source: c.name for c in CORE_COLUMNS if c.type == S}
# Boolean columns whose AWS JSON form is the *string* "true"/"false" (rebuilt as strings).
STRING_BOOL_KEYS: dict[str, str] = {"sessionCredentialFromConsole": "session_credential_from_console"}
TOP_LEVEL_BOOL_KEYS: dict[str, str] = {
    c.source: c.name for c in CORE_COLUMNS if c.type == B and c.source not in STRING_BOOL_KEYS
}
TOP_LEVEL_JSON_KEYS: dict[str, str] = {c.source: c.name for c in JSON_COLUMNS if c.source}
TLS_KEYS: dict[str, str] = {
    "tlsVersion": "tls_version",
    "cipherSuite": "tls_cipher_suite",
    "clientProvidedHostHeader": "tls_client_provided_host_header",
}
KNOWN_TOP_LEVEL_KEYS: frozenset[str] = frozenset(
    ["eventTime", "tlsDetails", *TOP_LEVEL_STRING_KEYS, *TOP_LEVEL_BOOL_KEYS, *STRING_BOOL_KEYS, *TOP_LEVEL_JSON_KEYS]
)

# Other tables of the dataset ------------------------------------------------------------

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("path", S),  # absolute path at ingest time (the identity of an input file)
        pa.field("source_file", S),  # as in the events table
        pa.field("size", pa.int64()),
        pa.field("mtime_ns", pa.int64()),
        pa.field("ctime_ns", pa.int64()),
        pa.field("sha256", S),
        pa.field("kind", S),  # cloudtrail, cloudtrail-insight, cloudtrail-digest, other
        pa.field("status", S),  # ingested, failed, skipped, changed
        pa.field("reason", S),  # why skipped / failed
        pa.field("records", pa.int64()),
        pa.field("rows_written", pa.int64()),
        pa.field("duplicates", pa.int64()),
        pa.field("rejected", pa.int64()),
        pa.field("org_id", S),
        pa.field("account_id", S),
        pa.field("region", S),
        pa.field("file_time", TIMESTAMP),  # the timestamp in the file name
        pa.field("ingest_run", S),
        pa.field("ingested_at", TIMESTAMP),
    ]
)

MANIFEST_DOCS: dict[str, str] = {
    "path": "Absolute real path of the input file when it was ingested (the file's identity for incremental "
    "runs; links resolved; undecodable bytes of a file name as `\\xNN`). Standard input and pipes: "
    "`<stdin>:sha256:<hash>`, `<pipe>:sha256:<hash>`. Archive members: the archive's path + `!/member`.",
    "source_file": "The same path as `events.source_file`.",
    "size": "Size in bytes.",
    "mtime_ns": "Modification time (ns since the epoch); with `size` and `ctime_ns`, used to skip unchanged files "
    "without hashing.",
    "ctime_ns": "Status-change time (ns since the epoch): it moves even when an edit restores the modification "
    "time, so such a file is hashed again (`ingest --rehash` hashes every file).",
    "sha256": "SHA-256 of the file's bytes as read (compressed).",
    "kind": "`cloudtrail`, `cloudtrail-insight`, `cloudtrail-digest` or `other`.",
    "status": "`ingested`, `failed` (see `reason`; includes folders that could not be listed), `skipped` (not "
    "event data; see `reason`), `unchanged` (hashed again, same bytes) or `changed` (the bytes under this path "
    "changed after it was ingested: possible tampering; not re-ingested).",
    "reason": "Why the file failed or was skipped; NULL when ingested.",
    "records": "Records read from the file.",
    "rows_written": "Rows written to `events`.",
    "duplicates": "Records dropped as duplicates of an event already in the dataset.",
    "rejected": "Records rejected (a `Records` element that is not a JSON object).",
    "org_id": "Organisation id from the path.",
    "account_id": "Account id from the path.",
    "region": "Region from the path.",
    "file_time": "Delivery time in the file name (`..._20260310T0215Z_...`), UTC.",
    "ingest_run": "Run that considered the file.",
    "ingested_at": "When that run ran, UTC.",
}

DUPLICATES_SCHEMA = pa.schema(
    [
        pa.field("event_id", S),
        pa.field("recipient_account_id", S),
        pa.field("record_hash", S),
        pa.field("event_time", TIMESTAMP),
        pa.field("source_file", S),
        pa.field("record_index", pa.int32()),
        pa.field("ingest_run", S),
    ]
)

DUPLICATES_DOCS: dict[str, str] = {
    "event_id": "eventID of the dropped copy.",
    "recipient_account_id": "recipientAccountId of the dropped copy.",
    "record_hash": "Canonical-record hash when the copy had no eventID.",
    "event_time": "Event time of the dropped copy.",
    "source_file": "File the dropped copy came from (join `events` on the key to find the kept copy).",
    "record_index": "Position of the dropped copy in its file.",
    "ingest_run": "Run that dropped it.",
}
