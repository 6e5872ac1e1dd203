-- id: lambda_code_changed_by_user
-- title: Lambda code or layers changed by a person
-- severity: medium
-- attack: T1546, T1525
-- events: lambda.amazonaws.com:UpdateFunctionCode*, lambda.amazonaws.com:UpdateFunctionConfiguration*
-- description: Function code replaced, or layers set on a function, by a human identity (IAM user, root, federated
-- description: user, IAM Identity Center / SSO session, or any console session) rather than by a deployment role:
-- description: hand-made changes to code that runs with the function's role. One hit per principal, function,
-- description: kind of change and day.
-- description: Request shapes read: functionName (of the request or the response); layers[] of the request (ARN
-- description: strings) or of the response (objects with arn), whichever lists more.
-- false_positives: Developers deploying by hand from their workstation or the console; hot fixes.
-- references: https://attack.mitre.org/techniques/T1546/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-overwrite-code/
WITH calls AS (
    SELECT *, coalesce(request_parameters->>'$.functionName', response_elements->>'$.functionName', '?') AS fn,
           greatest(coalesce(json_array_length(request_parameters, '$.layers'), 0),
                    coalesce(json_array_length(response_elements, '$.layers'), 0)) AS layers
    FROM events
    WHERE event_source = 'lambda.amazonaws.com'
      AND (starts_with(event_name, 'UpdateFunctionCode') OR starts_with(event_name, 'UpdateFunctionConfiguration'))
      AND tfh_ok(error_code, response_elements, event_name)
      AND (user_identity_type IN ('IAMUser', 'Root', 'FederatedUser', 'IdentityCenterUser', 'SAMLUser')
           OR coalesce(contains(user_identity_arn, ':assumed-role/AWSReservedSSO_'), false)
           OR coalesce(session_credential_from_console, false))
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       CASE WHEN code THEN 'code of function ' || fn || ' replaced' ELSE layers || ' layer(s) set on function ' || fn END
       || ' by ' || coalesce(user_identity_type, '?') || ' '
       || coalesce(tfh_name(user_identity_arn, user_identity_user_name), '')
       || CASE WHEN changes > 1 THEN ' (' || changes || ' times that day)' ELSE '' END AS details
FROM (
    SELECT *, starts_with(event_name, 'UpdateFunctionCode') AS code,
           count(*) OVER (PARTITION BY coalesce(actor, ''), fn, starts_with(event_name, 'UpdateFunctionCode'),
                                       date_trunc('day', event_time)) AS changes
    FROM calls
    WHERE starts_with(event_name, 'UpdateFunctionCode') OR layers > 0
)
QUALIFY row_number() OVER (PARTITION BY coalesce(actor, ''), fn, code, date_trunc('day', event_time)
                           ORDER BY event_time, event_id) = 1
ORDER BY event_time
