-- id: bucket_data_events
-- title: Data events on one bucket
-- description: Object-level S3 events (GetObject, PutObject, DeleteObject, CopyObject...) on one bucket: who read or
-- description: wrote which key, from where, and how many bytes moved.
-- param: bucket text | Bucket name
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- param: event glob * | Event name (glob), e.g. Get*
-- columns: event_time, actor, access_key, source_ip, event_name, object_key, bytes_out, bytes_in, error
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, event_name,
       json_extract_string(request_parameters, '$.key') AS object_key,
       TRY_CAST(json_extract_string(additional_event_data, '$.bytesTransferredOut') AS DOUBLE) AS bytes_out,
       TRY_CAST(json_extract_string(additional_event_data, '$.bytesTransferredIn') AS DOUBLE) AS bytes_in,
       error_code AS error
FROM events
WHERE event_source = 's3.amazonaws.com'
  AND (event_category = 'Data' OR NOT coalesce(management_event, true))
  AND json_extract_string(request_parameters, '$.bucketName') = $bucket
  AND event_name GLOB $event
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time, event_id
