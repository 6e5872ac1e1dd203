-- id: root_activity
-- title: Root account activity
-- description: Every call made as the root user (AWS service events excluded). Root should almost never be used.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- columns: event_time, account, event_name, service, source_ip, user_agent, error, request
SELECT event_time, coalesce(user_identity_account_id, recipient_account_id) AS account, event_name, service,
       source_ip_address AS source_ip, user_agent, error_code AS error,
       tf_param_summary(request_parameters) AS request
FROM events
WHERE user_identity_type = 'Root'
  AND coalesce(event_type, '') <> 'AwsServiceEvent'
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time
