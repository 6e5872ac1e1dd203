-- id: bedrock_llmjacking
-- title: Bedrock model access probed or used by a new principal (LLMjacking)
-- severity: high
-- attack: T1496.004
-- events: bedrock.amazonaws.com:InvokeModel, bedrock.amazonaws.com:InvokeModelWithResponseStream,
-- events: bedrock.amazonaws.com:Converse, bedrock.amazonaws.com:ConverseStream,
-- events: bedrock.amazonaws.com:ListFoundationModels, bedrock.amazonaws.com:GetFoundationModelAvailability,
-- events: bedrock.amazonaws.com:PutUseCaseForModelAccess, bedrock.amazonaws.com:CreateFoundationModelAgreement,
-- events: bedrock.amazonaws.com:PutFoundationModelEntitlement
-- description: Model availability checked with API calls (not the console) in at least min_regions regions
-- description: within window_minutes by one principal (high: the LLMjacking sweep); model access requested or agreements accepted (medium); and the first
-- description: model invocation of a principal (a role for role sessions) that had been active for at least
-- description: baseline_hours in the dataset without using Bedrock (medium).
-- description: Request shapes read: modelId (details only); the rest is eventName, region, errorCode, userIdentity,
-- description: userAgent and sessionCredentialFromConsole.
-- false_positives: Teams starting to use Bedrock; model-access requests by administrators.
-- references: https://attack.mitre.org/techniques/T1496/004/,
-- references: https://sysdig.com/blog/llmjacking-stolen-cloud-credentials-used-in-new-ai-attack/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.impact.bedrock-invoke-model/
-- param: window_minutes int 60 | Length of the sliding window
-- param: min_regions int 3 | Distinct regions probed within the window
-- param: baseline_hours int 48 | History a principal needs in the dataset before its first invocation counts as new
WITH calls AS (
    SELECT *
    FROM events
    WHERE event_source = 'bedrock.amazonaws.com'
      AND event_name IN ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream',
                         'ListFoundationModels', 'GetFoundationModelAvailability', 'PutUseCaseForModelAccess',
                         'CreateFoundationModelAgreement', 'PutFoundationModelEntitlement')
      AND actor IS NOT NULL
),
probes AS (
    SELECT *, count(DISTINCT aws_region) OVER (PARTITION BY actor ORDER BY event_time
                  RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW) AS n
    FROM calls
    WHERE event_name IN ('ListFoundationModels', 'GetFoundationModelAvailability')
      AND NOT coalesce(session_credential_from_console, false)
      AND NOT coalesce(starts_with(user_agent, 'Mozilla/'), false)
),
probe_hits AS (
    SELECT *, 'Bedrock model availability checked in ' || n || ' regions in ' || $window_minutes || ' min' AS details,
           'high' AS severity
    FROM probes WHERE n >= $min_regions
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
access_hits AS (
    SELECT *, 'Bedrock model access: ' || event_name || coalesce(' (' || (request_parameters->>'$.modelId') || ')', '')
              AS details, 'medium' AS severity
    FROM calls
    WHERE event_name IN ('PutUseCaseForModelAccess', 'CreateFoundationModelAgreement', 'PutFoundationModelEntitlement')
      AND tfh_ok(error_code, response_elements, event_name)
),
first_invoke AS (
    SELECT *, tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal
    FROM calls
    WHERE event_name IN ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream')
      AND error_code IS NULL
    QUALIFY row_number() OVER (PARTITION BY principal ORDER BY event_time, event_id) = 1
),
principal_start AS (   -- whole-dataset baseline (main.events is never narrowed)
    SELECT tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal,
           min(event_time) AS since
    FROM main.events
    WHERE (session_issuer_arn IN (SELECT principal FROM first_invoke)
           OR user_identity_arn IN (SELECT principal FROM first_invoke))
    GROUP BY 1
),
new_users AS (
    SELECT f.*, 'first Bedrock model invocation of ' || f.principal || coalesce(' (' || (f.request_parameters->>'$.modelId') || ')', '')
                || ', active in the dataset since ' || strftime(p.since, '%Y-%m-%d %H:%M') AS details,
           'medium' AS severity
    FROM first_invoke f JOIN principal_start p USING (principal)
    WHERE f.event_time >= p.since + to_hours($baseline_hours)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details, severity FROM probe_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details, severity FROM access_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details, severity FROM new_users
ORDER BY event_time
