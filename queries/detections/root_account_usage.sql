-- id: root_account_usage
-- title: Root account used
-- severity: critical
-- attack: T1078.004
-- events: *, signin.amazonaws.com:ConsoleLogin, iam.amazonaws.com:CreateAccessKey,
-- events: signin.amazonaws.com:PasswordRecoveryRequested, signin.amazonaws.com:PasswordRecoveryCompleted,
-- events: signin.amazonaws.com:PasswordUpdated, iam.amazonaws.com:CreateLoginProfile,
-- events: iam.amazonaws.com:UpdateLoginProfile, iam.amazonaws.com:DeactivateMFADevice,
-- events: iam.amazonaws.com:DeleteVirtualMFADevice, iam.amazonaws.com:EnableMFADevice
-- description: Successful activity of the account's root user (excluding AWS service events). Sign-ins, root
-- description: access keys, password recovery or change, login profiles and root MFA changes are reported one by one
-- description: as critical; other root calls are grouped per account, access key and source address per day (the
-- description: first call is the hit, the details count the calls): high when they include writes, medium for
-- description: read-only sessions.
-- description: Request shapes read: userName (keys, passwords and MFA devices for a user rather than root itself);
-- description: additionalEventData.MFAUsed (ConsoleLogin); responseElements.ConsoleLogin (a failed sign-in is no use).
-- false_positives: The few tasks that require root (closing the account, changing the support plan, restoring a
-- false_positives: locked-out administrator); break-glass drills.
-- references: https://attack.mitre.org/techniques/T1078/004/,
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-tasks.html
WITH r AS (
    SELECT *,
           event_name IN ('ConsoleLogin', 'CreateAccessKey', 'PasswordRecoveryRequested', 'PasswordRecoveryCompleted',
                          'PasswordUpdated', 'ChangePassword', 'CreateLoginProfile', 'UpdateLoginProfile',
                          'DeactivateMFADevice', 'DeleteVirtualMFADevice', 'EnableMFADevice',
                          'CreateVirtualMFADevice') AS sensitive
    FROM events
    WHERE user_identity_type = 'Root'
      AND coalesce(event_type, '') <> 'AwsServiceEvent'
      AND tfh_ok(error_code, response_elements, event_name)
),
sensitive AS (
    SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
           aws_region AS region, recipient_account_id AS account, event_name, event_id,
           'root ' || event_name || CASE
               WHEN event_name = 'ConsoleLogin' THEN ' (MFA used: ' || coalesce(additional_event_data->>'$.MFAUsed', '?') || ')'
               WHEN event_name = 'CreateAccessKey' AND (request_parameters->>'$.userName') IS NULL THEN ': access key for root itself'
               WHEN (request_parameters->>'$.userName') IS NOT NULL THEN ' for ' || (request_parameters->>'$.userName')
               ELSE '' END AS details,
           'critical' AS severity
    FROM r WHERE sensitive
),
routine AS (   -- other root calls: the first of each account, key, address and day, with the counts
    SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
           'root used: ' || calls || ' call(s), ' || writes || ' write(s) that day from this key/address: '
           || array_to_string(list_slice(names, 1, 8), ', ') AS details,
           CASE WHEN writes > 0 THEN 'high' ELSE 'medium' END AS severity
    FROM (
        SELECT *, count(*) OVER g AS calls, count(*) FILTER (WHERE NOT coalesce(read_only, false)) OVER g AS writes,
               list_sort(list_distinct(list(event_name) OVER g)) AS names
        FROM r WHERE NOT sensitive
        WINDOW g AS (PARTITION BY recipient_account_id, user_identity_access_key_id, source_ip_address,
                                  date_trunc('day', event_time))
    )
    QUALIFY row_number() OVER (PARTITION BY recipient_account_id, user_identity_access_key_id, source_ip_address,
                                            date_trunc('day', event_time) ORDER BY event_time, event_id) = 1
)
SELECT * FROM sensitive
UNION ALL
SELECT * FROM routine
ORDER BY event_time
