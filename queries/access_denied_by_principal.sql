-- id: access_denied_by_principal
-- title: Access denied, by principal
-- description: Authorization failures grouped by principal and access key: how many, over which API calls,
-- description: from which IPs, and when. A burst of denials from one key is a classic sign of stolen credentials being probed.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- param: min_events int 1 | Only principals with at least this many denials
-- columns: actor, access_key, denials, distinct_events, event_names, source_ips, first_denied, last_denied
SELECT actor,
       user_identity_access_key_id AS access_key,
       count(*) AS denials,
       count(DISTINCT event_name) AS distinct_events,
       list_sort(list(DISTINCT event_name))[1:15] AS event_names,
       list_sort(list(DISTINCT source_ip_address)) AS source_ips,
       min(event_time) AS first_denied,
       max(event_time) AS last_denied
FROM events
WHERE (error_code ILIKE '%AccessDenied%' OR error_code ILIKE '%UnauthorizedOperation%'
       OR error_code ILIKE '%Unauthorized%' OR error_code = 'Forbidden')
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
GROUP BY ALL
HAVING count(*) >= $min_events
ORDER BY denials DESC, actor
