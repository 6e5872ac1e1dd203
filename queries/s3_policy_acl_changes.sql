-- id: s3_policy_acl_changes
-- title: S3 bucket policy, ACL and public-access changes
-- description: Bucket policies put or deleted, bucket and object ACLs, public access blocks, ownership controls
-- description: and replication: the calls that expose or share data.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- param: bucket glob * | Bucket name (glob)
-- columns: event_time, actor, source_ip, event_name, bucket, error, request
SELECT event_time, actor, source_ip_address AS source_ip, event_name,
       json_extract_string(request_parameters, '$.bucketName') AS bucket,
       error_code AS error, tf_param_summary(request_parameters) AS request
FROM events
WHERE event_source = 's3.amazonaws.com'
  AND event_name IN ('PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl', 'PutObjectAcl',
                     'PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock', 'PutAccountPublicAccessBlock',
                     'DeleteAccountPublicAccessBlock', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls',
                     'PutBucketReplication', 'DeleteBucketReplication', 'PutBucketCors')
  AND coalesce(json_extract_string(request_parameters, '$.bucketName'), '') GLOB $bucket
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time
