-- id: first_seen_api_calls
-- title: First-seen API calls per principal
-- description: For each principal, the first time it made each API call. With `since`, only calls first made after
-- description: that time: new behaviour of a principal is what a compromise looks like.
-- param: since timestamp null | Only calls first seen at or after this time
-- param: actor glob * | Actor (glob)
-- columns: actor, event_name, service, first_seen, last_seen, calls, first_source_ip, first_user_agent
SELECT actor, event_name, service, min(event_time) AS first_seen, max(event_time) AS last_seen, count(*) AS calls,
       arg_min(source_ip_address, event_time) AS first_source_ip,
       arg_min(user_agent, event_time) AS first_user_agent
FROM events
WHERE actor GLOB $actor
GROUP BY actor, event_name, service
HAVING $since IS NULL OR min(event_time) >= $since
ORDER BY first_seen, actor, event_name
