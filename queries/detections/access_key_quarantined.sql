-- id: access_key_quarantined
-- title: AWS quarantined a leaked access key (or the quarantine was removed)
-- severity: high
-- attack: T1552.001, T1078.004
-- events: iam.amazonaws.com:AttachUserPolicy, iam.amazonaws.com:PutUserPolicy, iam.amazonaws.com:DetachUserPolicy,
-- events: iam.amazonaws.com:DeleteUserPolicy
-- description: When AWS finds an access key exposed in public (a GitHub commit, a paste site), it attaches the
-- description: managed policy AWSCompromisedKeyQuarantine (V2, V3...) to the user, or an inline deny policy of that
-- description: name or AWSExposedCredentialPolicy_DO_NOT_REMOVE, and opens a support case: AWS itself says the key
-- description: leaked. Reported when that policy is attached, and when it is detached or deleted again (by an
-- description: attacker who wants the key back, or by an administrator closing the case: check which).
-- description: Request shapes read: policyArn (the managed policy, any version suffix) for Attach/DetachUserPolicy,
-- description: policyName (the inline policy) for Put/DeleteUserPolicy, userName.
-- false_positives: The administrator's own clean-up after rotating the key (the detach). The attach has none.
-- references: https://attack.mitre.org/techniques/T1552/001/,
-- references: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCompromisedKeyQuarantineV3.html
WITH calls AS (
    SELECT *, coalesce(regexp_extract(request_parameters->>'$.policyArn', '[^/]+$'),
                       request_parameters->>'$.policyName') AS policy
    FROM events
    WHERE event_source = 'iam.amazonaws.com'
      AND event_name IN ('AttachUserPolicy', 'PutUserPolicy', 'DetachUserPolicy', 'DeleteUserPolicy')
      AND tfh_ok(error_code, response_elements, event_name)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       CASE WHEN event_name IN ('AttachUserPolicy', 'PutUserPolicy')
            THEN 'leaked-key quarantine policy ' || policy || ' put on user '
                 || coalesce(request_parameters->>'$.userName', '?') || ': AWS found an access key of this user exposed'
            ELSE 'leaked-key quarantine policy ' || policy || ' removed from user '
                 || coalesce(request_parameters->>'$.userName', '?') END AS details
FROM calls
WHERE starts_with(policy, 'AWSCompromisedKeyQuarantine') OR policy = 'AWSExposedCredentialPolicy_DO_NOT_REMOVE'
ORDER BY event_time
