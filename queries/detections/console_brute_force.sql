-- id: console_brute_force
-- title: Console brute force or password spraying
-- severity: medium
-- attack: T1110.001, T1110.003
-- events: signin.amazonaws.com:ConsoleLogin
-- description: Failed console sign-ins in bursts: at least min_failures failures from one source address, or at
-- description: least min_users distinct user names from one address (spraying), or at least min_failures failures for
-- description: one user from any addresses, within window_minutes. One hit per burst: the failure that reaches the
-- description: threshold; the details give the counts.
-- description: Request shapes read: none. Response shapes: a failure is responseElements.ConsoleLogin Failure,
-- description: errorMessage Failed authentication (or No username found in supplied account, with the user name
-- description: HIDDEN_DUE_TO_SECURITY_REASONS: counted per address, never per user) or any errorCode.
-- false_positives: A user who forgot a password; a password manager with a stale entry; a shared NAT address in
-- false_positives: front of many users (spraying threshold). Note that CloudTrail hides unknown user names.
-- references: https://attack.mitre.org/techniques/T1110/001/, https://attack.mitre.org/techniques/T1110/003/
-- param: window_minutes int 10 | Length of the sliding window
-- param: min_failures int 5 | Failures from one address, or for one user, within the window
-- param: min_users int 3 | Distinct user names failing from one address within the window
WITH failures AS (
    SELECT *, coalesce(user_identity_user_name, user_identity_arn, user_identity_principal_id, '?') AS target
    FROM events
    WHERE event_name = 'ConsoleLogin' AND event_source = 'signin.amazonaws.com'
      AND ((response_elements->>'$.ConsoleLogin') = 'Failure' OR error_message = 'Failed authentication'
           OR error_code IS NOT NULL)
),
by_ip AS (
    SELECT *, count(*) OVER w AS n, count(DISTINCT target) OVER w AS users
    FROM failures
    WHERE source_ip_address IS NOT NULL
    WINDOW w AS (PARTITION BY source_ip_address ORDER BY event_time
                 RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW)
),
ip_hits AS (
    SELECT *, n || ' failed console logins from ' || source_ip_address || ' in ' || $window_minutes || ' min ('
              || users || ' user name(s))' AS details
    FROM by_ip
    WHERE n >= $min_failures OR users >= $min_users
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY source_ip_address ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
by_user AS (
    SELECT *, count(*) OVER w AS n, count(DISTINCT source_ip_address) OVER w AS ips
    FROM failures
    WHERE target NOT IN ('?', 'HIDDEN_DUE_TO_SECURITY_REASONS')
    WINDOW w AS (PARTITION BY target ORDER BY event_time
                 RANGE BETWEEN to_minutes($window_minutes) PRECEDING AND CURRENT ROW)
),
user_hits AS (
    SELECT *, n || ' failed console logins for ' || target || ' in ' || $window_minutes || ' min from '
              || ips || ' address(es)' AS details
    FROM by_user
    WHERE n >= $min_failures
    QUALIFY coalesce(event_time - lag(event_time) OVER (PARTITION BY target ORDER BY event_time, event_id)
                     > to_minutes($window_minutes), true)
),
hits AS (
    SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
           aws_region AS region, recipient_account_id AS account, event_name, event_id, details
    FROM ip_hits
    UNION ALL
    SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent,
           aws_region, recipient_account_id, event_name, event_id, details
    FROM user_hits
)
SELECT event_time, actor, access_key, source_ip, user_agent, region, account, event_name, event_id,
       string_agg(details, '; ' ORDER BY details) AS details
FROM hits
GROUP BY ALL
ORDER BY event_time
