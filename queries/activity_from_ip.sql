-- name: activity_from_ip
-- title: Everything from one IP address
-- description: Every event whose source IP is the given address (sourceIPAddress may hold two addresses; either
-- description: matches), in time order. For a network, use `trailforensics timeline --ip 10.0.0.0/8`.
-- param: ip text | The source IP address
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- columns: event_time, actor, access_key, region, service, event_name, error, user_agent, request
SELECT event_time, actor, user_identity_access_key_id AS access_key, aws_region AS region, service, event_name,
       error_code AS error, user_agent, tf_param_summary(request_parameters) AS request
FROM events
WHERE list_contains(tf_ip_list(source_ip_address), $ip)
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time, event_id
