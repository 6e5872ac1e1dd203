-- id: ec2_user_data_modified
-- title: EC2 user data modified
-- severity: critical
-- attack: T1059.009, T1578
-- events: ec2.amazonaws.com:ModifyInstanceAttribute, ec2.amazonaws.com:StopInstances, ec2.amazonaws.com:StartInstances
-- description: ModifyInstanceAttribute changing an instance's user data: code that runs as root at the next boot
-- description: (persistence or execution). Critical when the same principal stopped that instance within
-- description: window_minutes before (the stop / change / start pattern), else high.
-- description: Request shapes read: ModifyInstanceAttribute instanceId with userData (a string, usually
-- description: <sensitiveDataRemoved>, or a {value} object: the --user-data form) or attribute userData with value
-- description: (the --attribute form); StopInstances instancesSet.items[].instanceId (a list, or one object).
-- false_positives: Configuration management that rewrites user data; AMI bake pipelines.
-- references: https://attack.mitre.org/techniques/T1059/009/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ec2-user-data/
-- param: window_minutes int 30 | How long before the change a StopInstances of the same instance counts
WITH changes AS (
    SELECT *, request_parameters->>'$.instanceId' AS instance_id
    FROM events
    WHERE event_source = 'ec2.amazonaws.com' AND event_name = 'ModifyInstanceAttribute'
      AND tfh_ok(error_code, response_elements, event_name)
      AND (json_type(request_parameters, '$.userData') IS NOT NULL
           OR (request_parameters->>'$.attribute') = 'userData')
),
stops AS (
    SELECT actor, event_time AS stopped_at,
           unnest(list_transform(tfh_list(request_parameters->'$.instancesSet.items'),
                                 lambda i: i->>'$.instanceId')) AS instance_id
    FROM events
    WHERE event_source = 'ec2.amazonaws.com' AND event_name = 'StopInstances'
      AND tfh_ok(error_code, response_elements, event_name)
),
judged AS (
    SELECT c.event_time, c.actor, c.user_identity_access_key_id, c.source_ip_address, c.user_agent, c.aws_region,
           c.recipient_account_id, c.event_name, c.event_id, c.instance_id, max(s.stopped_at) AS stopped_at
    FROM changes c LEFT JOIN stops s
      ON s.instance_id = c.instance_id AND s.actor = c.actor
     AND s.stopped_at <= c.event_time AND s.stopped_at >= c.event_time - to_minutes($window_minutes)
    GROUP BY ALL
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'user data of ' || coalesce(instance_id, '?') || ' modified' || coalesce(
           ' (instance stopped by the same principal ' || CAST(ceil(epoch(event_time - stopped_at) / 60) AS INTEGER)
           || ' min earlier)', '') AS details,
       CASE WHEN stopped_at IS NOT NULL THEN 'critical' ELSE 'high' END AS severity
FROM judged
ORDER BY event_time
