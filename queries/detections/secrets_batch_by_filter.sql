-- id: secrets_batch_by_filter
-- title: Secrets read in bulk by filter (BatchGetSecretValue without a secret list)
-- severity: low
-- attack: T1555.006
-- events: secretsmanager.amazonaws.com:BatchGetSecretValue
-- description: A BatchGetSecretValue that selects secrets by filters (tags, names, descriptions) instead of a
-- description: secretIdList: CloudTrail then logs neither which secrets were returned nor how many, so the read
-- description: cannot be counted by secrets_harvesting; the catch-all form whose filters are all negations is left to
-- description: secrets_harvesting (high). Refused calls are denied attempts (reported as info).
-- description: Request shapes read: filters[].key / filters[].values[] present, secretIdList absent or empty.
-- false_positives: Applications loading their configuration by tag (the same role, every start).
-- references: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.secretsmanager-batch-retrieve-secrets/
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'BatchGetSecretValue by filter (' || array_to_string(list_transform(
           coalesce(json_extract(request_parameters, '$.filters[*]'), []),
           lambda f: coalesce(f->>'$.key', '?') || '=' || coalesce(array_to_string(f->>'$.values[*]', '|'), '')), ', ')
       || '): the secrets returned are not logged'
       || CASE WHEN tfh_denied(error_code) THEN ' (denied: ' || error_code || ')' ELSE '' END AS details,
       tfh_denied(error_code) AS attempt
FROM events
WHERE event_source = 'secretsmanager.amazonaws.com' AND event_name = 'BatchGetSecretValue'
  AND (error_code IS NULL OR tfh_denied(error_code))
  AND len(coalesce(request_parameters->>'$.filters[*].values[*]', [])) > 0
  AND len(coalesce(request_parameters->>'$.secretIdList[*]', [])) = 0
  AND len(list_filter(request_parameters->>'$.filters[*].values[*]', lambda v: NOT starts_with(v, '!'))) > 0
ORDER BY event_time
