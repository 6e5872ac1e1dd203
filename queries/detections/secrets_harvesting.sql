-- id: secrets_harvesting
-- title: Secrets harvesting
-- severity: high
-- attack: T1555.006, T1552
-- events: secretsmanager.amazonaws.com:GetSecretValue, secretsmanager.amazonaws.com:BatchGetSecretValue,
-- events: ssm.amazonaws.com:GetParameter, ssm.amazonaws.com:GetParameters, ssm.amazonaws.com:GetParametersByPath,
-- events: ec2.amazonaws.com:GetPasswordData
-- description: One principal reading at least min_secrets distinct secrets within window_minutes (Secrets Manager
-- description: values, SSM parameters read with decryption, EC2 Windows password data), one hit per burst (medium);
-- description: and any BatchGetSecretValue whose filters are all negations, the catch-all that returns every
-- description: secret (high).
-- false_positives: Deployment tools loading a whole configuration tree; secret rotation or backup jobs.
-- references: https://attack.mitre.org/techniques/T1555/006/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.secretsmanager-batch-retrieve-secrets/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ssm-retrieve-securestring-parameters/
-- param: window_minutes int 10 | Length of the sliding window
-- param: min_secrets int 20 | Distinct secrets read within the window
WITH reads AS (
    SELECT *, request_parameters AS rp,
           coalesce((request_parameters->>'$.withDecryption') = 'true', false) AS decrypt
    FROM events
    WHERE event_name IN ('GetSecretValue', 'BatchGetSecretValue', 'GetParameter', 'GetParameters',
                         'GetParametersByPath', 'GetPasswordData')
      AND event_source IN ('secretsmanager.amazonaws.com', 'ssm.amazonaws.com', 'ec2.amazonaws.com')
      AND tfh_ok(error_code, response_elements, event_name)
),
items AS (
    SELECT *, unnest(CASE
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
    SELECT *, count(DISTINCT secret) OVER (PARTITION BY actor ORDER BY event_time
                                          RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW) AS n
    FROM items
    WHERE secret IS NOT NULL AND actor IS NOT NULL
),
bursts AS (
    SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
           aws_region AS region, recipient_account_id AS account, event_name, event_id,
           n || ' distinct secrets/parameters read in ' || $window_minutes || ' min' AS details, 'medium' AS severity
    FROM counted
    WHERE n >= $min_secrets
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
catch_all AS (
    SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
           aws_region AS region, recipient_account_id AS account, event_name, event_id,
           'BatchGetSecretValue with only negated filters (' || array_to_string(rp->>'$.filters[*].values[*]', ', ')
           || '): returns every secret' AS details, 'high' AS severity
    FROM reads
    WHERE event_name = 'BatchGetSecretValue'
      AND len(coalesce(rp->>'$.filters[*].values[*]', [])) > 0
      AND len(list_filter(rp->>'$.filters[*].values[*]', lambda v: NOT starts_with(v, '!'))) = 0
)
SELECT * FROM bursts
UNION ALL
SELECT * FROM catch_all
ORDER BY event_time
