-- id: cloudtrail_changes
-- title: CloudTrail configuration changes
-- description: Trails created, updated, stopped, started or deleted, and selector changes (event, advanced and
-- description: Insight selectors): who changed the logging, when and from where.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- columns: event_time, actor, source_ip, region, event_name, trail, error, request
SELECT event_time, actor, source_ip_address AS source_ip, aws_region AS region, event_name,
       coalesce(json_extract_string(request_parameters, '$.name'),
                json_extract_string(request_parameters, '$.trailName')) AS trail,
       error_code AS error, tf_param_summary(request_parameters) AS request
FROM events
WHERE event_source = 'cloudtrail.amazonaws.com'
  AND event_name IN ('CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging',
                     'PutEventSelectors', 'PutInsightSelectors', 'AddTags', 'RemoveTags',
                     'CreateEventDataStore', 'UpdateEventDataStore', 'DeleteEventDataStore',
                     'StopEventDataStoreIngestion', 'DeleteChannel', 'UpdateChannel')
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time
