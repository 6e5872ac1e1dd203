-- id: traffic_mirroring
-- title: EC2 traffic mirroring set up or changed
-- severity: medium
-- attack: T1040
-- events: ec2.amazonaws.com:CreateTrafficMirrorSession, ec2.amazonaws.com:CreateTrafficMirrorTarget,
-- events: ec2.amazonaws.com:CreateTrafficMirrorFilter, ec2.amazonaws.com:CreateTrafficMirrorFilterRule,
-- events: ec2.amazonaws.com:ModifyTrafficMirrorSession, ec2.amazonaws.com:ModifyTrafficMirrorFilterRule,
-- events: ec2.amazonaws.com:ModifyTrafficMirrorFilterNetworkServices, ec2.amazonaws.com:DeleteTrafficMirrorSession,
-- events: ec2.amazonaws.com:DeleteTrafficMirrorTarget, ec2.amazonaws.com:DeleteTrafficMirrorFilter,
-- events: ec2.amazonaws.com:DeleteTrafficMirrorFilterRule
-- description: VPC traffic mirroring copies the packets of a network interface to a target of the caller's choice:
-- description: a network sniffer that needs no access to the instance. Sessions, targets, filters and filter rules
-- description: created or modified are medium; deletions (clean-up after sniffing) and failed attempts are low.
-- description: Calls made by AWS services are left out.
-- description: Request shapes read: NetworkInterfaceId, TrafficMirrorTargetId, TrafficMirrorFilterId and
-- description: TrafficMirrorSessionId at any depth: top level or inside the <Action>Request wrapper CloudTrail logs.
-- false_positives: Network monitoring and IDS appliances (the security or network team setting up mirroring).
-- references: https://attack.mitre.org/techniques/T1040/,
-- references: https://docs.aws.amazon.com/vpc/latest/mirroring/what-is-traffic-mirroring.html
WITH calls AS (
    SELECT *
    FROM events
    WHERE event_source = 'ec2.amazonaws.com'
      AND regexp_matches(event_name, '^(Create|Modify|Delete)TrafficMirror')
      AND user_identity_invoked_by IS NULL
      AND coalesce(user_identity_type, '') <> 'AWSService'
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'traffic mirroring ' || CASE WHEN starts_with(event_name, 'Delete') THEN 'removed'
                                    WHEN error_code IS NOT NULL THEN 'set-up attempt' ELSE 'set up' END || ': '
       || event_name || coalesce(' ' || nullif(concat_ws(', ',
              'interface ' || (request_parameters->>'$..NetworkInterfaceId')[1],
              'target ' || (request_parameters->>'$..TrafficMirrorTargetId')[1],
              'filter ' || (request_parameters->>'$..TrafficMirrorFilterId')[1],
              'session ' || (request_parameters->>'$..TrafficMirrorSessionId')[1]), ''), '')
       || CASE WHEN error_code IS NOT NULL THEN ' (failed: ' || error_code || ')' ELSE '' END AS details,
       CASE WHEN error_code IS NULL AND NOT starts_with(event_name, 'Delete') THEN 'medium' ELSE 'low' END AS severity
FROM calls
ORDER BY event_time
