-- id: resource_policy_public
-- title: Resource policy made public or shared with an unknown account
-- severity: high
-- attack: T1537, T1530
-- events: ecr.amazonaws.com:SetRepositoryPolicy, sqs.amazonaws.com:SetQueueAttributes, sqs.amazonaws.com:CreateQueue,
-- events: sns.amazonaws.com:SetTopicAttributes, sns.amazonaws.com:CreateTopic, kms.amazonaws.com:PutKeyPolicy,
-- events: kms.amazonaws.com:CreateKey,
-- events: secretsmanager.amazonaws.com:PutResourcePolicy, es.amazonaws.com:CreateElasticsearchDomain,
-- events: es.amazonaws.com:UpdateElasticsearchDomainConfig, es.amazonaws.com:CreateDomain,
-- events: es.amazonaws.com:UpdateDomainConfig, glacier.amazonaws.com:SetVaultAccessPolicy,
-- events: elasticfilesystem.amazonaws.com:PutFileSystemPolicy, backup.amazonaws.com:PutBackupVaultAccessPolicy
-- description: Resource policies (ECR, SQS, SNS, KMS, Secrets Manager, OpenSearch, Glacier, EFS, Backup; queues and
-- description: topics created with a policy too) given a statement that allows any principal without a restricting
-- description: condition, or that names an account outside known_accounts. S3 bucket policies have their own
-- description: detection (s3_bucket_exposed).
-- description: Request shapes read (each policy an object or a JSON string; Statement a list or one object): policyText
-- description: (ECR); attributes.Policy (SQS SetQueueAttributes / CreateQueue, SNS CreateTopic); attributeName Policy
-- description: with attributeValue (SNS); policy (KMS PutKeyPolicy / CreateKey, EFS, Backup); resourcePolicy (Secrets
-- description: Manager); accessPolicies (OpenSearch); policy.policy (Glacier); the resource from repositoryName,
-- description: queueUrl / queueName, topicArn / name, keyId, secretId, domainName, vaultName, fileSystemId,
-- description: backupVaultName.
-- false_positives: Public container images or topics on purpose; cross-account sharing with organisation accounts
-- false_positives: not in the dataset (add them with --known-accounts).
-- references: https://attack.mitre.org/techniques/T1537/,
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
WITH calls AS (
    SELECT *, CASE
            WHEN event_name = 'SetRepositoryPolicy' THEN request_parameters->'$.policyText'
            WHEN event_name IN ('SetQueueAttributes', 'CreateQueue', 'CreateTopic')
                THEN request_parameters->'$.attributes.Policy'
            WHEN event_name = 'SetTopicAttributes' AND (request_parameters->>'$.attributeName') = 'Policy'
                THEN request_parameters->'$.attributeValue'
            WHEN event_name IN ('CreateElasticsearchDomain', 'UpdateElasticsearchDomainConfig', 'CreateDomain',
                                'UpdateDomainConfig') THEN request_parameters->'$.accessPolicies'
            WHEN event_name = 'SetVaultAccessPolicy' THEN request_parameters->'$.policy.policy'
            ELSE coalesce(request_parameters->'$.resourcePolicy', request_parameters->'$.policy')
        END AS policy,
        coalesce(request_parameters->>'$.repositoryName', request_parameters->>'$.queueUrl',
                 request_parameters->>'$.queueName',
                 request_parameters->>'$.topicArn', request_parameters->>'$.keyId', request_parameters->>'$.secretId',
                 request_parameters->>'$.domainName', request_parameters->>'$.vaultName',
                 request_parameters->>'$.fileSystemId', request_parameters->>'$.backupVaultName',
                 request_parameters->>'$.name', '?') AS resource
    FROM events
    WHERE event_source IN ('ecr.amazonaws.com', 'sqs.amazonaws.com', 'sns.amazonaws.com', 'kms.amazonaws.com',
                           'secretsmanager.amazonaws.com', 'es.amazonaws.com', 'glacier.amazonaws.com',
                           'elasticfilesystem.amazonaws.com', 'backup.amazonaws.com')
      AND event_name IN ('SetRepositoryPolicy', 'SetQueueAttributes', 'CreateQueue', 'SetTopicAttributes', 'CreateTopic',
                         'PutKeyPolicy', 'CreateKey',
                         'PutResourcePolicy', 'CreateElasticsearchDomain', 'UpdateElasticsearchDomainConfig',
                         'CreateDomain', 'UpdateDomainConfig', 'SetVaultAccessPolicy', 'PutFileSystemPolicy',
                         'PutBackupVaultAccessPolicy')
      AND tfh_ok(error_code, response_elements, event_name)
),
judged AS (
    SELECT *, tfh_policy_public(policy) AS public, tfh_unknown(tfh_policy_accounts(policy)) AS outsiders
    FROM calls
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       replace(event_source, '.amazonaws.com', '') || ' policy of ' || resource || ' ' || concat_ws(' and ',
           CASE WHEN public THEN 'allows any principal' END,
           CASE WHEN len(outsiders) > 0 THEN 'grants unknown account(s) ' || array_to_string(outsiders, ', ') END) AS details
FROM judged
WHERE public OR len(outsiders) > 0
ORDER BY event_time
