-- id: s3_data_destruction
-- title: S3 objects mass-deleted, encrypted with customer keys or ransom notes written
-- severity: high
-- attack: T1485, T1486
-- events: s3.amazonaws.com:DeleteObject, s3.amazonaws.com:DeleteObjects, s3.amazonaws.com:PutObject,
-- events: s3.amazonaws.com:CopyObject, s3.amazonaws.com:CreateMultipartUpload
-- description: Needs S3 data events. One principal making at least min_deletes DeleteObject(s) requests within
-- description: window_minutes (one hit per burst); the first write with SSE-C (customer-provided keys, the
-- description: encrypt-in-place ransomware trick) per principal and bucket, with the count; the same for writes
-- description: encrypted with a KMS key of another account than the caller's and the bucket owner's (the
-- description: attacker's key; medium when it is a known account); objects written under a ransom-note name (note_words, matched on the file name with
-- description: separators removed).
-- description: Request shapes read: bucketName, key; x-amz-server-side-encryption-customer-algorithm (SSE-C, any
-- description: value); x-amz-server-side-encryption-aws-kms-key-id (a key ARN, a string or a one-element list; a bare
-- description: key id or alias names no account and is not judged).
-- false_positives: Lifecycle-like clean-up jobs run by hand; applications that use SSE-C by design.
-- references: https://attack.mitre.org/techniques/T1485/, https://attack.mitre.org/techniques/T1486/,
-- references: https://www.halcyon.ai/blog/abusing-aws-native-services-ransomware-encrypting-s3-buckets-with-sse-c
-- param: window_minutes int 10 | Length of the sliding window for deletions
-- param: min_deletes int 50 | DeleteObject(s) requests within the window
-- param: note_words text howtodecrypt,howtorestore,howtorecover,ransom,decryptinstructions,decryptfiles,decryptmyfiles,recoverfiles,recoveryourfiles,restoreyourfiles,readmetodecrypt,readmefordecrypt | Words looked for in object file names (letters and digits only, lower case)
WITH data AS NOT MATERIALIZED (   -- each part reads its own rows and columns: holding all of them costs GBs
    SELECT *, request_parameters AS rp,
           -- the header as a string, or as the one-element list S3 logs some headers as
           nullif(regexp_replace(coalesce(request_parameters->>'$."x-amz-server-side-encryption-aws-kms-key-id"', ''),
                                 '^\["|"\]$', '', 'g'), '') AS kms_key
    FROM events
    WHERE event_source = 's3.amazonaws.com'
      AND event_name IN ('DeleteObject', 'DeleteObjects', 'PutObject', 'CopyObject', 'CreateMultipartUpload')
      AND tfh_ok(error_code, response_elements, event_name)
),
deletes AS (
    SELECT *, count(*) OVER (PARTITION BY actor ORDER BY event_time
                             RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW) AS n
    FROM data WHERE event_name IN ('DeleteObject', 'DeleteObjects') AND actor IS NOT NULL
),
delete_hits AS (
    SELECT *, n || ' DeleteObject(s) requests in ' || $window_minutes || ' min' AS details
    FROM deletes WHERE n >= $min_deletes
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
ssec AS (
    SELECT *, count(*) OVER (PARTITION BY actor, rp->>'$.bucketName') AS n
    FROM data
    WHERE event_name IN ('PutObject', 'CopyObject', 'CreateMultipartUpload')
      AND json_type(rp, '$."x-amz-server-side-encryption-customer-algorithm"') IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY actor, rp->>'$.bucketName' ORDER BY event_time, event_id) = 1
),
foreign_kms AS (   -- writes encrypted with another account's KMS key (the key ARN names its account)
    SELECT *, tfh_arn_account(kms_key) AS key_account,
           count(*) OVER (PARTITION BY actor, rp->>'$.bucketName') AS n
    FROM data
    WHERE event_name IN ('PutObject', 'CopyObject', 'CreateMultipartUpload')
      AND tfh_arn_account(kms_key)
          NOT IN (coalesce(user_identity_account_id, ''), coalesce(recipient_account_id, ''))
    QUALIFY row_number() OVER (PARTITION BY actor, rp->>'$.bucketName' ORDER BY event_time, event_id) = 1
),
kms_hits AS (
    SELECT * EXCLUDE (key_account), CASE WHEN len(tfh_unknown([key_account])) > 0 THEN 'high' ELSE 'medium' END
              AS severity, 'objects written in bucket ' || coalesce(rp->>'$.bucketName', '?')
              || ' encrypted with KMS key ' || kms_key
              || ' of account ' || key_account || ': ' || n || ' request(s)' AS details
    FROM foreign_kms
),
ssec_hits AS (
    SELECT *, 'objects written with customer-provided keys (SSE-C) in bucket ' || coalesce(rp->>'$.bucketName', '?')
              || ': ' || n || ' request(s)' AS details
    FROM ssec
),
note_hits AS (
    SELECT *, 'ransom-note-like object written: ' || coalesce(rp->>'$.bucketName', '?') || '/' || (rp->>'$.key') AS details
    FROM data
    WHERE event_name IN ('PutObject', 'CopyObject')
      AND regexp_matches(regexp_replace(lower(regexp_extract(rp->>'$.key', '[^/]*$')), '[^a-z0-9]', '', 'g'),
                         array_to_string(list_transform(list_filter(string_split(lower($note_words), ','),
                                                                    lambda w: trim(w) <> ''),
                                                        lambda w: regexp_escape(trim(w))), '|'))
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details, NULL AS severity
FROM delete_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details, NULL FROM ssec_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details, NULL FROM note_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details, severity FROM kms_hits
ORDER BY event_time
