-- id: access_key_activity
-- title: What one access key did
-- description: Every call signed with the given access key (AKIA... long-term or ASIA... temporary), with the
-- description: principal, IP, user agent and request summary: "show me everything this key did".
-- param: key text | The access key id
-- columns: event_time, actor, source_ip, region, service, event_name, error, user_agent, request
SELECT event_time, actor, source_ip_address AS source_ip, aws_region AS region, service, event_name,
       error_code AS error, user_agent, tf_param_summary(request_parameters) AS request
FROM events
WHERE user_identity_access_key_id = $key
ORDER BY event_time, event_id
