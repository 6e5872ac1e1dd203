-- id: s3_bucket_exposed
-- title: S3 bucket made public or shared with an unknown account
-- severity: high
-- attack: T1530, T1537
-- events: s3.amazonaws.com:PutBucketPolicy, s3.amazonaws.com:PutBucketAcl, s3.amazonaws.com:PutObjectAcl,
-- events: s3.amazonaws.com:DeleteBucketPublicAccessBlock, s3.amazonaws.com:PutBucketPublicAccessBlock,
-- events: s3.amazonaws.com:PutAccountPublicAccessBlock, s3.amazonaws.com:DeleteAccountPublicAccessBlock,
-- events: s3.amazonaws.com:PutBucketReplication
-- description: Successful S3 changes that expose data: a bucket policy statement for any principal without a
-- description: restricting condition, or naming an account outside known_accounts; an ACL granting AllUsers or
-- description: AuthenticatedUsers (or a public canned ACL); a bucket or account public access block removed or
-- description: with a protection turned off; replication to a bucket owned by an unknown account.
-- description: Request shapes read: bucketName, key; bucketPolicy (an object or a JSON string; Statement a list or
-- description: one object; Principal "*", {"AWS": "*"} or a list); the ACL anywhere in the request
-- description: (AccessControlPolicy grants, a list or one grant; x-amz-grant-* headers; x-amz-acl a string or a
-- description: list); PublicAccessBlockConfiguration (true / false as booleans or strings, a setting left out
-- description: being off); ReplicationConfiguration Rule (a list or one rule) Destination.Account.
-- false_positives: Static website and public dataset buckets; cross-account log or backup buckets of the same
-- false_positives: organisation (add the accounts with --known-accounts).
-- references: https://attack.mitre.org/techniques/T1530/, https://attack.mitre.org/techniques/T1537/,
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
WITH calls AS (
    SELECT *, request_parameters AS rp, coalesce(request_parameters->>'$.bucketName', '?') AS bucket
    FROM events
    WHERE event_source = 's3.amazonaws.com'
      AND event_name IN ('PutBucketPolicy', 'PutBucketAcl', 'PutObjectAcl', 'DeleteBucketPublicAccessBlock',
                         'PutBucketPublicAccessBlock', 'PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock',
                         'PutBucketReplication')
      AND tfh_ok(error_code, response_elements, event_name)
),
judged AS (
    SELECT *, CASE
        WHEN event_name = 'PutBucketPolicy' THEN nullif(concat_ws('; ',
            CASE WHEN tfh_policy_public(rp->'$.bucketPolicy') THEN 'policy of bucket ' || bucket || ' allows any principal' END,
            CASE WHEN len(tfh_unknown(tfh_policy_accounts(rp->'$.bucketPolicy'))) > 0
                 THEN 'policy of bucket ' || bucket || ' grants unknown account(s) '
                      || array_to_string(tfh_unknown(tfh_policy_accounts(rp->'$.bucketPolicy')), ', ') END), '')
        WHEN event_name IN ('PutBucketAcl', 'PutObjectAcl') THEN
            CASE WHEN contains(rp, 'acs.amazonaws.com/groups/global/AllUsers')
                      OR contains(rp, 'acs.amazonaws.com/groups/global/AuthenticatedUsers')
                      OR regexp_matches(rp, '"x-amz-acl"\s*:\s*\[?\s*"(public-read|public-read-write|authenticated-read)"')
                 THEN 'public ACL on ' || bucket || coalesce('/' || (rp->>'$.key'), '') END
        WHEN event_name IN ('DeleteBucketPublicAccessBlock', 'DeleteAccountPublicAccessBlock') THEN
            'public access block removed from ' || CASE WHEN event_name LIKE '%Account%' THEN 'the account' ELSE bucket END
        WHEN event_name IN ('PutBucketPublicAccessBlock', 'PutAccountPublicAccessBlock')
             AND json_type(rp, '$.PublicAccessBlockConfiguration') = 'OBJECT' THEN   -- a setting left out is off
            CASE WHEN len(list_filter(['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'],
                          lambda k: coalesce(rp->>('$.PublicAccessBlockConfiguration.' || k), 'false') = 'false')) > 0
                 THEN 'public access block weakened on ' || CASE WHEN event_name LIKE '%Account%' THEN 'the account'
                      ELSE bucket END || ': ' || array_to_string(list_filter(['BlockPublicAcls', 'IgnorePublicAcls',
                      'BlockPublicPolicy', 'RestrictPublicBuckets'],
                      lambda k: coalesce(rp->>('$.PublicAccessBlockConfiguration.' || k), 'false') = 'false'), ', ') || ' off' END
        WHEN event_name = 'PutBucketReplication' THEN
            CASE WHEN len(tfh_unknown(coalesce(rp->>'$..Destination.Account', []))) > 0
                 THEN 'bucket ' || bucket || ' replicated to unknown account(s) '
                      || array_to_string(list_distinct(tfh_unknown(rp->>'$..Destination.Account')), ', ') END
    END AS details
    FROM calls
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details
FROM judged
WHERE details IS NOT NULL
ORDER BY event_time
