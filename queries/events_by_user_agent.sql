-- id: events_by_user_agent
-- title: Events by user agent
-- description: User agents with how much they did, who used them and when: offensive tools, outdated SDKs and
-- description: one-off agents stand out. The user agent is attacker-controlled text.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- param: agent glob * | User agent (glob), e.g. *kali*
-- columns: user_agent, events, errors, actors, actor_list, source_ips, first_seen, last_seen
SELECT user_agent, count(*) AS events, count(error_code) AS errors, count(DISTINCT actor) AS actors,
       list_sort(list(DISTINCT actor))[1:5] AS actor_list, count(DISTINCT source_ip_address) AS source_ips,
       min(event_time) AS first_seen, max(event_time) AS last_seen
FROM events
WHERE coalesce(user_agent, '') GLOB $agent
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
GROUP BY user_agent
ORDER BY events DESC, user_agent
