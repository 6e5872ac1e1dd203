"""The `events` table: every stored column, the partition column, and the helper columns
the `events` view computes (``actor``, ``service``, ``verification_status``, with their SQL).

The normaliser, the writer, the DuckDB views and docs/SCHEMA.md all read these definitions.
"""

from __future__ import annotations

import pyarrow as pa

from trailforensics.schema.column import DATE, TIMESTAMP, B, Column, S, arrow_schema


def _c(name: str, typ: pa.DataType, group: str, source: str, doc: str) -> Column:
    return Column(name, typ, group, doc, source)


# Top-level CloudTrail keys held in typed columns: key -> column.  A value that cannot be
# stored exactly (wrong JSON type, unparseable time) goes to ``original_values``.
CORE_COLUMNS: tuple[Column, ...] = (
    _c(
        "event_time",
        TIMESTAMP,
        "core",
        "eventTime",
        "When the request was made, UTC, microseconds. NULL when `eventTime` is missing or not a "
        "time (the original text is then in `original_values`). A record without `eventTime` takes the "
        "time of its `@timestamp` (SIEM exports), noted as `$event_time_from` in `original_values`.",
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
PARTITION = Column(
    "event_date",
    DATE,
    "partition",
    "Hive partition `event_date=YYYY-MM-DD` (UTC date of `event_time`); NULL when the time is missing or unusable "
    "(folder `event_date=__HIVE_DEFAULT_PARTITION__`, the Hive spelling of NULL).",
)
PARTITION_COLUMN = PARTITION.name
PARTITION_DOC = PARTITION.doc

EVENT_SCHEMA = arrow_schema(COLUMNS)

# Helper columns: computed by the `events` view from the stored ones, never stored.
# The human-meaningful principal behind an event.
ACTOR_SQL = """coalesce(
    CASE user_identity_type
        WHEN 'Root' THEN coalesce(user_identity_arn, 'arn:aws:iam::' || user_identity_account_id || ':root')
        WHEN 'AWSService' THEN user_identity_invoked_by
        WHEN 'AWSAccount' THEN 'account:' || coalesce(user_identity_account_id, user_identity_principal_id)
            || coalesce(' via ' || user_identity_invoked_by, '')
        WHEN 'IdentityCenterUser' THEN 'identitycenter:' || coalesce(user_identity_user_name,
            json_extract_string(user_identity, '$.onBehalfOf.userId'), user_identity_principal_id)
        WHEN 'SAMLUser' THEN 'saml:' || coalesce(user_identity_identity_provider || '/', '')
            || coalesce(user_identity_user_name, user_identity_principal_id)
        WHEN 'WebIdentityUser' THEN 'webidentity:' || coalesce(user_identity_identity_provider || '/', '')
            || coalesce(user_identity_user_name, user_identity_principal_id)
        ELSE user_identity_arn
    END,
    user_identity_arn, user_identity_principal_id, user_identity_invoked_by,
    CASE WHEN user_identity_type IS NULL AND user_identity IS NULL THEN NULL ELSE 'unknown' END)"""

SERVICE_SQL = "regexp_replace(event_source, '\\.amazonaws\\.com$', '')"

HELPER_COLUMNS: tuple[Column, ...] = (
    Column(
        "actor",
        S,
        "helper",
        "The human-meaningful principal: the IAM user ARN, the assumed-role session ARN (role plus session name), "
        "the root ARN, the invoking service for `AWSService`, `account:<id>` for `AWSAccount`, "
        "`identitycenter:<user>`, `saml:<provider>/<user>`, `webidentity:<provider>/<user>`.",
        sql=ACTOR_SQL,
    ),
    Column("service", S, "helper", "`event_source` without `.amazonaws.com`.", sql=SERVICE_SQL),
    Column(
        "verification_status",
        S,
        "helper",
        "The digest verdict on the row's log file from the last `verify --dataset` run (`valid`, `invalid`, "
        "`unreferenced`, `unverified`; see `verification.status`); `unverified` when never verified.",
        sql="coalesce(v.verification_status, 'unverified')",
        sql_unverified="'unverified'",
    ),
)

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
