-- id: region_first_use
-- title: First activity of an account in a region it had not used
-- severity: medium
-- attack: T1535
-- events: *
-- description: The first call in a region where the account has no earlier activity in the dataset, although the
-- description: dataset holds at least min_history_hours of that account's activity before it: attackers work in
-- description: regions nobody watches (enumeration, key pairs, miners). One hit per account and region: the first
-- description: call by a principal (AWS services acting for the account only count as earlier use, and a region
-- description: where only they act is not reported), with the
-- description: calls, writes, failures, principals and APIs of its first window_minutes. Medium when that window
-- description: holds writes, low for reads only. Insight events are left out.
-- description: Request shapes read: none (eventName, awsRegion, readOnly, errorCode, userIdentity only).
-- false_positives: Expansion into a new region; a new service whose global calls are logged in another region; a
-- false_positives: dataset too short to show the regions used once a week.
-- references: https://attack.mitre.org/techniques/T1535/,
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-regional-and-global-services
-- param: min_history_hours int 24 | Activity of the account in the dataset before a region counts as new
-- param: window_minutes int 60 | Time after the first call summarised in the details
WITH acts AS NOT MATERIALIZED (   -- read twice (baselines, first window) rather than held: it is every event
    SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
           recipient_account_id, event_name, event_id, error_code, read_only,
           coalesce(user_identity_type = 'AWSService', false) OR user_identity_invoked_by IS NOT NULL
           OR coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false) AS by_service
    FROM events
    WHERE event_time IS NOT NULL AND aws_region IS NOT NULL AND recipient_account_id IS NOT NULL
      AND coalesce(event_category, '') <> 'Insight'
),
regions AS (
    SELECT recipient_account_id, aws_region, min(event_time) AS region_first FROM acts GROUP BY ALL
),
accounts AS (
    SELECT recipient_account_id, min(region_first) AS account_first FROM regions GROUP BY ALL
),
new_regions AS (
    SELECT r.*, a.account_first,
           (SELECT min(o.region_first) FROM regions o
             WHERE o.aws_region = r.aws_region AND o.recipient_account_id <> r.recipient_account_id) AS others_first
    FROM regions r JOIN accounts a USING (recipient_account_id)
    WHERE r.region_first >= a.account_first + to_hours($min_history_hours)
),
early AS (   -- the activity of the first window in each new region
    SELECT a.*, n.region_first, n.account_first, n.others_first
    FROM acts a JOIN new_regions n USING (recipient_account_id, aws_region)
    WHERE a.event_time <= n.region_first + to_minutes($window_minutes)
),
summarised AS (
    SELECT *,
           count(*) OVER r AS calls,
           count(*) FILTER (WHERE read_only = false AND error_code IS NULL) OVER r AS writes,
           count(error_code) OVER r AS failures,
           count(DISTINCT actor) OVER r AS principals,
           list_sort(list_distinct(list(event_name) OVER r)) AS names
    FROM early
    WINDOW r AS (PARTITION BY recipient_account_id, aws_region)
    QUALIFY row_number() OVER (PARTITION BY recipient_account_id, aws_region
                               ORDER BY by_service, event_time, event_id) = 1
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'first activity of account ' || recipient_account_id || ' in ' || aws_region || ', '
       || CAST(date_diff('hour', account_first, event_time) AS VARCHAR) || ' h into its history'
       || CASE WHEN others_first IS NULL OR others_first > event_time
               THEN ' (no other account of the dataset used it before)' ELSE '' END
       || '; first ' || $window_minutes || ' min: ' || calls || ' call(s), ' || writes || ' successful write(s), '
       || failures || ' failed, ' || principals || ' principal(s): '
       || array_to_string(names[1:10], ', ') || CASE WHEN len(names) > 10 THEN ', +' || (len(names) - 10) || ' more'
                                                    ELSE '' END AS details,
       CASE WHEN writes > 0 THEN 'medium' ELSE 'low' END AS severity
FROM summarised
WHERE NOT by_service AND actor IS NOT NULL   -- AWS services alone in a region are not someone working there
ORDER BY event_time
