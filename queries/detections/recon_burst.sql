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
-- description: left out. The hit is the call that reaches the threshold, and only the first burst of each
-- description: principal (a role for role sessions) with each client (the first two user-agent tokens, e.g.
-- description: aws-cli/2.15.30 Python/3.11.8) is reported: a pipeline that plans every hour is reported once,
-- description: the same keys used with another tool or version again. A burst is medium when something about it
-- description: is new or failing (a source address the principal was never seen from after a day of history,
-- description: or at least 3 and a fifth of its calls failing), low otherwise (routine inventory by a known client).
-- false_positives: Inventory and posture tools (CSPM, Steampipe, Config-like scanners), Terraform plans, the console
-- false_positives: loading a dashboard. Pivot on the access key and source address to tell them apart.
-- references: https://attack.mitre.org/techniques/T1087/004/, https://attack.mitre.org/techniques/T1580/,
-- references: https://attack.mitre.org/techniques/T1526/
-- param: window_minutes int 10 | Length of the sliding window
-- param: min_distinct_calls int 10 | Distinct discovery APIs within the window
-- param: min_services int 3 | Distinct services those calls must span
-- param: min_regions int 6 | Distinct regions within the window (alternative trigger)
WITH reads AS (
    SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
           recipient_account_id, event_name, event_id, event_source,
           coalesce(user_identity_access_key_id, '') AS k, user_identity_type, user_identity_arn, session_issuer_arn,
           error_code
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
counted AS (
    SELECT *, count(DISTINCT event_name) OVER w AS names, count(DISTINCT aws_region) OVER w AS regions,
           count(DISTINCT event_source) OVER w AS services, count(*) OVER w AS calls,
           max(CASE WHEN event_name = 'GetCallerIdentity' THEN 1 ELSE 0 END) OVER w AS whoami,
           count(error_code) OVER w AS errors
    FROM reads SEMI JOIN busy USING (actor, k)
    WINDOW w AS (PARTITION BY actor, k ORDER BY event_time
                 RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW)
),
bursts AS (   -- one row per burst: the call that reaches a threshold
    SELECT *, tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal,
           coalesce(nullif(regexp_extract(user_agent, '^(\S+(\s+\S+)?)', 1), ''), '?') AS client
    FROM counted
    WHERE (names >= $min_distinct_calls AND services >= $min_services) OR regions >= $min_regions
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor, k ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
)
SELECT b.event_time, b.actor, b.user_identity_access_key_id AS access_key, b.source_ip_address AS source_ip,
       b.user_agent, b.aws_region AS region, b.recipient_account_id AS account, b.event_name, b.event_id,
       b.names || ' distinct discovery calls over ' || b.services || ' service(s) in ' || $window_minutes || ' min ('
       || b.calls || ' calls, ' || b.regions || ' region(s), ' || b.errors || ' failed'
       || CASE WHEN b.whoami = 1 THEN ', with GetCallerIdentity' ELSE '' END
       || CASE WHEN n.new_ip THEN ', from an address new for this principal' ELSE '' END || '); first burst of '
       || b.principal || ' with client ' || b.client AS details,
       CASE WHEN n.new_ip OR (b.errors >= 3 AND b.errors >= 0.2 * b.calls) THEN 'medium' ELSE 'low' END AS severity
FROM bursts b
LEFT JOIN LATERAL (
    -- Novelty: the principal has a day of history and never used this address before the burst.
    SELECT coalesce(min(e.event_time) FILTER (WHERE e.source_ip_address = b.source_ip_address)
                        >= b.event_time - to_minutes($window_minutes), false)
           AND min(e.event_time) < b.event_time - INTERVAL 24 HOUR AS new_ip
    FROM main.events e
    WHERE e.actor = b.actor
) n ON true
QUALIFY row_number() OVER (PARTITION BY b.principal, b.client ORDER BY b.event_time, b.event_id) = 1
ORDER BY b.event_time
