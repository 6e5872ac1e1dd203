-- id: s3_copy_to_external_account
-- title: S3 objects copied to a bucket of another account
-- severity: high
-- attack: T1537
-- events: s3.amazonaws.com:CopyObject, s3.amazonaws.com:UploadPartCopy
-- description: Needs S3 data events. A successful CopyObject (or UploadPartCopy) whose resources name a bucket
-- description: owned by another account than the caller's: data moved out of the account without downloading
-- description: it. High when that account is unknown (not an account of the dataset or of known_accounts), low for
-- description: a known one. One hit per principal, destination account and day, with the count and buckets.
-- description: Replication to another account's bucket is reported by s3_bucket_exposed.
-- description: Request shapes read: resources[] (type AWS::S3::Bucket with accountId; Type / AccountId as some exports
-- description: spell them); bucketName, x-amz-copy-source.
-- false_positives: Cross-account pipelines and backups (add the partner accounts with --known-accounts).
-- references: https://attack.mitre.org/techniques/T1537/,
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html
WITH copies AS (
    SELECT *, coalesce(user_identity_account_id, recipient_account_id) AS caller_account,
           list_distinct(list_filter(list_transform(
               list_filter(tfh_list(resources), lambda r: coalesce(r->>'$.type', r->>'$.Type') = 'AWS::S3::Bucket'),
               lambda r: coalesce(r->>'$.accountId', r->>'$.AccountId')), lambda a: a IS NOT NULL)) AS bucket_accounts
    FROM events
    WHERE event_source = 's3.amazonaws.com' AND event_name IN ('CopyObject', 'UploadPartCopy')
      AND tfh_ok(error_code, response_elements, event_name)
      AND user_identity_invoked_by IS NULL
      AND coalesce(user_identity_type, '') <> 'AWSService'
),
foreign_copies AS (
    SELECT *, list_filter(bucket_accounts, lambda a: a <> caller_account) AS others
    FROM copies
),
flagged AS (
    SELECT *, others[1] AS other_account, len(tfh_unknown(others)) > 0 AS unknown_account,
           count(*) OVER g AS n
    FROM foreign_copies
    WHERE len(others) > 0
    WINDOW g AS (PARTITION BY actor, others[1], date_trunc('day', event_time))
    QUALIFY row_number() OVER (PARTITION BY actor, others[1], date_trunc('day', event_time)
                               ORDER BY event_time, event_id) = 1
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'object copied into bucket ' || coalesce(request_parameters->>'$.bucketName', '?')
       || ' with a bucket of ' || CASE WHEN unknown_account THEN 'unknown ' ELSE 'known ' END
       || 'account ' || other_account || ' (caller account ' || caller_account || ', source '
       || coalesce(request_parameters->>'$."x-amz-copy-source"', '?') || '); ' || n || ' such copies that day'
       AS details,
       CASE WHEN unknown_account THEN 'high' ELSE 'low' END AS severity
FROM flagged
ORDER BY event_time
