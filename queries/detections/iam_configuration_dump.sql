-- id: iam_configuration_dump
-- title: Full IAM configuration requested (GetAccountAuthorizationDetails)
-- severity: medium
-- attack: T1087.004, T1069.003
-- events: iam.amazonaws.com:GetAccountAuthorizationDetails
-- description: GetAccountAuthorizationDetails returns every user, group, role and policy of the account in one
-- description: call: the map an attacker needs to escalate (Pacu, PMapper, CloudFox and ScoutSuite all start with
-- description: it). Reported whether it succeeded or was denied (a denied attempt shows someone probing what a key
-- description: may do). One hit per principal (a role for role sessions) and client (the first two user-agent
-- description: tokens): a scanner that runs every day is reported once, the same credentials used with another tool
-- description: again. The details count the calls and failures of that principal and client.
-- description: Request shapes read: none (the filter parameter is not judged; errorCode, userIdentity and userAgent
-- description: only).
-- false_positives: Posture and IAM analysis tools (Prowler, ScoutSuite, PMapper, IAM Access Analyzer-like scripts)
-- false_positives: run by the security team; pivot on the access key and the source address.
-- references: https://attack.mitre.org/techniques/T1087/004/,
-- references: https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
WITH calls AS (
    SELECT *, tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal,
           coalesce(nullif(regexp_extract(user_agent, '^(\S+(\s+\S+)?)', 1), ''), '?') AS client
    FROM events
    WHERE event_source = 'iam.amazonaws.com' AND event_name = 'GetAccountAuthorizationDetails'
      AND actor IS NOT NULL
      AND coalesce(user_identity_type, '') <> 'AWSService'
      AND user_identity_invoked_by IS NULL
      AND NOT coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)
),
counted AS (
    SELECT *, count(*) OVER g AS n, count(error_code) OVER g AS failed,
           min(event_time) OVER g AS first_time, max(event_time) OVER g AS last_time
    FROM calls
    WINDOW g AS (PARTITION BY principal, client)
    QUALIFY row_number() OVER (PARTITION BY principal, client ORDER BY event_time, event_id) = 1
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'GetAccountAuthorizationDetails (the whole IAM configuration) requested'
       || CASE WHEN error_code IS NOT NULL THEN ', denied (' || error_code || ')' ELSE '' END
       || '; ' || n || ' call(s), ' || failed || ' failed, by ' || principal || ' with client ' || client
       || CASE WHEN n > 1 THEN ' until ' || strftime(last_time, '%Y-%m-%dT%H:%M:%SZ') ELSE '' END AS details
FROM counted
ORDER BY event_time
