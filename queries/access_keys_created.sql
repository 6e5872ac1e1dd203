-- id: access_keys_created
-- title: Access keys created
-- description: Every CreateAccessKey: who created a key for which user, the new key id, and whether the
-- description: creator made a key for someone else (a persistence technique).
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- columns: event_time, actor, for_user, new_access_key, for_another_user, source_ip, user_agent, error
SELECT event_time, actor,
       coalesce(json_extract_string(request_parameters, '$.userName'), user_identity_user_name) AS for_user,
       json_extract_string(response_elements, '$.accessKey.accessKeyId') AS new_access_key,
       coalesce(json_extract_string(request_parameters, '$.userName') <> user_identity_user_name
                OR user_identity_user_name IS NULL, false) AS for_another_user,
       source_ip_address AS source_ip, user_agent, error_code AS error
FROM events
WHERE event_source = 'iam.amazonaws.com' AND event_name = 'CreateAccessKey'
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time
