-- id: activity_from_ip
-- title: Everything from one IP address
-- description: Every event whose source IP is the given address or network (sourceIPAddress may hold two
-- description: addresses; either matches; IPv6 in any spelling, IPv4-mapped IPv6 included), in time order.
-- param: ip text | The source IP address, or a network such as 10.0.0.0/8
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- columns: event_time, actor, access_key, region, service, event_name, error, user_agent, request
SELECT event_time, actor, user_identity_access_key_id AS access_key, aws_region AS region, service, event_name,
       error_code AS error, user_agent, tf_param_summary(request_parameters) AS request
FROM events
-- Exact text first (vectorised); the parsing UDF only where text cannot settle it (IPv6, networks).
WHERE (list_contains(tf_ip_list(source_ip_address), $ip)
       OR ((contains(source_ip_address, ':') OR contains($ip, '/')) AND tf_ip_in(source_ip_address, $ip)))
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time, event_id
