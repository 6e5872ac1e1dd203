-- id: lambda_backdoor
-- title: Lambda function opened to the world or to an unknown account
-- severity: high
-- attack: T1546, T1578.005, T1133
-- events: lambda.amazonaws.com:AddPermission*, lambda.amazonaws.com:CreateFunctionUrlConfig*,
-- events: lambda.amazonaws.com:UpdateFunctionUrlConfig*, lambda.amazonaws.com:UpdateFunctionConfiguration*,
-- events: lambda.amazonaws.com:CreateFunction*
-- description: Successful Lambda changes that let outsiders in or run their code: a resource policy statement for
-- description: principal * or for an account outside known_accounts; a function URL without authentication (authType
-- description: NONE); a layer from an account outside known_accounts added to a function.
-- description: A principal * restricted by sourceAccount, sourceArn or principalOrgID is not reported; a service
-- description: principal whose sourceAccount (or sourceArn) is an unknown account is.
-- description: Request shapes read: principal, sourceAccount, sourceArn, principalOrgID, action,
-- description: functionUrlAuthType (AddPermission); authType of the request or the response (function URLs);
-- description: layers[] of the request (ARN strings) or of the response (objects with arn); functionName.
-- false_positives: Public webhooks served by function URLs; layers published by vendors (add their publishing
-- false_positives: accounts with --known-accounts) or by AWS itself.
-- references: https://attack.mitre.org/techniques/T1546/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-backdoor-function/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-layer-extension/
WITH calls AS (
    SELECT *, request_parameters AS rp,
           coalesce(request_parameters->>'$.functionName', response_elements->>'$.functionName', '?') AS fn
    FROM events
    WHERE event_source = 'lambda.amazonaws.com'
      AND (starts_with(event_name, 'AddPermission') OR starts_with(event_name, 'CreateFunctionUrlConfig')
           OR starts_with(event_name, 'UpdateFunctionUrlConfig') OR starts_with(event_name, 'UpdateFunctionConfiguration')
           OR starts_with(event_name, 'CreateFunction'))
      AND tfh_ok(error_code, response_elements, event_name)
),
judged AS (
    SELECT *, CASE
        WHEN starts_with(event_name, 'AddPermission') THEN CASE
            WHEN (rp->>'$.principal') = '*' AND coalesce(rp->>'$.sourceAccount', rp->>'$.sourceArn',
                                                         rp->>'$.principalOrgID') IS NULL THEN
                'function ' || fn || ' invocable by any principal' || coalesce(' (' || (rp->>'$.action') || ')', '')
                || CASE WHEN upper(rp->>'$.functionUrlAuthType') = 'NONE' THEN ' through its URL without authentication'
                        ELSE '' END
            WHEN len(tfh_unknown([coalesce(tfh_arn_account(rp->>'$.principal'),
                                           regexp_extract(rp->>'$.principal', '^([0-9]{12})$', 1))])) > 0
                 AND nullif(coalesce(tfh_arn_account(rp->>'$.principal'),
                                     regexp_extract(rp->>'$.principal', '^([0-9]{12})$', 1)), '') IS NOT NULL THEN
                'function ' || fn || ' invocable by unknown account ' || coalesce(tfh_arn_account(rp->>'$.principal'),
                                                                                  rp->>'$.principal')
            WHEN len(tfh_unknown([coalesce(tfh_arn_account(rp->>'$.sourceArn'), rp->>'$.sourceAccount')])) > 0 THEN
                'function ' || fn || ' invocable by ' || coalesce(rp->>'$.principal', '?') || ' for unknown account '
                || coalesce(tfh_arn_account(rp->>'$.sourceArn'), rp->>'$.sourceAccount')
        END
        WHEN (starts_with(event_name, 'CreateFunctionUrlConfig') OR starts_with(event_name, 'UpdateFunctionUrlConfig'))
             AND upper(coalesce(rp->>'$.authType', response_elements->>'$.authType')) = 'NONE' THEN
            'function URL without authentication for ' || fn
        WHEN starts_with(event_name, 'UpdateFunctionConfiguration') OR starts_with(event_name, 'CreateFunction') THEN
            CASE WHEN len(tfh_unknown(list_transform(
                     list_concat(coalesce(rp->>'$.layers[*]', []), coalesce(response_elements->>'$.layers[*].arn', [])),
                     lambda l: tfh_arn_account(l)))) > 0
                 THEN 'layer from unknown account ' || array_to_string(list_distinct(tfh_unknown(list_transform(
                     list_concat(coalesce(rp->>'$.layers[*]', []), coalesce(response_elements->>'$.layers[*].arn', [])),
                     lambda l: tfh_arn_account(l)))), ', ') || ' added to function ' || fn END
    END AS details
    FROM calls
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details
FROM judged
WHERE details IS NOT NULL
ORDER BY event_time
