-- id: iam_changes
-- title: IAM changes
-- description: Every state-changing IAM call (users, roles, groups, policies, keys, MFA, login profiles,
-- description: identity providers), successful or not, with the key request parameters.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- param: include_failed bool true | Include calls that failed
-- columns: event_time, actor, access_key, source_ip, event_name, target, error, request
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, event_name,
       coalesce(json_extract_string(request_parameters, '$.userName'),
                json_extract_string(request_parameters, '$.roleName'),
                json_extract_string(request_parameters, '$.groupName'),
                json_extract_string(request_parameters, '$.policyArn'),
                json_extract_string(request_parameters, '$.policyName')) AS target,
       error_code AS error, tf_param_summary(request_parameters) AS request
FROM events
WHERE event_source = 'iam.amazonaws.com'
  AND NOT coalesce(read_only, starts_with(event_name, 'Get') OR starts_with(event_name, 'List'))
  AND ($include_failed OR error_code IS NULL)
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time
