-- id: credentials_for_other_user
-- title: Access key or console password created for another user
-- severity: high
-- attack: T1098.001
-- events: iam.amazonaws.com:CreateAccessKey, iam.amazonaws.com:CreateLoginProfile, iam.amazonaws.com:UpdateLoginProfile
-- description: A principal creating an access key, or setting a console password, for an IAM user other than itself
-- description: (the user name in the request differs from the caller's user or session name): the classic backdoor
-- description: on an existing user. A password set with passwordResetRequired=true (the help-desk flow) is reported
-- description: as medium. The same calls refused for lack of permission are denied attempts (one severity lower).
-- description: Request shapes read: userName, passwordResetRequired; responseElements accessKey.accessKeyId.
-- false_positives: Administrators provisioning keys or resetting passwords for others; automation creating service
-- false_positives: users' keys (tune with the actor).
-- references: https://attack.mitre.org/techniques/T1098/001/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-user/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-user-login-profile/
WITH candidates AS (
    SELECT *, request_parameters->>'$.userName' AS target,
           tfh_name(user_identity_arn, user_identity_user_name) AS caller, tfh_denied(error_code) AS denied
    FROM events
    WHERE event_source = 'iam.amazonaws.com'
      AND event_name IN ('CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile')
      AND (tfh_ok(error_code, response_elements, event_name) OR tfh_denied(error_code))
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       CASE event_name WHEN 'CreateAccessKey'
            THEN 'access key ' || coalesce((response_elements->>'$.accessKey.accessKeyId') || ' ', '') || 'created for '
            ELSE 'console password set for ' END
       || target || ' by ' || coalesce(caller, actor, '?')
       || CASE WHEN event_name <> 'CreateAccessKey'
               THEN ' (reset required: ' || coalesce(request_parameters->>'$.passwordResetRequired', '?') || ')'
               ELSE '' END
       || CASE WHEN denied THEN ' (denied: ' || error_code || ')' ELSE '' END AS details,
       CASE WHEN event_name <> 'CreateAccessKey' AND (request_parameters->>'$.passwordResetRequired') = 'true'
            THEN 'medium' ELSE 'high' END AS severity,
       denied AS attempt
FROM candidates
WHERE target IS NOT NULL AND target IS DISTINCT FROM caller
ORDER BY event_time
