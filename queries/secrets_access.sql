-- id: secrets_access
-- title: Secrets and parameters read
-- description: Secrets Manager and SSM Parameter Store reads (and EC2 GetPasswordData), by principal and secret,
-- description: with denials: the trail of credential harvesting.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- columns: actor, event_name, secret, reads, denied, source_ips, first_seen, last_seen
SELECT actor, event_name,
       coalesce(json_extract_string(request_parameters, '$.secretId'),
                json_extract_string(request_parameters, '$.name'),
                json_extract_string(request_parameters, '$.path'),
                json_extract_string(request_parameters, '$.instanceId'),
                array_to_string(json_extract_string(request_parameters, '$.names[*]'), ','),
                array_to_string(json_extract_string(request_parameters, '$.secretIdList[*]'), ',')) AS secret,
       count(*) AS reads, count(error_code) AS denied,
       list_sort(list(DISTINCT source_ip_address)) AS source_ips,
       min(event_time) AS first_seen, max(event_time) AS last_seen
FROM events
WHERE (event_source = 'secretsmanager.amazonaws.com' AND event_name IN ('GetSecretValue', 'BatchGetSecretValue'))
   OR (event_source = 'ssm.amazonaws.com' AND event_name IN ('GetParameter', 'GetParameters', 'GetParametersByPath'))
   OR (event_source = 'ec2.amazonaws.com' AND event_name = 'GetPasswordData')
GROUP BY ALL
HAVING ($since IS NULL OR max(event_time) >= $since) AND ($until IS NULL OR min(event_time) < $until)
ORDER BY first_seen, actor
