-- id: ec2_user_data_harvested
-- title: EC2 user data read in bulk
-- severity: medium
-- attack: T1552.005, T1580
-- events: ec2.amazonaws.com:DescribeInstanceAttribute
-- description: One principal reading the user data (DescribeInstanceAttribute attribute=userData) of at least
-- description: min_instances distinct instances within window_minutes: hunting for secrets in boot scripts. One hit
-- description: per burst. A sweep whose reads were refused (AccessDenied, Client.UnauthorizedOperation) is counted on
-- description: its own and reported as a denied attempt (one severity lower).
-- description: Request shapes read: requestParameters.attribute = userData with instanceId.
-- false_positives: Inventory tools and configuration audits that read user data.
-- references: https://attack.mitre.org/techniques/T1552/005/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.discovery.ec2-download-user-data/
-- param: window_minutes int 10 | Length of the sliding window
-- param: min_instances int 5 | Distinct instances within the window
WITH reads AS (
    SELECT *, request_parameters->>'$.instanceId' AS instance_id, tfh_denied(error_code) AS denied
    FROM events
    WHERE event_source = 'ec2.amazonaws.com' AND event_name = 'DescribeInstanceAttribute'
      AND (request_parameters->>'$.attribute') = 'userData'
      AND (error_code IS NULL OR tfh_denied(error_code))
      AND actor IS NOT NULL
),
counted AS (
    SELECT *, count(DISTINCT instance_id) OVER (PARTITION BY actor, denied ORDER BY event_time
                                               RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW) AS n
    FROM reads
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'user data of ' || n || ' instances ' || CASE WHEN denied THEN 'requested (denied: ' || error_code || ')'
       ELSE 'read' END || ' in ' || $window_minutes || ' min' AS details, denied AS attempt
FROM counted
WHERE n >= $min_instances
QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY actor, denied ORDER BY event_time, event_id)
                 > to_minutes($window_minutes), true)
ORDER BY event_time
