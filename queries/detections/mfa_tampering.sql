-- id: mfa_tampering
-- title: MFA device removed or registered suspiciously
-- severity: medium
-- attack: T1556.006
-- events: iam.amazonaws.com:DeactivateMFADevice, iam.amazonaws.com:DeleteVirtualMFADevice,
-- events: iam.amazonaws.com:EnableMFADevice, iam.amazonaws.com:CreateVirtualMFADevice
-- description: MFA deactivated or a virtual MFA device deleted; an MFA device enabled for a user by someone else;
-- description: a virtual MFA device created or enabled with temporary API credentials (ASIA keys not from a console
-- description: session): an attacker registering their own second factor.
-- description: Request shapes read: userName (absent when callers act on their own device, root included),
-- description: serialNumber; CreateVirtualMFADevice is judged on the caller's key alone (its requestParameters may be
-- description: null).
-- false_positives: Users replacing a lost phone (deactivate then enable); administrators resetting MFA for users.
-- references: https://attack.mitre.org/techniques/T1556/006/
WITH candidates AS (
    SELECT *, request_parameters->>'$.userName' AS target,
           tfh_name(user_identity_arn, user_identity_user_name) AS caller,
           coalesce(starts_with(user_identity_access_key_id, 'ASIA'), false)
               AND NOT coalesce(session_credential_from_console, false) AS temporary_api_key
    FROM events
    WHERE event_source = 'iam.amazonaws.com'
      AND event_name IN ('DeactivateMFADevice', 'DeleteVirtualMFADevice', 'EnableMFADevice', 'CreateVirtualMFADevice')
      AND tfh_ok(error_code, response_elements, event_name)
),
judged AS (
    SELECT *, CASE
        WHEN event_name = 'DeactivateMFADevice' THEN 'MFA deactivated for ' || coalesce(target, caller, '?')
        WHEN event_name = 'DeleteVirtualMFADevice' THEN 'virtual MFA device deleted: '
            || coalesce(request_parameters->>'$.serialNumber', '?')
        WHEN event_name = 'EnableMFADevice' AND target IS NOT NULL AND target IS DISTINCT FROM caller THEN
            'MFA device enabled for ' || target || ' by ' || coalesce(caller, '?')
        WHEN event_name IN ('EnableMFADevice', 'CreateVirtualMFADevice') AND temporary_api_key THEN
            event_name || ' with temporary API credentials ' || user_identity_access_key_id
    END AS details
    FROM candidates
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details
FROM judged
WHERE details IS NOT NULL
ORDER BY event_time
