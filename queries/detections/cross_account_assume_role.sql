-- id: cross_account_assume_role
-- title: Role assumed from an unknown account
-- severity: low
-- attack: T1199, T1078.004
-- events: sts.amazonaws.com:AssumeRole
-- description: A successful AssumeRole into the dataset's accounts by a principal of an account outside
-- description: known_accounts (notable change: a trust relationship in use). One hit per calling account, role and
-- description: day (the first call).
-- description: Request shapes read: roleArn (details only). The caller's account is userIdentity.accountId: an
-- description: AWSAccount identity (accountId and principalId only, how the role's account sees a caller of another
-- description: account) or a full IAM identity of another account.
-- false_positives: Vendors and partners with legitimate cross-account roles (add them with --known-accounts).
-- references: https://attack.mitre.org/techniques/T1199/
WITH calls AS (
    SELECT *
    FROM events
    WHERE event_source = 'sts.amazonaws.com' AND event_name = 'AssumeRole'
      AND tfh_ok(error_code, response_elements, event_name)
      AND coalesce(user_identity_type, '') NOT IN ('AWSService')
      AND user_identity_account_id IS NOT NULL
      AND user_identity_account_id IS DISTINCT FROM recipient_account_id
      AND len(tfh_unknown([user_identity_account_id])) > 0
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'role ' || coalesce(role_arn, '?') || ' assumed from unknown account ' || user_identity_account_id
       || ' (' || calls || ' time(s) that day)' AS details
FROM (
    SELECT *, request_parameters->>'$.roleArn' AS role_arn,
           count(*) OVER (PARTITION BY user_identity_account_id, request_parameters->>'$.roleArn',
                                       date_trunc('day', event_time)) AS calls
    FROM calls
)
QUALIFY row_number() OVER (PARTITION BY user_identity_account_id, role_arn, date_trunc('day', event_time)
                           ORDER BY event_time, event_id) = 1
ORDER BY event_time
