-- id: remote_instance_access
-- title: Remote command or interactive access to instances
-- severity: medium
-- attack: T1651, T1021.007, T1021.004, T1098.004
-- events: ssm.amazonaws.com:SendCommand, ssm.amazonaws.com:StartSession,
-- events: ec2-instance-connect.amazonaws.com:SendSSHPublicKey,
-- events: ec2-instance-connect.amazonaws.com:SendSerialConsoleSSHPublicKey, ec2.amazonaws.com:EnableSerialConsoleAccess
-- description: The first SSM SendCommand or StartSession of a principal (a role for role sessions) that had been
-- description: active for at least baseline_hours in the dataset without using it; a SendCommand aimed at
-- description: min_instances or more instances (or at tag targets); EC2 Instance Connect keys pushed to at least
-- description: min_connect_instances distinct instances within window_minutes; serial-console keys and enabling
-- description: serial-console access. Calls made by AWS services (State Manager) are left out.
-- description: Request shapes read: instanceIds[], targets[] (key InstanceIds with values[] counts as instances,
-- description: with value * as every instance; any other key, tag:..., resource-groups:..., as a fleet),
-- description: documentName (SendCommand); target (StartSession); instanceId (Instance Connect keys).
-- false_positives: Administrators' first session in the period covered; patching and fleet automation using
-- false_positives: SendCommand with tag targets.
-- references: https://attack.mitre.org/techniques/T1651/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ssm-send-command/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.lateral-movement.ec2-instance-connect/
-- param: baseline_hours int 48 | History a principal needs in the dataset before its first command or session counts as new
-- param: min_instances int 10 | SendCommand targeting at least this many instances is reported
-- param: window_minutes int 60 | Window for Instance Connect key pushes
-- param: min_connect_instances int 2 | Distinct instances receiving Instance Connect keys within the window
WITH calls AS (
    SELECT *, request_parameters AS rp
    FROM events
    WHERE event_name IN ('SendCommand', 'StartSession', 'SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey',
                         'EnableSerialConsoleAccess')
      AND event_source IN ('ssm.amazonaws.com', 'ec2-instance-connect.amazonaws.com', 'ec2.amazonaws.com')
      AND tfh_ok(error_code, response_elements, event_name)
      AND user_identity_invoked_by IS NULL
),
ssm AS (
    SELECT *,
           tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal,
           row_number() OVER (PARTITION BY tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor),
                              event_name ORDER BY event_time, event_id) AS nth,
           -- instances named in instanceIds[] or in targets [{key: InstanceIds, values: [...]}]
           coalesce(json_array_length(rp, '$.instanceIds'), 0)
           + len(flatten(list_transform(
                 list_filter(tfh_list(rp->'$.targets'), lambda t: lower(t->>'$.key') = 'instanceids'),
                 lambda t: coalesce(t->>'$.values[*]', [])))) AS targets,
           -- tags, resource groups, or every managed instance (InstanceIds *): a fleet, not a list
           len(list_filter(tfh_list(rp->'$.targets'),
                           lambda t: coalesce(lower(t->>'$.key'), '') <> 'instanceids'
                                     OR contains(CAST(t AS VARCHAR), '"*"'))) > 0 AS tag_targets
    FROM calls WHERE event_name IN ('SendCommand', 'StartSession')
),
principal_start AS (   -- whole-dataset baseline (main.events is never narrowed)
    SELECT tfh_principal(user_identity_type, user_identity_arn, session_issuer_arn, actor) AS principal,
           min(event_time) AS since
    FROM main.events
    WHERE (session_issuer_arn IN (SELECT principal FROM ssm WHERE nth = 1)
           OR user_identity_arn IN (SELECT principal FROM ssm WHERE nth = 1))
    GROUP BY 1
),
ssm_judged AS (
    SELECT s.*, p.since, s.nth = 1 AND s.event_time >= p.since + to_hours($baseline_hours) AS first_new
    FROM ssm s LEFT JOIN principal_start p USING (principal)
),
ssm_hits AS (
    SELECT *, concat_ws('; ',
        CASE WHEN first_new THEN 'first ' || event_name || ' by ' || principal || ' (active since '
                                 || strftime(since, '%Y-%m-%d') || ')' END,
        CASE WHEN targets >= $min_instances THEN 'command sent to ' || targets || ' instances' END,
        CASE WHEN tag_targets THEN 'command sent to tag, resource-group or all-instance targets' END)
        || coalesce(' (' || (rp->>'$.documentName') || ')', '')
        || coalesce(' to ' || (rp->>'$.target'), '') AS details
    FROM ssm_judged
    WHERE first_new OR targets >= $min_instances OR (event_name = 'SendCommand' AND tag_targets)
),
pushes AS (
    SELECT *, rp->>'$.instanceId' AS instance_id,
           count(DISTINCT rp->>'$.instanceId') OVER (PARTITION BY actor ORDER BY event_time
               RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW) AS n
    FROM calls WHERE event_name = 'SendSSHPublicKey'
),
push_hits AS (
    SELECT *, 'Instance Connect keys pushed to ' || n || ' instances in ' || $window_minutes || ' min' AS details
    FROM pushes
    WHERE n >= $min_connect_instances
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
serial AS (
    SELECT *, CASE event_name WHEN 'EnableSerialConsoleAccess' THEN 'serial console access enabled'
              ELSE 'serial console SSH key pushed to ' || coalesce(rp->>'$.instanceId', '?') END AS details
    FROM calls WHERE event_name IN ('SendSerialConsoleSSHPublicKey', 'EnableSerialConsoleAccess')
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details FROM ssm_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details FROM push_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details FROM serial
ORDER BY event_time
