-- id: audit_logs_deleted
-- title: Other audit logs deleted or shortened
-- severity: medium
-- attack: T1562.008, T1070
-- attack_v19: T1685.002, T1070
-- events: ec2.amazonaws.com:DeleteFlowLogs, route53resolver.amazonaws.com:DeleteResolverQueryLogConfig,
-- events: route53resolver.amazonaws.com:DisassociateResolverQueryLogConfig, logs.amazonaws.com:DeleteLogGroup,
-- events: logs.amazonaws.com:DeleteLogStream, logs.amazonaws.com:PutRetentionPolicy, s3.amazonaws.com:PutBucketLogging,
-- events: bedrock.amazonaws.com:DeleteModelInvocationLoggingConfiguration, wafv2.amazonaws.com:DeleteLoggingConfiguration,
-- events: eks.amazonaws.com:UpdateClusterConfig, rds.amazonaws.com:StopActivityStream,
-- events: elasticloadbalancing.amazonaws.com:ModifyLoadBalancerAttributes
-- description: Successful calls that delete or shorten logs other than CloudTrail: VPC flow logs, Route 53 resolver
-- description: query logging, CloudWatch log groups and streams (or a retention below the threshold), S3 server
-- description: access logging turned off, Bedrock model-invocation logging, WAF logging, EKS control-plane logging
-- description: turned off, RDS database activity streams stopped, load-balancer access logs turned off.
-- description: Request shapes read: DeleteFlowLogs DeleteFlowLogsRequest.FlowLogId ({content} or a list of them)
-- description: or flowLogIds; resolverQueryLogConfigId; logGroupName, logStreamName; retentionInDays (a number or a
-- description: string); PutBucketLogging BucketLoggingStatus (present without LoggingEnabled: off; no
-- description: BucketLoggingStatus at all is not a change); UpdateClusterConfig logging.clusterLogging[].enabled;
-- description: ModifyLoadBalancerAttributes attributes[] {key, value} (a list, or one object: ELBv2) or
-- description: loadBalancerAttributes.accessLog.enabled (classic); resourceArn (WAF, RDS).
-- false_positives: Infrastructure-as-code tearing down stacks (log groups of deleted Lambda functions); cost-driven
-- false_positives: retention changes; test environments.
-- references: https://attack.mitre.org/techniques/T1562/008/, https://attack.mitre.org/techniques/T1070/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.vpc-remove-flow-logs/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.dns-delete-logs/
-- param: min_retention_days int 7 | A log-group retention shorter than this many days is reported
WITH candidates AS (
    SELECT *, request_parameters AS rp
    FROM events
    WHERE event_name IN ('DeleteFlowLogs', 'DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig',
                         'DeleteLogGroup', 'DeleteLogStream', 'PutRetentionPolicy', 'PutBucketLogging',
                         'DeleteModelInvocationLoggingConfiguration', 'DeleteLoggingConfiguration',
                         'UpdateClusterConfig', 'StopActivityStream', 'ModifyLoadBalancerAttributes')
      AND event_source IN ('ec2.amazonaws.com', 'route53resolver.amazonaws.com', 'logs.amazonaws.com',
                           's3.amazonaws.com', 'bedrock.amazonaws.com', 'wafv2.amazonaws.com', 'eks.amazonaws.com',
                           'rds.amazonaws.com', 'elasticloadbalancing.amazonaws.com')
      AND tfh_ok(error_code, response_elements, event_name)
),
judged AS (
    SELECT *, CASE
        WHEN event_name = 'DeleteFlowLogs' THEN 'VPC flow logs deleted: '
            || coalesce(nullif(array_to_string(rp->>'$..FlowLogId..content', ', '), ''),
                        nullif(array_to_string(rp->>'$..flowLogIds[*]', ', '), ''), '?')
        WHEN event_name IN ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig') THEN
            'Route 53 resolver query logging ' || CASE event_name WHEN 'DeleteResolverQueryLogConfig' THEN 'deleted'
            ELSE 'detached' END || ': ' || coalesce(rp->>'$.resolverQueryLogConfigId', '?')
        WHEN event_name = 'DeleteLogGroup' THEN 'log group deleted: ' || coalesce(rp->>'$.logGroupName', '?')
        WHEN event_name = 'DeleteLogStream' THEN 'log stream deleted: ' || coalesce(rp->>'$.logGroupName', '?')
            || '/' || coalesce(rp->>'$.logStreamName', '?')
        WHEN event_name = 'PutRetentionPolicy' THEN
            CASE WHEN TRY_CAST(rp->>'$.retentionInDays' AS INTEGER) < $min_retention_days
                 THEN 'log group ' || coalesce(rp->>'$.logGroupName', '?') || ' retention set to '
                      || (rp->>'$.retentionInDays') || ' day(s)' END
        WHEN event_name = 'PutBucketLogging' THEN
            CASE WHEN json_type(rp, '$.BucketLoggingStatus') IS NOT NULL
                      AND json_type(rp, '$.BucketLoggingStatus.LoggingEnabled') IS NULL
                 THEN 'S3 access logging turned off for bucket ' || coalesce(rp->>'$.bucketName', '?') END
        WHEN event_name = 'DeleteModelInvocationLoggingConfiguration' THEN 'Bedrock model invocation logging deleted'
        WHEN event_name = 'DeleteLoggingConfiguration' AND event_source = 'wafv2.amazonaws.com' THEN
            'WAF logging deleted for ' || coalesce(rp->>'$.resourceArn', '?')
        WHEN event_name = 'UpdateClusterConfig' THEN
            CASE WHEN list_contains(rp->>'$.logging.clusterLogging[*].enabled', 'false')
                 THEN 'EKS control-plane logging turned off for cluster ' || coalesce(rp->>'$.name', '?') END
        WHEN event_name = 'StopActivityStream' THEN 'RDS activity stream stopped for ' || coalesce(rp->>'$.resourceArn', '?')
        WHEN event_name = 'ModifyLoadBalancerAttributes' THEN
            CASE WHEN len(list_filter(tfh_list(rp->'$.attributes'), lambda a: (a->>'$.key') = 'access_logs.s3.enabled'
                                                                             AND (a->>'$.value') = 'false')) > 0
                      OR (rp->>'$.loadBalancerAttributes.accessLog.enabled') = 'false'
                 THEN 'load balancer access logs turned off: '
                      || coalesce(rp->>'$.loadBalancerArn', rp->>'$.loadBalancerName', '?') END
    END AS details
    FROM candidates
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details
FROM judged
WHERE details IS NOT NULL
ORDER BY event_time
