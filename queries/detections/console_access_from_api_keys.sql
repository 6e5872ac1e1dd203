-- id: console_access_from_api_keys
-- title: Console access minted from API credentials
-- severity: medium
-- attack: T1550.001, T1098.001
-- events: signin.amazonaws.com:GetSigninToken, sts.amazonaws.com:GetFederationToken, sts.amazonaws.com:GetSessionToken
-- description: Ways to turn access keys into a console session or into fresh credentials: GetSigninToken called by
-- description: something other than the AWS federation endpoint (the aws_consoler pattern), the first
-- description: GetFederationToken of an IAM user in the dataset and any granting administrator rights, and the first
-- description: GetSessionToken of an IAM user in the dataset.
-- false_positives: Custom federation brokers; developers who use GetSessionToken for MFA-protected CLI sessions (only
-- false_positives: their first call is reported).
-- references: https://attack.mitre.org/techniques/T1550/001/,
-- references: https://github.com/NetSPI/aws_consoler,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.sts-federation-token/
WITH candidates AS (
    SELECT *, request_parameters AS rp
    FROM events
    WHERE event_name IN ('GetSigninToken', 'GetFederationToken', 'GetSessionToken')
      AND event_source IN ('signin.amazonaws.com', 'sts.amazonaws.com')
      AND tfh_ok(error_code, response_elements, event_name)
),
first_session_token AS (
    SELECT * FROM candidates
    WHERE event_name = 'GetSessionToken' AND user_identity_type = 'IAMUser'
    QUALIFY row_number() OVER (PARTITION BY actor ORDER BY event_time, event_id) = 1
),
federation AS (
    SELECT *,
           list_contains(list_transform(coalesce(rp->>'$.policyArns[*].arn', []), lambda a: regexp_extract(a, '[^/]+$')),
                         'AdministratorAccess')
           OR contains(replace(coalesce(rp->>'$.policy', ''), ' ', ''), '"Action":"*"') AS admin,
           row_number() OVER (PARTITION BY actor ORDER BY event_time, event_id) AS nth
    FROM candidates
    WHERE event_name = 'GetFederationToken' AND user_identity_type = 'IAMUser'
),
hits AS (
    SELECT *, 'GetSigninToken by ' || coalesce(user_identity_type, '?') || ' with user agent '
              || coalesce(user_agent, '(none)') AS details
    FROM candidates
    WHERE event_name = 'GetSigninToken' AND NOT coalesce(user_agent LIKE 'Jersey/%', false)
    UNION ALL
    SELECT * EXCLUDE (admin, nth),
           CASE WHEN nth = 1 THEN 'first ' ELSE '' END || 'GetFederationToken by this IAM user'
           || coalesce(' for ' || (rp->>'$.name'), '')
           || coalesce(' with policies ' || nullif(array_to_string(rp->>'$.policyArns[*].arn', ', '), ''), '')
           || CASE WHEN admin THEN ' (administrator rights)' ELSE '' END
    FROM federation
    WHERE nth = 1 OR admin
    UNION ALL
    SELECT *, 'first GetSessionToken of this IAM user in the dataset' || coalesce(
              ' (MFA serial ' || (rp->>'$.serialNumber') || ')', ' (no MFA)')
    FROM first_session_token
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details
FROM hits
ORDER BY event_time
