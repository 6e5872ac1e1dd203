-- id: ebs_encryption_disabled
-- title: EBS encryption by default disabled or moved to another account's key
-- severity: high
-- attack: T1486, T1565
-- events: ec2.amazonaws.com:DisableEbsEncryptionByDefault, ec2.amazonaws.com:ModifyEbsDefaultKmsKeyId
-- description: DisableEbsEncryptionByDefault (new volumes and snapshot copies of the region are no longer
-- description: encrypted: medium), and ModifyEbsDefaultKmsKeyId pointing the default EBS key at a KMS key of an
-- description: unknown account (new volumes encrypted with a key someone else controls, a ransomware set-up: high).
-- description: Request shapes read: KmsKeyId wherever it is nested (the EC2 ModifyEbsDefaultKmsKeyIdRequest wrapper or
-- description: top level); a key ARN or an alias ARN names its account, a bare key id or alias name names none (this
-- description: account).
-- false_positives: Workloads that need unencrypted volumes (rare); key migrations to a central security account
-- false_positives: (add it with --known-accounts).
-- references: https://attack.mitre.org/techniques/T1486/,
-- references: https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       CASE WHEN event_name = 'DisableEbsEncryptionByDefault'
            THEN 'EBS encryption by default disabled in ' || coalesce(aws_region, '?')
            ELSE 'default EBS key set to ' || (request_parameters->>'$..KmsKeyId')[1] || ', a key of account '
                 || tfh_arn_account((request_parameters->>'$..KmsKeyId')[1]) END AS details,
       CASE WHEN event_name = 'DisableEbsEncryptionByDefault' THEN 'medium' ELSE 'high' END AS severity
FROM events
WHERE event_source = 'ec2.amazonaws.com'
  AND event_name IN ('DisableEbsEncryptionByDefault', 'ModifyEbsDefaultKmsKeyId')
  AND tfh_ok(error_code, response_elements, event_name)
  AND (event_name = 'DisableEbsEncryptionByDefault'
       OR len(tfh_unknown([tfh_arn_account((request_parameters->>'$..KmsKeyId')[1])])) > 0)
ORDER BY event_time
