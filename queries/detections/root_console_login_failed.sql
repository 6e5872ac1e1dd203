-- id: root_console_login_failed
-- title: Failed root console sign-in
-- severity: high
-- attack: T1110.001, T1078.004
-- events: signin.amazonaws.com:ConsoleLogin
-- description: A ConsoleLogin of the root user that failed (wrong password or MFA): someone holds, or is guessing,
-- description: the account's root e-mail address. One hit per account and source address per window_minutes
-- description: (the first failure, with the count): medium, high from min_failures failures on.
-- description: Request shapes read: responseElements.ConsoleLogin Failure (or an errorCode); errorMessage.
-- false_positives: The account owner mistyping the password; a password manager with an old password.
-- references: https://attack.mitre.org/techniques/T1110/001/,
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
-- param: window_minutes int 60 | Failures from one address grouped together
-- param: min_failures int 5 | Failures within the window that make the hit high
WITH failures AS (
    SELECT *, coalesce(source_ip_address, '') AS ip
    FROM events
    WHERE event_source = 'signin.amazonaws.com' AND event_name = 'ConsoleLogin'
      AND user_identity_type = 'Root'
      AND NOT tfh_ok(error_code, response_elements, event_name)
),
grouped AS (
    SELECT *, CASE WHEN event_time - lag(event_time) OVER (PARTITION BY recipient_account_id, ip
                                                           ORDER BY event_time, event_id)
                        <= to_minutes($window_minutes) THEN 0 ELSE 1 END AS starts
    FROM failures
),
numbered AS (
    SELECT *, sum(starts) OVER (PARTITION BY recipient_account_id, ip ORDER BY event_time, event_id) AS burst
    FROM grouped
),
counted AS (
    SELECT *, count(*) OVER b AS n, max(event_time) OVER b AS last_time
    FROM numbered
    WINDOW b AS (PARTITION BY recipient_account_id, ip, burst)
    QUALIFY row_number() OVER (PARTITION BY recipient_account_id, ip, burst ORDER BY event_time, event_id) = 1
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       n || ' failed root console sign-in(s) from ' || coalesce(source_ip_address, '?')
       || CASE WHEN n > 1 THEN ' until ' || strftime(last_time, '%Y-%m-%dT%H:%M:%SZ') ELSE '' END
       || coalesce(' (' || error_message || ')', '') AS details,
       CASE WHEN n >= $min_failures THEN 'high' ELSE 'medium' END AS severity
FROM counted
ORDER BY event_time
