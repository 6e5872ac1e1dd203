-- id: console_login_after_failures
-- title: Console login succeeded after repeated failures
-- severity: high
-- attack: T1110.001, T1110.003, T1078.004
-- events: signin.amazonaws.com:ConsoleLogin
-- description: A successful console sign-in preceded, within window_minutes and since the previous successful
-- description: sign-in, by at least min_failures failed sign-ins from the same source address or for the same
-- description: user: a brute force or spray that worked.
-- description: Request shapes read: none. Response shapes: a failure is responseElements.ConsoleLogin Failure,
-- description: errorMessage Failed authentication or any errorCode; a success is responseElements.ConsoleLogin Success
-- description: without errorCode.
-- false_positives: A user who mistyped the password a few times; several people behind one NAT address.
-- references: https://attack.mitre.org/techniques/T1110/001/, https://attack.mitre.org/techniques/T1078/004/
-- param: window_minutes int 60 | How far back failures are counted
-- param: min_failures int 3 | Failures needed before the success
WITH logins AS (
    SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
           recipient_account_id, event_name, event_id,
           coalesce(user_identity_user_name, user_identity_arn, user_identity_principal_id, '?') AS target,
           coalesce(source_ip_address, '?') AS ip,
           CASE WHEN (response_elements->>'$.ConsoleLogin') = 'Failure' OR error_message = 'Failed authentication'
                     OR error_code IS NOT NULL THEN 1 ELSE 0 END AS failed,
           coalesce((response_elements->>'$.ConsoleLogin') = 'Success' AND error_code IS NULL, false) AS success
    FROM events
    WHERE event_name = 'ConsoleLogin' AND event_source = 'signin.amazonaws.com'
),
segmented AS (   -- a segment: the failures since the previous success, and the success that ends them
    SELECT *,
           coalesce(sum(success::INTEGER) OVER (PARTITION BY ip ORDER BY event_time, event_id
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS ip_seg,
           coalesce(sum(success::INTEGER) OVER (PARTITION BY target ORDER BY event_time, event_id
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS user_seg
    FROM logins
),
ended AS (
    SELECT *,
           max(CASE WHEN success THEN event_time END) OVER (PARTITION BY ip, ip_seg) AS ip_end,
           max(CASE WHEN success THEN event_time END) OVER (PARTITION BY target, user_seg) AS user_end
    FROM segmented
),
counted AS (
    SELECT *,
           count(*) FILTER (WHERE failed = 1 AND event_time >= ip_end - to_minutes($window_minutes))
               OVER (PARTITION BY ip, ip_seg) AS ip_failures,
           count(*) FILTER (WHERE failed = 1 AND event_time >= user_end - to_minutes($window_minutes))
               OVER (PARTITION BY target, user_seg) AS user_failures
    FROM ended
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       'console login of ' || target || ' succeeded after ' || greatest(ip_failures, user_failures)
       || ' failure(s) in the previous ' || $window_minutes || ' min (' || ip_failures || ' from this address, '
       || user_failures || ' for this user, since the previous success)' AS details
FROM counted
WHERE success
  AND (ip_failures >= $min_failures OR (user_failures >= $min_failures AND target <> '?'))
ORDER BY event_time
