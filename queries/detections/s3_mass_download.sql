-- id: s3_mass_download
-- title: Mass download from S3 by one principal
-- severity: high
-- attack: T1530
-- events: s3.amazonaws.com:GetObject
-- description: One principal and access key reading at least min_objects objects, or at least min_bytes bytes, with
-- description: successful GetObject calls within window_minutes: the shape of data exfiltration. Needs S3 data
-- description: events (a trail that records read data events on the bucket). AWS services acting for the account
-- description: (replication, Athena, Glue...) are left out. One hit per burst (reads of the principal and key with
-- description: no pause longer than window_minutes): the call that reaches the threshold, with the whole burst in
-- description: the details: objects, bytes, buckets, first and last read and duration.
-- description: Request shapes read: bucketName; additionalEventData.bytesTransferredOut (a number or a numeric string).
-- false_positives: Backups, analytics jobs and data pipelines that read whole prefixes; pivot on the principal, the
-- false_positives: source address and the user agent to tell a job from a person.
-- references: https://attack.mitre.org/techniques/T1530/, https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
-- param: window_minutes int 10 | Length of the sliding window
-- param: min_objects int 100 | Objects read within the window
-- param: min_bytes int 1000000000 | Bytes read within the window (alternative trigger)
WITH reads AS (
    SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
           recipient_account_id, event_name, event_id, coalesce(user_identity_access_key_id, '') AS k,
           json_extract_string(request_parameters, '$.bucketName') AS bucket,
           coalesce(TRY_CAST(json_extract_string(additional_event_data, '$.bytesTransferredOut') AS DOUBLE), 0)
               AS bytes_out
    FROM events
    WHERE event_source = 's3.amazonaws.com' AND event_name = 'GetObject'
      AND error_code IS NULL
      AND actor IS NOT NULL
      AND coalesce(user_identity_type, '') <> 'AWSService'
      AND user_identity_invoked_by IS NULL
),
counted AS (
    SELECT *, count(*) OVER w AS objects, sum(bytes_out) OVER w AS bytes,
           -- a new burst starts after a pause longer than the window
           CASE WHEN event_time - lag(event_time) OVER (PARTITION BY actor, k ORDER BY event_time, event_id)
                     <= to_minutes($window_minutes) THEN 0 ELSE 1 END AS starts
    FROM reads
    WINDOW w AS (PARTITION BY actor, k ORDER BY event_time
                 RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW)
),
numbered AS (
    SELECT *, sum(starts) OVER (PARTITION BY actor, k ORDER BY event_time, event_id) AS burst FROM counted
),
bursts AS (   -- the whole burst, not only the window that crossed the threshold: one small row per burst
    SELECT actor, k, burst, count(*) AS burst_objects, sum(bytes_out) AS burst_bytes,
           min(event_time) AS burst_first, max(event_time) AS burst_last,
           list_sort(list_distinct(list(bucket))) AS burst_buckets
    FROM numbered
    GROUP BY actor, k, burst
),
crossing AS (   -- the call of each burst that reaches the threshold
    SELECT * FROM numbered
    WHERE objects >= $min_objects OR bytes >= $min_bytes
    QUALIFY row_number() OVER (PARTITION BY actor, k, burst ORDER BY event_time, event_id) = 1
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       burst_objects || ' objects, ' || CAST(round(burst_bytes / 1e6, 1) AS VARCHAR) || ' MB from '
       || len(burst_buckets) || ' bucket(s) (' || coalesce(nullif(array_to_string(burst_buckets[1:5], ', '), ''), '?')
       || CASE WHEN len(burst_buckets) > 5 THEN ', +' || (len(burst_buckets) - 5) || ' more' ELSE '' END
       || ') between ' || strftime(burst_first, '%Y-%m-%dT%H:%M:%SZ') || ' and '
       || strftime(burst_last, '%Y-%m-%dT%H:%M:%SZ') || ' ('
       || CAST(date_diff('second', burst_first, burst_last) // 60 AS VARCHAR) || ' min '
       || CAST(date_diff('second', burst_first, burst_last) % 60 AS VARCHAR) || ' s); the threshold ('
       || $min_objects || ' objects or ' || CAST(round($min_bytes / 1e6, 1) AS VARCHAR) || ' MB in '
       || $window_minutes || ' min) was reached at this call with ' || objects || ' objects, '
       || CAST(round(bytes / 1e6, 1) AS VARCHAR) || ' MB' AS details
FROM crossing JOIN bursts USING (actor, k, burst)
ORDER BY event_time
