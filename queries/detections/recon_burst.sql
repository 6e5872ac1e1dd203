-- id: recon_burst
-- title: Reconnaissance burst by one principal
-- severity: medium
-- attack: T1087.004, T1580, T1526, T1619
-- events: *:List*, *:Describe*, sts.amazonaws.com:GetCallerIdentity, iam.amazonaws.com:GetAccountAuthorizationDetails
-- description: One principal and access key calling at least min_distinct_calls distinct discovery APIs (List*,
-- description: Describe*, and the Get* calls that describe the account: GetCallerIdentity, IAM Get*, GetBucket*...)
-- description: across at least min_services services, or the same APIs in at least min_regions regions, within
-- description: window_minutes: the enumeration that follows a credential compromise. Data events, AWS service
-- description: principals, service-linked roles and console browsing (console sessions, browser user agents) are
-- description: left out. Enumeration is also what engineers, pipelines and inventory tools do all day, so a burst is
-- description: reported only when it is unusual for its principal (a role for role sessions), judged on the whole
-- description: dataset: from a source address and a client (the first two user-agent tokens, e.g. aws-cli/2.15.30
-- description: Python/3.11.8) the principal had never used, after at least min_history_hours of its history; or
-- description: by a user or role created in the dataset (CreateUser/CreateRole) or one of its access keys created
-- description: there (CreateAccessKey); or with at least min_failed calls and a fifth of them failing. The hit is
-- description: the call that reaches the threshold, and only the first such burst of each principal with each
-- description: client is reported. With report_routine = 1 the other bursts (the first per principal and client)
-- description: are reported too, as low.
-- description: Request shapes read: none of the discovery calls (eventName, eventSource, awsRegion, errorCode,
-- description: userIdentity, sourceIPAddress, userAgent); responseElements user.arn / role.arn / accessKey.accessKeyId
-- description: of CreateUser, CreateRole and CreateAccessKey.
-- false_positives: Inventory and posture tools (CSPM, Steampipe, Config-like scanners) run with new credentials or
-- false_positives: from a new place; an engineer on a new laptop and network. Pivot on the access key and the source
-- false_positives: address to tell them apart.
-- references: https://attack.mitre.org/techniques/T1087/004/, https://attack.mitre.org/techniques/T1580/,
-- references: https://attack.mitre.org/techniques/T1526/
-- param: window_minutes int 10 | Length of the sliding window
-- param: min_distinct_calls int 10 | Distinct discovery APIs within the window
-- param: min_services int 3 | Distinct services those calls must span
-- param: min_regions int 6 | Distinct regions within the window (alternative trigger)
-- param: min_history_hours int 12 | History a principal needs before an address or client is judged new for it
-- param: min_failed int 3 | Failed calls within the window (and at least a fifth of them) that make a burst unusual
-- param: report_routine int 0 | 1 also reports the usual bursts of known principals (as low)
WITH reads AS NOT MATERIALIZED (   -- read twice (totals, windows) rather than held in memory
    SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
           recipient_account_id, event_name, event_id, event_source,
           coalesce(user_identity_access_key_id, '') AS k, user_identity_type, user_identity_arn, session_issuer_arn,
           error_code, record_hash
    FROM events
    WHERE (starts_with(event_name, 'List') OR starts_with(event_name, 'Describe')
           OR event_name IN ('GetCallerIdentity', 'GetAccountAuthorizationDetails', 'GetAccountSummary',
                             'GetAccountPasswordPolicy', 'GetCredentialReport', 'GetUser', 'GetRole', 'GetGroup',
                             'GetPolicy', 'GetPolicyVersion', 'GetUserPolicy', 'GetRolePolicy', 'GetGroupPolicy',
                             'GetLoginProfile', 'GetInstanceProfile', 'GetBucketPolicy', 'GetBucketAcl',
                             'GetBucketLocation', 'GetBucketPublicAccessBlock', 'GetAccountPublicAccessBlock',
                             'GetSendQuota', 'GetAccountSendingEnabled', 'GetFunction', 'GetTrailStatus',
                             'GetDetector', 'GetFindings', 'GetEventSelectors', 'GetOrganization',
                             'DescribeOrganization', 'GetAccount'))
      AND coalesce(event_category, 'Management') <> 'Data'
      AND actor IS NOT NULL
      AND coalesce(user_identity_type, '') NOT IN ('AWSService')
      AND user_identity_invoked_by IS NULL
      AND NOT coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)
      AND NOT coalesce(session_credential_from_console, false)
      AND NOT coalesce(starts_with(user_agent, 'Mozilla/'), false)
),
busy AS (   -- only principals that reach a threshold over the whole dataset go through the windows
    SELECT actor, k
    FROM reads
    GROUP BY actor, k
    HAVING (count(DISTINCT event_name) >= $min_distinct_calls AND count(DISTINCT event_source) >= $min_services)
        OR count(DISTINCT aws_region) >= $min_regions
),
counted AS (   -- the windows hold only what they count (the other columns are joined back for the bursts)
    SELECT actor, k, event_time, event_id, recipient_account_id, record_hash,
           count(DISTINCT event_name) OVER w AS names, count(DISTINCT aws_region) OVER w AS regions,
           count(DISTINCT event_source) OVER w AS services, count(*) OVER w AS calls,
           max(CASE WHEN event_name = 'GetCallerIdentity' THEN 1 ELSE 0 END) OVER w AS whoami,
           count(error_code) OVER w AS errors
    FROM (SELECT actor, k, event_time, event_id, recipient_account_id, record_hash, event_name, aws_region,
                 event_source, error_code
          FROM reads SEMI JOIN busy USING (actor, k))
    WINDOW w AS (PARTITION BY actor, k ORDER BY event_time
                 RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW)
),
crossing AS (   -- one row per burst: the call that reaches a threshold
    SELECT *
    FROM counted
    WHERE (names >= $min_distinct_calls AND services >= $min_services) OR regions >= $min_regions
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor, k ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
bursts AS (   -- the burst's call with all its columns, found by its dedup key: (event id, account) or record hash
    SELECT r.*, c.names, c.regions, c.services, c.calls, c.whoami, c.errors,
           tfh_principal(r.user_identity_type, r.user_identity_arn, r.session_issuer_arn, r.actor) AS principal,
           coalesce(nullif(regexp_extract(r.user_agent, '^(\S+(\s+\S+)?)', 1), ''), '?') AS client,
           r.event_time - to_minutes($window_minutes) AS window_start
    FROM crossing c
    JOIN reads r ON r.actor = c.actor AND r.k = c.k AND r.event_time = c.event_time
                AND r.event_id IS NOT DISTINCT FROM c.event_id
                AND r.recipient_account_id IS NOT DISTINCT FROM c.recipient_account_id
                AND r.record_hash IS NOT DISTINCT FROM c.record_hash
),
history AS (   -- whole-dataset baseline of the bursting principals: when each address and client was first used
    SELECT principal, source_ip_address AS ip, client, min(event_time) AS first_time
    FROM (
        SELECT tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal,
               source_ip_address, event_time,
               coalesce(nullif(regexp_extract(user_agent, '^(\S+(\s+\S+)?)', 1), ''), '?') AS client
        FROM main.events
        WHERE event_time IS NOT NULL
          AND (actor IN (SELECT actor FROM bursts) OR session_issuer_arn IN (SELECT principal FROM bursts))
    )
    WHERE principal IN (SELECT principal FROM bursts)
    GROUP BY ALL
),
created AS (   -- identities and keys created in the dataset (whole-dataset baseline)
    SELECT coalesce(response_elements->>'$.user.arn', response_elements->>'$.role.arn') AS arn,
           response_elements->>'$.accessKey.accessKeyId' AS key, event_time AS created_at
    FROM main.events
    WHERE event_source = 'iam.amazonaws.com' AND event_name IN ('CreateUser', 'CreateRole', 'CreateAccessKey')
      AND error_code IS NULL
),
judged AS (
    SELECT b.*,
           EXISTS (SELECT 1 FROM created c WHERE (c.arn = b.principal OR c.key = b.k) AND c.created_at <= b.event_time)
               AS new_principal,
           (SELECT min(h.first_time) FROM history h WHERE h.principal = b.principal) AS principal_first,
           (SELECT min(h.first_time) FROM history h
             WHERE h.principal = b.principal AND h.ip IS NOT DISTINCT FROM b.source_ip_address) AS ip_first,
           (SELECT min(h.first_time) FROM history h WHERE h.principal = b.principal AND h.client = b.client)
               AS client_first
    FROM bursts b
),
flagged AS (
    SELECT *,
           principal_first < window_start - to_hours($min_history_hours)
               AND ip_first >= window_start AND client_first >= window_start AS new_source,
           errors >= $min_failed AND errors >= 0.2 * calls AS failing
    FROM judged
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       names || ' distinct discovery calls over ' || services || ' service(s) in ' || $window_minutes || ' min ('
       || calls || ' calls, ' || regions || ' region(s), ' || errors || ' failed'
       || CASE WHEN whoami = 1 THEN ', with GetCallerIdentity' ELSE '' END || '); '
       || coalesce(nullif(concat_ws('; ',
              CASE WHEN new_source THEN 'address and client new for this principal (seen since '
                   || strftime(principal_first, '%Y-%m-%dT%H:%M:%SZ') || ')' END,
              CASE WHEN new_principal THEN 'identity or access key created in the dataset' END,
              CASE WHEN failing THEN 'many failures' END), ''), 'routine')
       || '; first such burst of ' || principal || ' with client ' || client AS details,
       CASE WHEN new_source OR new_principal OR failing THEN 'medium' ELSE 'low' END AS severity
FROM flagged
WHERE new_source OR new_principal OR failing OR $report_routine = 1
QUALIFY row_number() OVER (PARTITION BY principal, client, new_source OR new_principal OR failing
                           ORDER BY event_time, event_id) = 1
ORDER BY event_time
