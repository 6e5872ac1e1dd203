-- id: cloudtrail_tampering
-- title: CloudTrail trail stopped, deleted or weakened
-- severity: high
-- attack: T1562.008
-- attack_v19: T1685.002
-- events: cloudtrail.amazonaws.com:StopLogging, cloudtrail.amazonaws.com:DeleteTrail, cloudtrail.amazonaws.com:CreateTrail,
-- events: cloudtrail.amazonaws.com:UpdateTrail, cloudtrail.amazonaws.com:PutEventSelectors,
-- events: cloudtrail.amazonaws.com:PutAdvancedEventSelectors, cloudtrail.amazonaws.com:DeleteEventDataStore,
-- events: cloudtrail.amazonaws.com:StopEventDataStoreIngestion, cloudtrail.amazonaws.com:PutInsightSelectors,
-- events: s3.amazonaws.com:PutBucketLifecycle,
-- events: s3.amazonaws.com:PutBucketLifecycleConfiguration, s3.amazonaws.com:DeleteObject,
-- events: s3.amazonaws.com:DeleteObjects
-- description: Successful calls that stop or reduce CloudTrail logging: StopLogging, DeleteTrail, CloudTrail Lake
-- description: event data stores deleted or stopped; UpdateTrail turning off multi-region or global-service logging
-- description: or log-file validation, moving the logs to another bucket or encrypting them with another account's
-- description: key; event selectors that drop management events, keep only reads or writes, or leave out event
-- description: sources or names from the management events (basic excludeManagementEventSources such as
-- description: kms.amazonaws.com, advanced selectors with notEquals/equals on eventSource, eventName or
-- description: readOnly); CloudTrail Insights turned off (empty insight selectors); and a short
-- description: expiration lifecycle rule put on a trail's bucket (a bucket named in CreateTrail/UpdateTrail in the
-- description: dataset, or named like *cloudtrail*); CloudTrail log files deleted (S3 data events on
-- description: AWSLogs/.../CloudTrail/ keys or on a trail bucket). Event selectors set by the principal that
-- description: created the trail within the previous hour are its set-up, not tampering.
-- description: Request shapes read: name / trailName (a name or an ARN); eventDataStore; UpdateTrail
-- description: isMultiRegionTrail, includeGlobalServiceEvents, enableLogFileValidation (JSON booleans), s3BucketName,
-- description: kmsKeyId; eventSelectors[] (readWriteType, includeManagementEvents, excludeManagementEventSources[]);
-- description: advancedEventSelectors[].fieldSelectors[] with field / equals / notEquals / startsWith / notStartsWith /
-- description: notEndsWith in lower or upper camel case (Field, Equals...); insightSelectors[] of a trail or of an
-- description: event data store (eventDataStore); S3 bucketName and LifecycleConfiguration.Rule (one object or a
-- description: list; Status, Expiration.Days as a number or a string); DeleteObject key (DeleteObjects logs no keys:
-- description: judged by the bucket).
-- false_positives: Trail migrations by the platform team (new bucket, new trail then old trail deleted); data-event-only
-- false_positives: trails whose selectors exclude management events on purpose; cost cuts that leave out the
-- false_positives: high-volume KMS or RDS Data API events or turn Insights off; retention lifecycle rules shorter
-- false_positives: than the window on a log bucket.
-- references: https://attack.mitre.org/techniques/T1562/008/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-stop/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-event-selectors/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-lifecycle-rule/
-- param: lifecycle_days int 30 | A lifecycle rule on a trail bucket expiring objects within this many days is reported
WITH trail_buckets AS (
    SELECT DISTINCT request_parameters->>'$.s3BucketName' AS bucket
    FROM events
    WHERE event_source = 'cloudtrail.amazonaws.com' AND event_name IN ('CreateTrail', 'UpdateTrail')
      AND request_parameters->>'$.s3BucketName' IS NOT NULL
),
new_trails AS (   -- trails created in the dataset: their first selectors are set-up
    SELECT actor AS creator, regexp_extract(request_parameters->>'$.name', '[^/:]+$') AS trail, event_time AS created_at
    FROM events
    WHERE event_source = 'cloudtrail.amazonaws.com' AND event_name = 'CreateTrail'
      AND tfh_ok(error_code, response_elements, event_name)
),
candidates AS (
    SELECT *, request_parameters AS rp
    FROM events e
    WHERE ((event_source = 'cloudtrail.amazonaws.com'
            AND event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                               'PutAdvancedEventSelectors', 'DeleteEventDataStore', 'StopEventDataStoreIngestion',
                               'PutInsightSelectors'))
           OR (event_source = 's3.amazonaws.com'
               AND event_name IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'DeleteObject',
                                  'DeleteObjects')))
      AND tfh_ok(error_code, response_elements, event_name)
      AND NOT (event_name IN ('PutEventSelectors', 'PutAdvancedEventSelectors') AND EXISTS (
          SELECT 1 FROM new_trails n
          WHERE n.creator = e.actor AND n.trail = regexp_extract(e.request_parameters->>'$.trailName', '[^/:]+$')
            AND e.event_time BETWEEN n.created_at AND n.created_at + INTERVAL 1 HOUR))
),
management_filters AS (   -- the field selectors of the advanced selectors that log management events
    SELECT event_id, f, coalesce(f->>'$.field', f->>'$.Field') AS field,
           flatten([coalesce(f->>'$.notEquals[*]', []), coalesce(f->>'$.NotEquals[*]', []),
                    coalesce(f->>'$.notStartsWith[*]', []), coalesce(f->>'$.NotStartsWith[*]', []),
                    coalesce(f->>'$.notEndsWith[*]', []), coalesce(f->>'$.NotEndsWith[*]', [])]) AS excluded,
           flatten([coalesce(f->>'$.equals[*]', []), coalesce(f->>'$.Equals[*]', []),
                    coalesce(f->>'$.startsWith[*]', []), coalesce(f->>'$.StartsWith[*]', [])]) AS kept
    FROM (
        SELECT event_id, unnest(tfh_list(coalesce(sel->'$.fieldSelectors', sel->'$.FieldSelectors'))) AS f
        FROM (
            SELECT event_id, unnest(tfh_list(rp->'$.advancedEventSelectors')) AS sel
            FROM candidates
            WHERE event_name IN ('PutEventSelectors', 'PutAdvancedEventSelectors')
              AND json_type(rp, '$.advancedEventSelectors') = 'ARRAY'
        )
        WHERE len(list_filter(tfh_list(coalesce(sel->'$.fieldSelectors', sel->'$.FieldSelectors')),
                  lambda x: coalesce(x->>'$.field', x->>'$.Field') = 'eventCategory'
                            AND list_contains(list_concat(coalesce(x->>'$.equals[*]', []),
                                                          coalesce(x->>'$.Equals[*]', [])), 'Management'))) > 0
    )
),
narrowed AS (   -- how those selectors narrow the management events
    SELECT event_id, string_agg(reason, '; ' ORDER BY reason) AS reasons
    FROM (
        SELECT event_id, CASE
            WHEN field IN ('eventSource', 'eventName') AND len(excluded) > 0 THEN
                'management events of ' || array_to_string(list_sort(excluded), ', ') || ' excluded'
            WHEN field IN ('eventSource', 'eventName') AND len(kept) > 0 THEN
                'management events logged only for ' || array_to_string(list_sort(kept), ', ')
            WHEN field = 'readOnly' AND len(list_distinct(kept)) = 1 THEN
                'only ' || CASE WHEN lower(kept[1]) = 'true' THEN 'read' ELSE 'write' END
                || ' management events logged'
            WHEN field = 'readOnly' AND len(excluded) > 0 THEN
                'only ' || CASE WHEN lower(excluded[1]) = 'true' THEN 'write' ELSE 'read' END
                || ' management events logged'
            END AS reason
        FROM management_filters
    )
    WHERE reason IS NOT NULL
    GROUP BY event_id
),
judged AS (
    SELECT *, CASE
        WHEN event_name = 'StopLogging' THEN 'logging stopped for trail ' || coalesce(rp->>'$.name', '?')
        WHEN event_name = 'DeleteTrail' THEN 'trail deleted: ' || coalesce(rp->>'$.name', '?')
        WHEN event_name IN ('DeleteEventDataStore', 'StopEventDataStoreIngestion') THEN
            'event data store ' || coalesce(rp->>'$.eventDataStore', '?')
            || CASE event_name WHEN 'DeleteEventDataStore' THEN ' deleted' ELSE ' ingestion stopped' END
        WHEN event_name = 'UpdateTrail' THEN nullif(concat_ws('; ',
            CASE WHEN rp->>'$.isMultiRegionTrail' = 'false' THEN 'multi-region logging turned off' END,
            CASE WHEN rp->>'$.includeGlobalServiceEvents' = 'false' THEN 'global service events excluded' END,
            CASE WHEN rp->>'$.enableLogFileValidation' = 'false' THEN 'log file validation turned off' END,
            CASE WHEN rp->>'$.s3BucketName' IS NOT NULL THEN 'logs now delivered to bucket ' || (rp->>'$.s3BucketName') END,
            CASE WHEN len(tfh_unknown([tfh_arn_account(rp->>'$.kmsKeyId')])) > 0
                 THEN 'logs encrypted with a key of account ' || tfh_arn_account(rp->>'$.kmsKeyId') END
        ), '') || ' (trail ' || coalesce(rp->>'$.name', '?') || ')'
        WHEN event_name IN ('PutEventSelectors', 'PutAdvancedEventSelectors')
             AND json_type(rp, '$.advancedEventSelectors') = 'ARRAY' THEN
            CASE WHEN NOT contains(CAST(rp->'$.advancedEventSelectors' AS VARCHAR), '"Management"')
                 THEN 'advanced event selectors no longer log management events (trail '
                      || coalesce(rp->>'$.trailName', '?') || ')'
                 WHEN reasons IS NOT NULL
                 THEN 'advanced event selectors: ' || reasons || ' (trail ' || coalesce(rp->>'$.trailName', '?') || ')'
            END
        WHEN event_name = 'PutInsightSelectors' THEN
            CASE WHEN coalesce(json_array_length(rp, '$.insightSelectors'), 0) = 0
                 THEN 'CloudTrail Insights turned off (' || coalesce('trail ' || (rp->>'$.trailName'),
                                                                   'event data store ' || (rp->>'$.eventDataStore'),
                                                                   'trail ?') || ')' END
        WHEN event_name IN ('PutEventSelectors', 'PutAdvancedEventSelectors') THEN nullif(concat_ws('; ',
            CASE WHEN coalesce(json_array_length(rp, '$.eventSelectors'), 0) = 0 THEN 'all event selectors removed' END,
            CASE WHEN list_contains(rp->>'$.eventSelectors[*].includeManagementEvents', 'false')
                 THEN 'management events excluded' END,
            CASE WHEN len(list_filter(rp->>'$.eventSelectors[*].excludeManagementEventSources[*]',
                                      lambda x: x IS NOT NULL)) > 0
                 THEN 'management events of ' || array_to_string(list_sort(list_distinct(
                          rp->>'$.eventSelectors[*].excludeManagementEventSources[*]')), ', ') || ' excluded' END,
            CASE WHEN len(list_filter(rp->>'$.eventSelectors[*].readWriteType', lambda x: x <> 'All')) > 0
                 THEN 'only ' || array_to_string(list_distinct(list_filter(rp->>'$.eventSelectors[*].readWriteType',
                                                                   lambda x: x <> 'All')), '/') || ' events logged' END
        ), '') || ' (trail ' || coalesce(rp->>'$.trailName', '?') || ')'
        WHEN event_name IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
             AND ((rp->>'$.bucketName') IN (SELECT bucket FROM trail_buckets)
                  OR lower(rp->>'$.bucketName') LIKE '%cloudtrail%')
             AND len(list_filter(tfh_list(rp->'$.LifecycleConfiguration.Rule'),
                     lambda r: (r->>'$.Status') = 'Enabled'
                               AND TRY_CAST(r->>'$.Expiration.Days' AS INTEGER) <= $lifecycle_days)) > 0 THEN
            'trail bucket ' || (rp->>'$.bucketName') || ' now expires objects after '
            || CAST(list_min(list_transform(list_filter(tfh_list(rp->'$.LifecycleConfiguration.Rule'),
                     lambda r: (r->>'$.Status') = 'Enabled'),
                     lambda r: TRY_CAST(r->>'$.Expiration.Days' AS INTEGER))) AS VARCHAR) || ' day(s)'
        WHEN event_name IN ('DeleteObject', 'DeleteObjects')
             AND (regexp_matches(coalesce(rp->>'$.key', ''), '(^|/)AWSLogs/.*/CloudTrail(-Digest)?/')
                  OR (rp->>'$.bucketName') IN (SELECT bucket FROM trail_buckets)) THEN
            'CloudTrail log file deleted: ' || coalesce(rp->>'$.bucketName', '?') || '/' || coalesce(rp->>'$.key', '(batch)')
    END AS details
    FROM candidates LEFT JOIN narrowed USING (event_id)
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details
FROM judged
WHERE details IS NOT NULL
ORDER BY event_time
