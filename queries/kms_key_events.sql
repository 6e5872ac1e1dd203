-- id: kms_key_events
-- title: KMS key management events
-- description: Key creation, policy changes, grants, disabling and scheduled deletion. Routine cryptographic
-- description: calls (Decrypt, Encrypt, GenerateDataKey...) are left out unless include_crypto is true.
-- param: since timestamp null | Earliest event time
-- param: until timestamp null | Latest event time (exclusive)
-- param: include_crypto bool false | Also list Decrypt/Encrypt/GenerateDataKey/ReEncrypt calls
-- columns: event_time, actor, source_ip, region, event_name, key, error, request
SELECT event_time, actor, source_ip_address AS source_ip, aws_region AS region, event_name,
       coalesce(json_extract_string(request_parameters, '$.keyId'),
                json_extract_string(response_elements, '$.keyMetadata.arn'),
                json_extract_string(resources, '$[0].ARN')) AS key,
       error_code AS error, tf_param_summary(request_parameters) AS request
FROM events
WHERE event_source = 'kms.amazonaws.com'
  AND ($include_crypto OR event_name NOT IN ('Decrypt', 'Encrypt', 'GenerateDataKey',
       'GenerateDataKeyWithoutPlaintext', 'ReEncrypt', 'GenerateRandom', 'DescribeKey', 'ListAliases',
       'ListKeys', 'GetKeyPolicy', 'GetKeyRotationStatus', 'ListResourceTags', 'ListGrants', 'GetPublicKey'))
  AND ($since IS NULL OR event_time >= $since)
  AND ($until IS NULL OR event_time < $until)
ORDER BY event_time
