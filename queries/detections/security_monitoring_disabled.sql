-- id: security_monitoring_disabled
-- title: Security monitoring or protection disabled
-- severity: high
-- attack: T1562.001
-- attack_v19: T1685
-- events: guardduty.amazonaws.com:DeleteDetector, guardduty.amazonaws.com:UpdateDetector,
-- events: guardduty.amazonaws.com:DisassociateFromMasterAccount, guardduty.amazonaws.com:DisassociateFromAdministratorAccount,
-- events: guardduty.amazonaws.com:DeleteMembers, guardduty.amazonaws.com:DisassociateMembers,
-- events: guardduty.amazonaws.com:StopMonitoringMembers, guardduty.amazonaws.com:CreateFilter,
-- events: guardduty.amazonaws.com:UpdateFilter, guardduty.amazonaws.com:DeletePublishingDestination,
-- events: guardduty.amazonaws.com:CreateIPSet, guardduty.amazonaws.com:UpdateIPSet,
-- events: securityhub.amazonaws.com:DisableSecurityHub, securityhub.amazonaws.com:BatchDisableStandards,
-- events: securityhub.amazonaws.com:DisableImportFindingsForProduct, securityhub.amazonaws.com:BatchUpdateFindings,
-- events: securityhub.amazonaws.com:UpdateFindings, securityhub.amazonaws.com:DisassociateFromAdministratorAccount,
-- events: config.amazonaws.com:StopConfigurationRecorder, config.amazonaws.com:DeleteConfigurationRecorder,
-- events: config.amazonaws.com:DeleteDeliveryChannel, detective.amazonaws.com:DeleteGraph,
-- events: detective.amazonaws.com:DisassociateMembership, macie2.amazonaws.com:DisableMacie,
-- events: macie2.amazonaws.com:UpdateMacieSession, macie.amazonaws.com:DisableMacie,
-- events: inspector2.amazonaws.com:Disable, access-analyzer.amazonaws.com:DeleteAnalyzer,
-- events: wafv2.amazonaws.com:DisassociateWebACL, waf-regional.amazonaws.com:DisassociateWebACL,
-- events: wafv2.amazonaws.com:DeleteWebACL, waf-regional.amazonaws.com:DeleteWebACL,
-- events: monitoring.amazonaws.com:DeleteAlarms, monitoring.amazonaws.com:DisableAlarmActions,
-- events: events.amazonaws.com:DeleteRule, events.amazonaws.com:DisableRule, events.amazonaws.com:RemoveTargets,
-- events: bedrock.amazonaws.com:DeleteGuardrail, bedrock.amazonaws.com:UpdateGuardrail
-- description: Successful calls that switch off or blind a security service: GuardDuty detector deleted or disabled,
-- description: members or the administrator account dropped, findings auto-archived by a filter, a trusted IP list
-- description: added (GuardDuty stops reporting those addresses); Security Hub disabled, standards or product imports
-- description: disabled, findings suppressed or archived; AWS Config recording stopped or removed; Detective, Macie,
-- description: Inspector or IAM Access Analyzer disabled; a WAF web ACL detached from its resource. Medium: a WAF web
-- description: ACL deleted; CloudWatch alarms deleted or their actions disabled; EventBridge rules deleted, disabled
-- description: or stripped of their targets (the alerting path); a Bedrock guardrail deleted or weakened (a content
-- description: filter set to strength NONE, switched off or made to detect without blocking; all content filters
-- description: or all denied topics removed; an update whose policies CloudTrail does not show is not judged).
-- description: Changes made by CloudFormation or another service on the caller's behalf are left out of the medium
-- description: ones.
-- description: Request shapes read: enable, action, name / filterName, location (GuardDuty); Workflow.Status,
-- description: FindingIdentifiers, RecordState (Security Hub); status (Macie); resourceTypes[] (Inspector);
-- description: resourceArn, name / id (WAF); alarmNames[]; name / rule / ids[] (EventBridge); guardrailIdentifier,
-- description: contentPolicyConfig.filtersConfig[] (a list or one filter: type, inputStrength, outputStrength,
-- description: inputEnabled / outputEnabled, inputAction / outputAction), topicPolicyConfig.topicsConfig[] (Bedrock).
-- false_positives: Decommissioning of an account or region; the security team reorganising the delegated administrator;
-- false_positives: suppression rules for findings triaged as benign; WAF changes during a load-balancer migration.
-- references: https://attack.mitre.org/techniques/T1562/001/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.organizations-leave/,
-- references: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_upload-lists.html,
-- references: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_UpdateGuardrail.html
WITH candidates AS (
    SELECT *, request_parameters AS rp,
           -- Bedrock content filters that no longer block (PROMPT_ATTACK takes no output strength by design)
           CASE WHEN event_name = 'UpdateGuardrail' THEN list_transform(list_filter(
               tfh_list(request_parameters->'$.contentPolicyConfig.filtersConfig'), lambda f:
                   upper(f->>'$.inputStrength') = 'NONE'
                   OR (upper(f->>'$.outputStrength') = 'NONE' AND upper(coalesce(f->>'$.type', '')) <> 'PROMPT_ATTACK')
                   OR (f->>'$.inputEnabled') = 'false' OR (f->>'$.outputEnabled') = 'false'
                   OR upper(f->>'$.inputAction') = 'NONE' OR upper(f->>'$.outputAction') = 'NONE'),
               lambda f: coalesce(f->>'$.type', '?')) END AS weak_filters
    FROM events
    WHERE event_source IN ('guardduty.amazonaws.com', 'securityhub.amazonaws.com', 'config.amazonaws.com',
                           'detective.amazonaws.com', 'macie2.amazonaws.com', 'macie.amazonaws.com',
                           'inspector2.amazonaws.com', 'access-analyzer.amazonaws.com', 'wafv2.amazonaws.com',
                           'waf-regional.amazonaws.com', 'monitoring.amazonaws.com', 'events.amazonaws.com',
                           'bedrock.amazonaws.com')
      AND event_name IN ('DeleteDetector', 'UpdateDetector', 'DisassociateFromMasterAccount',
                         'DisassociateFromAdministratorAccount', 'DeleteMembers', 'DisassociateMembers',
                         'StopMonitoringMembers', 'CreateFilter', 'UpdateFilter', 'DeletePublishingDestination',
                         'CreateIPSet', 'UpdateIPSet', 'DisableSecurityHub', 'BatchDisableStandards',
                         'DisableImportFindingsForProduct', 'BatchUpdateFindings', 'UpdateFindings',
                         'StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel',
                         'DeleteGraph', 'DisassociateMembership', 'DisableMacie', 'UpdateMacieSession', 'Disable',
                         'DeleteAnalyzer', 'DisassociateWebACL', 'DeleteWebACL', 'DeleteAlarms', 'DisableAlarmActions',
                         'DeleteRule', 'DisableRule', 'RemoveTargets', 'DeleteGuardrail', 'UpdateGuardrail')
      AND tfh_ok(error_code, response_elements, event_name)
),
judged AS (
    SELECT *, CASE
        WHEN event_source = 'guardduty.amazonaws.com' THEN CASE
            WHEN event_name = 'UpdateDetector' THEN
                CASE WHEN (rp->>'$.enable') = 'false' THEN 'GuardDuty detector disabled' END
            WHEN event_name IN ('CreateFilter', 'UpdateFilter') THEN
                CASE WHEN upper(rp->>'$.action') = 'ARCHIVE'
                     THEN 'GuardDuty filter ' || coalesce(rp->>'$.name', rp->>'$.filterName', '?')
                          || ' auto-archives findings' END
            WHEN event_name IN ('CreateIPSet', 'UpdateIPSet') THEN
                'GuardDuty trusted IP list ' || coalesce(rp->>'$.name', rp->>'$.ipSetId', '?')
                || ' set from ' || coalesce(rp->>'$.location', '?')
            ELSE 'GuardDuty ' || event_name
        END
        WHEN event_source = 'securityhub.amazonaws.com' THEN CASE
            WHEN event_name = 'BatchUpdateFindings' THEN
                CASE WHEN upper(rp->>'$.Workflow.Status') = 'SUPPRESSED'
                     THEN 'Security Hub findings suppressed: '
                          || coalesce(CAST(json_array_length(rp, '$.FindingIdentifiers') AS VARCHAR), '?') || ' finding(s)' END
            WHEN event_name = 'UpdateFindings' THEN
                CASE WHEN upper(rp->>'$.RecordState') = 'ARCHIVED' THEN 'Security Hub findings archived' END
            ELSE 'Security Hub ' || event_name
        END
        WHEN event_source = 'config.amazonaws.com' THEN
            'AWS Config ' || event_name || ' ' || coalesce(rp->>'$.configurationRecorderName',
                                                          rp->>'$.deliveryChannelName', '')
        WHEN event_source IN ('macie2.amazonaws.com', 'macie.amazonaws.com') THEN CASE
            WHEN event_name = 'UpdateMacieSession' THEN
                CASE WHEN upper(rp->>'$.status') = 'PAUSED' THEN 'Macie paused' END
            ELSE 'Macie disabled'
        END
        WHEN event_source = 'detective.amazonaws.com' AND event_name IN ('DeleteGraph', 'DisassociateMembership') THEN
            'Detective ' || event_name
        WHEN event_source = 'inspector2.amazonaws.com' AND event_name = 'Disable' THEN
            'Inspector disabled' || coalesce(' for ' || array_to_string(rp->>'$.resourceTypes[*]', '/'), '')
        WHEN event_source = 'access-analyzer.amazonaws.com' AND event_name = 'DeleteAnalyzer' THEN
            'IAM Access Analyzer ' || coalesce(rp->>'$.analyzerName', '') || ' deleted'
        WHEN event_source IN ('wafv2.amazonaws.com', 'waf-regional.amazonaws.com') AND event_name = 'DisassociateWebACL' THEN
            'WAF web ACL removed from ' || coalesce(rp->>'$.resourceArn', rp->>'$.resourceArn', '?')
        WHEN user_identity_invoked_by IS NOT NULL THEN NULL  -- a stack or service cleaning up after itself
        WHEN event_name = 'DeleteWebACL' THEN 'WAF web ACL ' || coalesce(rp->>'$.name', rp->>'$.id', '?') || ' deleted'
        WHEN event_source = 'monitoring.amazonaws.com' THEN
            CASE event_name WHEN 'DeleteAlarms' THEN 'CloudWatch alarm(s) deleted: ' ELSE 'CloudWatch alarm actions disabled: ' END
            || coalesce(array_to_string(rp->>'$.alarmNames[*]', ', '), '?')
        WHEN event_source = 'events.amazonaws.com' THEN
            'EventBridge rule ' || coalesce(rp->>'$.name', rp->>'$.rule', '?') || CASE event_name
                WHEN 'DeleteRule' THEN ' deleted' WHEN 'DisableRule' THEN ' disabled'
                ELSE ' stripped of target(s) ' || coalesce(array_to_string(rp->>'$.ids[*]', ', '), '?') END
        WHEN event_name = 'DeleteGuardrail' THEN
            'Bedrock guardrail ' || coalesce(rp->>'$.guardrailIdentifier', '?') || ' deleted'
        WHEN event_name = 'UpdateGuardrail' THEN
            'Bedrock guardrail ' || coalesce(rp->>'$.guardrailIdentifier', '?') || ' weakened: ' || nullif(concat_ws('; ',
                CASE WHEN len(weak_filters) > 0
                     THEN 'content filter(s) ' || array_to_string(list_distinct(weak_filters), ', ') || ' not blocking' END,
                CASE WHEN json_type(rp, '$.contentPolicyConfig') = 'OBJECT'
                          AND len(tfh_list(rp->'$.contentPolicyConfig.filtersConfig')) = 0
                     THEN 'all content filters removed' END,
                CASE WHEN json_type(rp, '$.topicPolicyConfig') = 'OBJECT'
                          AND len(tfh_list(rp->'$.topicPolicyConfig.topicsConfig')) = 0
                     THEN 'all denied topics removed' END), '')
    END AS details
    FROM candidates
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details,
       CASE WHEN event_source IN ('monitoring.amazonaws.com', 'events.amazonaws.com', 'bedrock.amazonaws.com')
                 OR event_name = 'DeleteWebACL' THEN 'medium' END AS severity
FROM judged
WHERE details IS NOT NULL
ORDER BY event_time
