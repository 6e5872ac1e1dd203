-- id: secrets_harvesting
-- title: Secrets harvesting
-- severity: high
-- attack: T1555.006, T1552
-- events: secretsmanager.amazonaws.com:GetSecretValue, secretsmanager.amazonaws.com:BatchGetSecretValue,
-- events: ssm.amazonaws.com:GetParameter, ssm.amazonaws.com:GetParameters, ssm.amazonaws.com:GetParametersByPath,
-- events: ec2.amazonaws.com:GetPasswordData
-- description: One principal reading at least min_secrets distinct secrets within window_minutes (Secrets Manager
-- description: values, SSM parameters read with decryption), one hit per burst (medium); one principal asking for
-- description: the Windows password data (GetPasswordData) of at least min_instances instances within the window
-- description: (medium); any BatchGetSecretValue whose filters are all negations, the catch-all that returns every
-- description: secret (high; secrets_batch_by_filter reports the other filtered reads). Reads refused for lack of permission (AccessDenied...) are counted on their own and
-- description: reported as denied attempts, one severity lower.
-- description: Request shapes read: secretId; secretIdList[] or filters[].values[]; name, names[], path with
-- description: withDecryption=true; instanceId (GetPasswordData).
-- false_positives: Deployment tools loading a whole configuration tree; secret rotation or backup jobs.
-- references: https://attack.mitre.org/techniques/T1555/006/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.secretsmanager-batch-retrieve-secrets/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ssm-retrieve-securestring-parameters/
-- param: window_minutes int 10 | Length of the sliding window
-- param: min_secrets int 20 | Distinct secrets read within the window
-- param: min_instances int 5 | Distinct instances whose password data is asked for within the window
WITH reads AS (
    SELECT *, request_parameters AS rp,
           coalesce((request_parameters->>'$.withDecryption') = 'true', false) AS decrypt,
           tfh_denied(error_code) AS denied
    FROM events
    WHERE event_name IN ('GetSecretValue', 'BatchGetSecretValue', 'GetParameter', 'GetParameters',
                         'GetParametersByPath', 'GetPasswordData')
      AND event_source IN ('secretsmanager.amazonaws.com', 'ssm.amazonaws.com', 'ec2.amazonaws.com')
      AND (error_code IS NULL OR tfh_denied(error_code))
),
items AS (
    SELECT *, event_name = 'GetPasswordData' AS password, unnest(CASE
        WHEN event_name = 'GetSecretValue' THEN [rp->>'$.secretId']
        WHEN event_name = 'BatchGetSecretValue' THEN coalesce(rp->>'$.secretIdList[*]', [])
        WHEN event_name = 'GetParameter' AND decrypt THEN [rp->>'$.name']
        WHEN event_name = 'GetParameters' AND decrypt THEN coalesce(rp->>'$.names[*]', [])
        WHEN event_name = 'GetParametersByPath' AND decrypt THEN [rp->>'$.path']
        WHEN event_name = 'GetPasswordData' THEN [rp->>'$.instanceId']
        ELSE CAST([] AS VARCHAR[]) END) AS secret
    FROM reads
),
counted AS (
    SELECT *, count(DISTINCT secret) OVER (PARTITION BY actor, denied, password ORDER BY event_time
                                          RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW) AS n
    FROM items
    WHERE secret IS NOT NULL AND actor IS NOT NULL
),
bursts AS (
    SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
           aws_region AS region, recipient_account_id AS account, event_name, event_id,
           n || CASE WHEN password THEN ' instances'' password data' ELSE ' distinct secrets/parameters' END
           || CASE WHEN denied THEN ' requested (denied: ' || error_code || ')' ELSE ' read' END
           || ' in ' || $window_minutes || ' min' AS details, 'medium' AS severity, denied AS attempt
    FROM counted
    WHERE n >= CASE WHEN password THEN $min_instances ELSE $min_secrets END
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor, denied, password ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
catch_all AS (
    SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
           aws_region AS region, recipient_account_id AS account, event_name, event_id,
           'BatchGetSecretValue with only negated filters (' || array_to_string(rp->>'$.filters[*].values[*]', ', ')
           || '): returns every secret' || CASE WHEN denied THEN ' (denied: ' || error_code || ')' ELSE '' END AS details,
           'high' AS severity, denied AS attempt
    FROM reads
    WHERE event_name = 'BatchGetSecretValue'
      AND len(coalesce(rp->>'$.filters[*].values[*]', [])) > 0
      AND len(list_filter(rp->>'$.filters[*].values[*]', lambda v: NOT starts_with(v, '!'))) = 0
)
SELECT * FROM bursts
UNION ALL
SELECT * FROM catch_all
ORDER BY event_time
