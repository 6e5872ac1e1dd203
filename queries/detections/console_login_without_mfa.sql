-- id: console_login_without_mfa
-- title: Console login without MFA
-- severity: high
-- attack: T1078.004
-- events: signin.amazonaws.com:ConsoleLogin
-- description: Successful console sign-in of an IAM user or of root where MFA was not used. Federated, SSO and
-- description: assumed-role sessions are left out: they authenticate (and do MFA) at the identity provider. One
-- description: hit per user, source address and day (the first login; the details count them).
-- description: Request shapes read: none. additionalEventData.MFAUsed in any case (No, NO; Yes, YES); a login without
-- description: MFAUsed (only MFAIdentifier, or no additionalEventData) is not judged; responseElements.ConsoleLogin
-- description: Success.
-- false_positives: IAM users without MFA by policy exception (service desks, legacy accounts); sign-ins with a
-- false_positives: FIDO key logged as MFAUsed No by some clients.
-- references: https://attack.mitre.org/techniques/T1078/004/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.initial-access.console-login-without-mfa/
WITH logins AS (
    SELECT *, coalesce(user_identity_arn, user_identity_principal_id, user_identity_user_name, '') AS who
    FROM events
    WHERE event_name = 'ConsoleLogin'
      AND event_source = 'signin.amazonaws.com'
      AND error_code IS NULL
      AND (response_elements->>'$.ConsoleLogin') = 'Success'
      AND lower(additional_event_data->>'$.MFAUsed') = 'no'
      AND user_identity_type IN ('IAMUser', 'Root')
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       user_identity_type || ' console login without MFA'
       || CASE WHEN logins > 1 THEN ' (' || logins || ' logins from this address that day)' ELSE '' END AS details
FROM (
    SELECT *, count(*) OVER (PARTITION BY who, source_ip_address, date_trunc('day', event_time)) AS logins
    FROM logins
)
QUALIFY row_number() OVER (PARTITION BY who, source_ip_address, date_trunc('day', event_time)
                           ORDER BY event_time, event_id) = 1
ORDER BY event_time
